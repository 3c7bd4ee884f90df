"""Event registrations in a member's data export and erasure.

Erasure gives up the member's places on events that have not ended, so the waiting list
moves up as if they had unregistered; past registrations go with the person.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.events import calendar as events
from core.kernel.clock import aware
from core.store.models import Member
from core.store.unit_of_work import UnitOfWork


async def export_for(uow: UnitOfWork, member: Member) -> list[dict]:
    return [
        {
            "event": event.id,
            "title": event.title,
            "starts_at": aware(event.starts_at).isoformat(),
            "status": registration.status,
            "since": aware(registration.since).isoformat() if registration.since else None,
            "registered_at": aware(registration.created_at).isoformat(),
        }
        for registration, event in await uow.events.registrations_of(member.id)
    ]


async def erase_for(uow: UnitOfWork, member: Member, now: datetime, tz: ZoneInfo) -> None:
    for registration, event in await uow.events.registrations_of(member.id):
        upcoming = aware(event.starts_at) > now or event.kind == "course"
        if registration.status in events.ACTIVE and upcoming:
            await events.unregister(uow, member, event.id, now, tz)
    await uow.events.delete_registrations_of(member.id)
