"""The Telegram handlers: every input goes to ``Assistant.handle``; Telegram only renders."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    filters,
)

from bot.handlers.buttons import on_button
from bot.handlers.errors import on_error
from bot.handlers.membership import on_my_chat_member
from bot.handlers.messages import on_other, on_text

# The update kinds the bot asks Telegram for.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    # Commands are text too: the core grammar parses them, so /biete@bot and typos are handled
    # the same way in every channel.
    application.add_handler(MessageHandler(private & filters.TEXT, on_text))
    application.add_handler(MessageHandler(private & ~filters.TEXT, on_other))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(on_error)
