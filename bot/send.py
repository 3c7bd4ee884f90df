"""Sending rendered replies through the bot (and so through the limiter)."""

from __future__ import annotations

from telegram import Bot, Message

from bot.limits import Priority
from bot.render import Outgoing, render_all
from core.kernel.replies import Reply


async def send_all(
    bot: Bot, chat_id: int | str, sends: list[Outgoing], priority: Priority | None = None
) -> list[Message]:
    """Send in order; each send waits for its slot in the limiter."""
    sent: list[Message] = []
    for item in sends:
        if item.document is not None:
            message = await bot.send_document(
                chat_id,
                document=item.document.data,
                filename=item.document.filename,
                caption=item.text or None,
                reply_markup=item.keyboard,
                rate_limit_args=priority,
            )
        else:
            message = await bot.send_message(
                chat_id, item.text, reply_markup=item.keyboard, rate_limit_args=priority
            )
        sent.append(message)
    return sent


async def send_replies(bot: Bot, chat_id: int | str, replies: list[Reply]) -> list[Message]:
    """Answer a member's own message: interactive priority."""
    return await send_all(bot, chat_id, render_all(replies), Priority.INTERACTIVE)
