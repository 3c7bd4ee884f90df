"""A member's saved interests in their data export and erasure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.kernel.clock import aware
from core.store.models import Member
from core.store.unit_of_work import UnitOfWork


async def export_for(uow: UnitOfWork, member: Member) -> dict | None:
    interest = await uow.interests.get(member.id)
    if interest is None:
        return None
    updated = aware(interest.updated_at).isoformat() if interest.updated_at else None
    return {"keywords": interest.keywords, "updated_at": updated}


async def erase_for(uow: UnitOfWork, member: Member, now: datetime, tz: ZoneInfo) -> None:
    await uow.interests.remove_for(member.id)
