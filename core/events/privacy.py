"""Event registrations in a member's data export and erasure.

Erasure gives up the member's places on events that have not ended, so the waiting list
moves up as if they had unregistered; past registrations go with the person.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from core.events import calendar as events
from core.kernel.clock import aware
from core.store.models import Event, Member, Registration
from core.store.unit_of_work import UnitOfWork


async def _registrations(uow: UnitOfWork, member: Member) -> list[tuple[Registration, Event]]:
    stmt = (
        select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.member_id == member.id)
        .order_by(Registration.created_at, Registration.id)
    )
    return [(registration, event) for registration, event in (await uow.session.execute(stmt))]


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
        for registration, event in await _registrations(uow, member)
    ]


async def erase_for(uow: UnitOfWork, member: Member, now: datetime, tz: ZoneInfo) -> None:
    for registration, event in await _registrations(uow, member):
        upcoming = aware(event.starts_at) > now or event.kind == "course"
        if registration.status in events.ACTIVE and upcoming:
            await events.unregister(uow, member, event.id, now, tz)
    await uow.session.execute(delete(Registration).where(Registration.member_id == member.id))
