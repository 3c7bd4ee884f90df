"""Helpers for event, reminder and digest tests: members, events, outbox reads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.events import calendar as events
from core.events.ics import EventData
from core.members.accounts import NewMember, add_member
from core.store.models import OutboxMessage
from core.store.unit_of_work import Database

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULTS = events.ReminderDefaults()


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


async def add_people(
    db: Database, now: datetime, count: int, *, channel: str = "email", role: str = "mayor"
) -> list[int]:
    """``count`` consenting members reachable by email or Telegram; returns their ids."""
    ids = []
    async with db.uow() as uow:
        for n in range(count):
            new = NewMember(
                name=f"Person {n}",
                role=role,
                municipality_ags="12073452",
                email=f"p{n}.{role}@example.org" if channel == "email" else None,
                telegram_chat_id=900_000 + n if channel == "telegram" else None,
                consent=True,
            )
            ids.append((await add_member(uow, new, now)).id)
        await uow.commit()
    return ids


async def add_event(db: Database, now: datetime, **fields) -> int:
    fields.setdefault("title", "Online-Seminar Daseinsvorsorge")
    data = EventData(**fields)
    async with db.uow() as uow:
        event = await events.create(uow, data, now, DEFAULTS)
        await uow.commit()
        return event.id


async def register(db: Database, member_ids, event_id: int, now: datetime) -> None:
    async with db.uow() as uow:
        for member_id in member_ids:
            member = await uow.members.get(member_id)
            await events.register(uow, member, event_id, now, BERLIN)
        await uow.commit()


async def outbox(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    async with db.uow() as uow:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list((await uow.session.scalars(stmt)).all())
