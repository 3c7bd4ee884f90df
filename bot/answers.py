"""Answering a member who waits: now if Telegram takes it, else through the outbox.

The member's input was already acted on and committed when the answers are sent, so a
failure here is a delivery problem only: the answers that did not go out are queued in the
outbox (retried there, rerouted when the bot is blocked). Nothing here tells the member their
input was lost, and nothing here raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from telegram import Bot
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.deps import deps
from bot.limits import Priority
from bot.outcomes import outcome_unknown
from bot.ratelimiter import retry_seconds
from bot.render import render
from bot.send import send_all
from core.kernel.replies import Reply
from core.messaging import delivery
from core.store.unit_of_work import Database

log = logging.getLogger(__name__)
CHANNEL = "telegram"
RETRY_SOON = timedelta(seconds=2)


async def reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]) -> None:
    """What the handlers call: ``answer`` with the process's bot, database and clock."""
    d = deps(context)
    clock = d.assistant.services.clock
    await answer(context.bot, d.db, clock, chat_id, replies, d.on_queued, d.unknown_pause)


async def answer(
    bot: Bot,
    db: Database,
    clock,
    chat_id: int,
    replies: list[Reply],
    on_queued: Callable[[], None] | None = None,
    unknown_pause: timedelta = delivery.UNKNOWN_PAUSE,
) -> None:
    """Send ``replies`` in order; the first that fails and all after it go to the outbox."""
    for index, item in enumerate(replies):
        try:
            # A reply split into several messages is queued whole if a later part fails.
            await send_all(bot, chat_id, render(item), Priority.INTERACTIVE)
        except TelegramError as error:
            await _queue(db, clock, chat_id, replies[index:], error, unknown_pause)
            if on_queued is not None:
                on_queued()
            return


async def _queue(
    db: Database,
    clock,
    chat_id: int,
    rest: list[Reply],
    error: TelegramError,
    unknown_pause: timedelta,
) -> None:
    dead = isinstance(error, Forbidden)
    unknown = outcome_unknown(error)
    delay = RETRY_SOON
    if isinstance(error, RetryAfter):
        delay = timedelta(seconds=retry_seconds(error))
    elif unknown:
        delay = unknown_pause
    try:
        async with db.uow() as uow:
            await delivery.answer_later(
                uow,
                CHANNEL,
                str(chat_id),
                rest,
                clock(),
                dead=dead,
                delay=timedelta(0) if dead else delay,
                unconfirmed=1 if unknown else 0,
            )
            await uow.commit()
    except Exception as failure:  # the database is away too: nothing more we can do
        log.error(
            "%d answer(s) to chat %s neither delivered nor queued: %s, %s",
            len(rest),
            chat_id,
            type(error).__name__,
            type(failure).__name__,
        )
        return
    log.warning(
        "%d answer(s) to chat %s queued in the outbox (%s%s)",
        len(rest),
        chat_id,
        type(error).__name__,
        ", outcome unknown" if unknown else "",
    )
