"""Text a member writes (commands, dialogue answers, free text) and everything else."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.answers import reply
from bot.deps import deps, event_of, sender_of
from core.kernel.replies import Reply
from core.kernel.texts import t

log = logging.getLogger(__name__)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None  # filters.TEXT
    replies = await deps(context).assistant.handle(
        sender_of(update), message.text, event=event_of(update)
    )
    log.info(
        "telegram update %s from chat %s: %d replies",
        update.update_id,
        message.chat_id,
        len(replies),
    )
    await reply(context, message.chat_id, replies)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, files, stickers, voice: the assistant works with text only."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return  # an edit of an earlier message is not a new request
    await reply(context, message.chat_id, [Reply(t("telegram.text_only"))])
