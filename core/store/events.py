"""Persistence of events: the calendar, registrations and the queries of the reminder sweep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.models import (
    Event,
    EventMaterial,
    KnowledgeEntry,
    Member,
    OutboxMessage,
    Registration,
)


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- the calendar -------------------------------------------------------------------

    async def get(self, event_id: int) -> Event | None:
        return await self.session.get(Event, event_id)

    async def by_ids(self, ids: Iterable[int]) -> list[Event]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        return list((await self.session.scalars(select(Event).where(Event.id.in_(wanted)))).all())

    async def locked(self, event_id: int) -> Event | None:
        """The event row, locked on PostgreSQL so two last-seat registrations queue up."""
        stmt = select(Event).where(Event.id == event_id)
        if self.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def by_uid(self, uid: str) -> Event | None:
        return await self.session.scalar(select(Event).where(Event.uid == uid))

    async def upcoming(self, now: datetime, statuses: Sequence[str]) -> Sequence[Event]:
        """Events (not modules) that have not started or, for courses, not ended."""
        stmt = (
            select(Event)
            .where(Event.parent_id.is_(None), Event.status.in_(statuses))
            .where(func.coalesce(Event.ends_at, Event.starts_at) >= now)
            .order_by(Event.starts_at, Event.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def link_material(self, event_id: int, entry_id: int, now: datetime) -> bool:
        """Tie a knowledge entry to an event; False when it was tied before."""
        if await self.session.get(EventMaterial, (event_id, entry_id)) is not None:
            return False
        self.session.add(EventMaterial(event_id=event_id, entry_id=entry_id, created_at=now))
        await self.session.flush()
        return True

    async def unlink_material(self, event_id: int, entry_id: int) -> bool:
        row = await self.session.get(EventMaterial, (event_id, entry_id))
        if row is None:
            return False
        await self.session.delete(row)
        return True

    async def materials(self, event_ids: Iterable[int]) -> dict[int, list[KnowledgeEntry]]:
        """The entries tied to each event, in the order they were linked."""
        ids = list(event_ids)
        found: dict[int, list[KnowledgeEntry]] = {i: [] for i in ids}
        if not ids:
            return found
        stmt = (
            select(EventMaterial.event_id, KnowledgeEntry)
            .join(KnowledgeEntry, KnowledgeEntry.id == EventMaterial.entry_id)
            .where(EventMaterial.event_id.in_(ids))
            .order_by(EventMaterial.created_at, EventMaterial.entry_id)
        )
        for event_id, entry in (await self.session.execute(stmt)).all():
            found[event_id].append(entry)
        return found

    async def past_with_material(self, since: datetime, now: datetime) -> Sequence[Event]:
        """Published events (not modules) over since ``since`` that have material, latest first."""
        stmt = (
            select(Event)
            .where(Event.parent_id.is_(None), Event.status == "published")
            .where(func.coalesce(Event.ends_at, Event.starts_at) < now)
            .where(func.coalesce(Event.ends_at, Event.starts_at) >= since)
            .where(Event.id.in_(select(EventMaterial.event_id)))
            .order_by(Event.starts_at.desc(), Event.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def modules(self, course_id: int) -> Sequence[Event]:
        stmt = select(Event).where(Event.parent_id == course_id).order_by(Event.starts_at)
        return (await self.session.scalars(stmt)).all()

    async def starting_between(self, after: datetime, until: datetime) -> Sequence[Event]:
        """Published events that start after ``after`` and no later than ``until``."""
        stmt = select(Event).where(
            Event.status == "published", Event.starts_at > after, Event.starts_at <= until
        )
        return (await self.session.scalars(stmt)).all()

    async def withdraw_reminders(self, event_ref: str) -> None:
        """Reminders queued for an event's old details must not go out any more."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == "event_reminder",
                OutboxMessage.ref == event_ref,
                OutboxMessage.status == "pending",
            )
            .values(status="withdrawn")
        )

    # --- registrations ------------------------------------------------------------------

    async def counts(
        self, event_ids: Sequence[int], statuses: Sequence[str]
    ) -> list[tuple[int, str, int]]:
        """(event id, status, number of registrations) for the given events and statuses."""
        stmt = (
            select(Registration.event_id, Registration.status, func.count())
            .where(Registration.event_id.in_(event_ids), Registration.status.in_(statuses))
            .group_by(Registration.event_id, Registration.status)
        )
        return [(event_id, status, n) for event_id, status, n in await self.session.execute(stmt)]

    async def participants(
        self, event_id: int, statuses: Sequence[str]
    ) -> Sequence[tuple[Registration, Member]]:
        stmt = (
            select(Registration, Member)
            .join(Member, Member.id == Registration.member_id)
            .where(Registration.event_id == event_id, Registration.status.in_(statuses))
            .order_by(Registration.since, Registration.id)
        )
        return (await self.session.execute(stmt)).unique().all()

    async def statuses_of(
        self, member_id: int, event_ids: Iterable[int], statuses: Sequence[str]
    ) -> dict[int, str]:
        """{event id: the member's registration status} for the given events."""
        stmt = select(Registration.event_id, Registration.status).where(
            Registration.member_id == member_id,
            Registration.event_id.in_(list(event_ids)),
            Registration.status.in_(statuses),
        )
        return dict((await self.session.execute(stmt)).all())

    async def registration(
        self, event_id: int, member_id: int, statuses: Sequence[str] | None = None
    ) -> Registration | None:
        stmt = select(Registration).where(
            Registration.event_id == event_id, Registration.member_id == member_id
        )
        if statuses is not None:
            stmt = stmt.where(Registration.status.in_(statuses))
        return await self.session.scalar(stmt)

    async def registrations_of(self, member_id: int) -> list[tuple[Registration, Event]]:
        stmt = (
            select(Registration, Event)
            .join(Event, Event.id == Registration.event_id)
            .where(Registration.member_id == member_id)
            .order_by(Registration.created_at, Registration.id)
        )
        return [(registration, event) for registration, event in await self.session.execute(stmt)]

    async def delete_registrations_of(self, member_id: int) -> None:
        await self.session.execute(delete(Registration).where(Registration.member_id == member_id))

    async def registered_audience(self, event_ids: Iterable[int]) -> list:
        """Plain rows (event id, registered since, the member's reachability columns) of the
        members registered for the events: a sweep may touch ten thousand registrations."""
        stmt = (
            select(
                Registration.event_id,
                Registration.since,
                Member.id,
                Member.email,
                Member.telegram_chat_id,
                Member.preferred_channel,
                Member.telegram_unreachable_at,
                Member.email_suspended_at,
                Member.erased_at,
            )
            .join(Member, Member.id == Registration.member_id)
            .where(
                Registration.event_id.in_(sorted(set(event_ids))),
                Registration.status == "registered",
                Member.erased_at.is_(None),
            )
        )
        return list((await self.session.execute(stmt)).all())
