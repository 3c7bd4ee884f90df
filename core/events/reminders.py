"""The reminder sweep: queue every reminder that is due now and not yet queued.

Idempotent: each reminder has an outbox dedupe key
``reminder:<event>:<start as epoch seconds>:<offset>:<member>``; a second sweep (or a
restarted process) finds the keys and queues nothing, and a changed start time gives
new keys while the old time's reminders are simply never due again. The rows are
written in bulk with "on conflict do nothing", so even two overlapping sweeps cannot
queue one reminder twice. Due times and the grace window: ``core.events.timing``.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.events.calendar import details, ref
from core.events.ics import ics_attachment
from core.events.timing import MAX_OFFSET, due_at, is_due, lead_text
from core.kernel.clock import aware
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.messaging.outbox import attachment_json, channel_for, message_fields
from core.store.models import Event, OutboxMessage
from core.store.unit_of_work import UnitOfWork, insert_ignoring_duplicates

log = logging.getLogger(__name__)

KIND = "event_reminder"
# Outbox columns whose values a sweep serialises once per reminder (or per event's
# calendar file) and shares between all its rows.
JSON_COLUMNS = ("choices", "attachments", "meta")


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
    due = []
    for event in await uow.events.starting_between(now, now + MAX_OFFSET):
        for offset in event.reminder_offsets or ():
            if is_due(event.starts_at, offset, tz, now):
                due.append(DueReminder(event, offset, due_at(event.starts_at, offset, tz)))
    return due


async def _registered(uow: UnitOfWork, audience_ids: Iterable[int]) -> dict[int, list]:
    """Per event: (row of the member's reachability columns, registered since (aware)).

    Plain rows rather than entities: a sweep may touch ten thousand registrations.
    """
    by_event: dict[int, list] = defaultdict(list)
    for row in await uow.events.registered_audience(audience_ids):
        by_event[row.event_id].append((row, aware(row.since)))
    return by_event


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
    wanted = []
    for reminder in due:
        prefix, due_moment = reminder.key_prefix, reminder.due
        wanted.extend(
            (prefix + str(member.id), reminder, member)
            for member, since in audiences.get(reminder.audience_id, ())
            # A member who got their place after the due moment already knows the date.
            if since <= due_moment
        )
    existing = await uow.outbox.existing_keys([key for key, _, _ in wanted])
    courses = {
        e.id: e for e in await _courses(uow, {r.event.parent_id for r in due if r.event.parent_id})
    }
    # What all rows of one reminder share, built and serialised once: ten thousand rows
    # differ only in member, channel, address, dedupe key and (for email) the calendar.
    templates: dict[tuple[int, str], dict] = {}
    calendars: dict[int, str] = {}
    rows = []
    for key, reminder, member in wanted:
        if key in existing:
            continue
        target = channel_for(member)
        if target is None:
            continue
        event = reminder.event
        template = templates.get((event.id, reminder.offset))
        if template is None:
            try:
                template = _template(reminder, member, courses, tz, now)
            except Exception as error:  # one broken event must not hold up the others
                template = None
                _log_skipped(event.id, error)
            templates[(event.id, reminder.offset)] = template
        if template is None:
            continue
        channel, address = target
        row = {
            **template,
            "member_id": member.id,
            "channel": channel,
            "address": address,
            "dedupe_key": key,
        }
        if channel == "email":
            if event.id not in calendars:
                try:
                    calendars[event.id] = json.dumps([attachment_json(ics_attachment(event, now))])
                except Exception as error:  # the reminder still goes, without the calendar
                    _log_skipped(event.id, error)
                    calendars[event.id] = template["attachments"]
            row["attachments"] = calendars[event.id]
        rows.append(row)
    await insert_ignoring_duplicates(uow, OutboxMessage, rows, encoded_json=JSON_COLUMNS)
    return len(rows)


_SKIPPED: dict[int, str] = {}  # event id -> the error last logged for it


def _log_skipped(event_id: int, error: Exception) -> None:
    """One line per broken event and error, not one per tick."""
    text = f"{type(error).__name__}: {' '.join(str(error).split())}"[:300]
    if _SKIPPED.get(event_id) != text:
        _SKIPPED[event_id] = text
        log.error("reminders of event %s skipped: %s", event_id, text)


def _template(
    reminder: DueReminder, member, courses: dict[int, Event], tz: ZoneInfo, now: datetime
) -> dict:
    """One reminder's outbox row (for ``member``), its JSON columns already serialised.

    ``message_fields`` stays the one row builder; of its columns only member_id,
    channel, address and dedupe_key depend on the member, and the sweep sets those per row.
    """
    event = reminder.event
    course = courses.get(event.parent_id) if event.parent_id else None
    fields = message_fields(
        member,
        reminder_reply(event, reminder.offset, tz, course),
        kind=KIND,
        now=now,
        subject=t("events.subject_reminder", title=event.title),
    )
    if fields is None:  # the caller checked the member is reachable
        raise ValueError(f"member {member.id} has no channel")
    for name in JSON_COLUMNS:
        fields[name] = json.dumps(fields[name])
    return fields


async def _courses(uow: UnitOfWork, ids: set[int]) -> list[Event]:
    return await uow.events.by_ids(ids)
