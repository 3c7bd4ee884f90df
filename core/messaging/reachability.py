"""A member's Telegram chat becoming unreachable or reachable again (bot blocked/unblocked).

Delivery failures are recorded by ``core.messaging.delivery.mark_unreachable``; this module
handles the notice Telegram sends when a member blocks or unblocks the bot, before any
message fails.
"""

from __future__ import annotations

from datetime import datetime

from core.store.unit_of_work import UnitOfWork


async def telegram_blocked(uow: UnitOfWork, chat_id: int, now: datetime) -> bool:
    """Later messages go to the member's other channel; True if a member was affected."""
    member = await uow.members.by_telegram(chat_id)
    if member is None or member.erased_at is not None:
        return False
    if member.telegram_unreachable_at is None:
        member.telegram_unreachable_at = now
    return True


async def telegram_unblocked(uow: UnitOfWork, chat_id: int) -> bool:
    member = await uow.members.by_telegram(chat_id)
    if member is None or member.erased_at is not None:
        return False
    member.telegram_unreachable_at = None
    return True
