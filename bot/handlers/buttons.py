"""Button presses: the callback data is the choice's command, fed to the assistant."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.answers import reply
from bot.deps import deps, event_of, sender_of
from bot.render import TEXT_MAX
from core.kernel.texts import t

log = logging.getLogger(__name__)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None
    try:
        await query.answer()  # stop the spinner on the member's button at once
    except TelegramError as error:  # too old to answer, or Telegram trouble: the press counts
        log.info("callback query not answered: %s", error.message)
    if chat is None or chat.type != ChatType.PRIVATE or not query.data:
        return
    replies = await deps(context).assistant.handle(
        sender_of(update), query.data, event=event_of(update)
    )
    log.info("telegram update %s from chat %s: %d replies", update.update_id, chat.id, len(replies))
    await mark_chosen(query)
    await reply(context, chat.id, replies)


def _label(message: Message, data: str) -> str | None:
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


async def mark_chosen(query: CallbackQuery) -> None:
    """Take the keyboard off the pressed message and say what was chosen, so the same
    question cannot be answered twice by accident."""
    message = query.message
    if not isinstance(message, Message):
        return  # too old to be edited
    label = _label(message, query.data or "")
    try:
        if message.text and label:
            text = f"{message.text}\n\n{t('telegram.chosen', label=label)}"
            if len(text) <= TEXT_MAX:
                await query.edit_message_text(text)  # without markup: the keyboard goes
                return
        if message.reply_markup is not None:
            await query.edit_message_reply_markup(None)
    except BadRequest as error:
        # Already edited (a second press arrived before the first edit) or too old.
        log.info("pressed message %s not edited: %s", message.message_id, error.message)
    except TelegramError as error:  # cosmetic only: the choice itself was acted on
        log.warning("pressed message %s not edited: %s", message.message_id, type(error).__name__)
