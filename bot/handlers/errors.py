"""Any exception in a handler: log it without content, apologise, carry on."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot.answers import reply
from bot.deps import deps
from core.kernel.replies import Reply
from core.kernel.texts import t
from core.messaging import reachability

log = logging.getLogger(__name__)


def describe(error: BaseException | None) -> str:
    """Type and stack of an error, without its message: messages of database or API errors
    can quote what the member wrote."""
    if error is None:
        return "unknown error"
    stack = "".join(traceback.format_tb(error.__traceback__)).rstrip()
    return f"{type(error).__module__}.{type(error).__qualname__}\n{stack}"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not isinstance(update, Update):
        # Polling or network trouble: PTB retries by itself.
        log.warning("telegram: %s", describe(context.error).splitlines()[0])
        return
    log.error("update %s failed: %s", update.update_id, describe(context.error))
    chat = update.effective_chat
    if chat is None:
        return
    if isinstance(context.error, Forbidden):
        await _mark_blocked(context, chat.id)
        return
    # The handler failed before its transaction committed: nothing was stored, so the
    # apology is true. It is an answer like any other: queued if it cannot go out now.
    await reply(context, chat.id, [Reply(t("common.error_apology"))])


async def _mark_blocked(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    services = deps(context).assistant.services
    async with deps(context).db.uow() as uow:
        await reachability.telegram_blocked(uow, chat_id, services.clock())
        await uow.commit()
