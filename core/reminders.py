"""The reminder sweep: queue every reminder that is due now and not yet queued.

Idempotent: each reminder has an outbox dedupe key
``reminder:<event>:<start as epoch seconds>:<offset>:<member>``; a second sweep (or a
restarted process) finds the keys and queues nothing, and a changed start time gives
new keys while the old time's reminders are simply never due again. The rows are
written in bulk with "on conflict do nothing", so even two overlapping sweeps cannot
queue one reminder twice. Due times and the grace window: ``core.event_time``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.clock import aware
from core.event_ics import ics_attachment
from core.event_time import MAX_OFFSET, due_at, is_due, lead_text
from core.events import details, ref
from core.models import Event, Member, OutboxMessage, Registration
from core.outbox import attachment_json, message_fields
from core.replies import Choice, Reply
from core.store import UnitOfWork, insert_ignoring_duplicates
from core.texts import t

KIND = "event_reminder"
KEY_CHUNK = 1000  # dedupe keys per IN (...) query, well below every driver's limit


@dataclass(frozen=True)
class DueReminder:
    event: Event
    offset: str
    due: datetime

    @property
    def audience_id(self) -> int:
        """Members register for a course; its modules remind the course's participants."""
        return self.event.parent_id or self.event.id

    @property
    def key_prefix(self) -> str:
        stamp = int(aware(self.event.starts_at).timestamp())
        return f"reminder:{self.event.id}:{stamp}:{self.offset}:"

    def key(self, member_id: int) -> str:
        return self.key_prefix + str(member_id)


async def due_reminders(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> list[DueReminder]:
    stmt = select(Event).where(
        Event.status == "published",
        Event.starts_at > now,
        Event.starts_at <= now + MAX_OFFSET,
    )
    due = []
    for event in (await uow.session.scalars(stmt)).all():
        for offset in event.reminder_offsets or ():
            if is_due(event.starts_at, offset, tz, now):
                due.append(DueReminder(event, offset, due_at(event.starts_at, offset, tz)))
    return due


async def _registered(uow: UnitOfWork, audience_ids: Iterable[int]) -> dict[int, list]:
    """Per event: rows of (since, and the member's reachability columns).

    Plain rows rather than entities: a sweep may touch ten thousand registrations.
    """
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
            Registration.event_id.in_(sorted(set(audience_ids))),
            Registration.status == "registered",
            Member.erased_at.is_(None),
        )
    )
    by_event: dict[int, list] = defaultdict(list)
    for row in (await uow.session.execute(stmt)).all():
        by_event[row.event_id].append(row)
    return by_event


async def _existing(uow: UnitOfWork, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        stmt = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
        found.update(await uow.session.scalars(stmt))
    return found


def reminder_reply(event: Event, offset: str, tz: ZoneInfo, course: Event | None) -> Reply:
    text = t(
        "events.reminder",
        lead=lead_text(offset),
        title=event.title,
        course=t("events.of_course", course=course.title) if course else "",
        details=details(event, tz),
    )
    audience = course or event
    choices = [Choice(t("events.choice_unregister"), f"/abmelden {audience.id}")]
    return Reply(text, choices, ref=ref(event))


async def sweep_reminders(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> int:
    """Queue the due reminders; returns how many were queued (0 on a repeated sweep)."""
    due = await due_reminders(uow, now, tz)
    if not due:
        return 0
    audiences = await _registered(uow, (d.audience_id for d in due))
    wanted = [
        (reminder.key_prefix + str(member.id), reminder, member)
        for reminder in due
        for member in audiences.get(reminder.audience_id, ())
        # A member who got their place after the due moment already knows the date.
        if aware(member.since) <= reminder.due
    ]
    existing = await _existing(uow, [key for key, _, _ in wanted])
    courses = {
        e.id: e for e in await _courses(uow, {r.event.parent_id for r in due if r.event.parent_id})
    }
    replies: dict[tuple[int, str], Reply] = {}
    calendars: dict[int, list[dict]] = {}
    rows = []
    for key, reminder, member in wanted:
        if key in existing:
            continue
        event = reminder.event
        reply = replies.get((event.id, reminder.offset))
        if reply is None:
            course = courses.get(event.parent_id) if event.parent_id else None
            reply = replies[(event.id, reminder.offset)] = reminder_reply(
                event, reminder.offset, tz, course
            )
        row = message_fields(
            member,
            reply,
            kind=KIND,
            now=now,
            subject=t("events.subject_reminder", title=event.title),
            dedupe_key=key,
        )
        if row is None:
            continue
        if row["channel"] == "email":
            if event.id not in calendars:
                calendars[event.id] = [attachment_json(ics_attachment(event, now))]
            row["attachments"] = calendars[event.id]
        rows.append(row)
    await insert_ignoring_duplicates(uow, OutboxMessage, rows)
    return len(rows)


async def _courses(uow: UnitOfWork, ids: set[int]) -> list[Event]:
    if not ids:
        return []
    return list((await uow.session.scalars(select(Event).where(Event.id.in_(ids)))).all())
