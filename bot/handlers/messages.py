"""Text a member writes (commands, dialogue answers, free text) and everything else."""

from __future__ import annotations

import logging

from telegram import Document, Update
from telegram.ext import ContextTypes

from bot.answers import reply
from bot.deps import deps, event_of, sender_of
from core.kernel.replies import IncomingFile, Reply
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
    """Photos, files, stickers, voice: the assistant works with text only, except for a
    document whose caption is a command that takes files (``/wissen_vorschlagen``)."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return  # an edit of an earlier message is not a new request
    assistant = deps(context).assistant
    caption = message.caption or ""
    if message.document is not None and assistant.grammar.takes_files(caption):
        file = await _document(message.document, assistant.services.knowledge.receive_limit(
            "telegram"))  # fmt: skip
        replies = await assistant.handle(
            sender_of(update), caption, event=event_of(update), files=(file,)
        )
        await reply(context, message.chat_id, replies)
        return
    await reply(context, message.chat_id, [Reply(t("telegram.text_only"))])


async def _document(document: Document, limit: int) -> IncomingFile:
    """The document's bytes; one larger than ``limit`` is not fetched (marked incomplete)."""
    name = document.file_name or ""
    media_type = document.mime_type or "application/octet-stream"
    if document.file_size is not None and document.file_size > limit:
        return IncomingFile(name, media_type, b"", complete=False)
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    return IncomingFile(name, media_type, data)
