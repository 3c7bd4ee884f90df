"""iCalendar in and out: importing staff calendars, attaching events to emails.

Import reads VEVENTs (DTSTART/DTEND/SUMMARY/DESCRIPTION/LOCATION/URL, VALARM triggers
as reminder offsets, ``X-ZR-KIND``, ``X-ZR-CAPACITY``, ``RELATED-TO`` for course modules,
``STATUS:CANCELLED``). Export writes one VEVENT with a stable UID and the event's
SEQUENCE, so calendar programs update or cancel the entry they already have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from core.events.timing import format_offset, parse_offset
from core.kernel.clock import aware
from core.kernel.errors import ImportFileError
from core.kernel.replies import Attachment
from core.kernel.texts import t
from core.store.models import Event

PRODID = "-//Zukunftsraum//Assistent//DE"
KIND_WORDS = {
    "seminar": "seminar",
    "online-seminar": "seminar",
    "webinar": "seminar",
    "course": "course",
    "kurs": "course",
    "e-learning": "course",
    "meeting": "meeting",
    "netzwerktreffen": "meeting",
    "treffen": "meeting",
}


@dataclass
class EventData:
    """An event as a staff member or a calendar file describes it."""

    title: str
    starts_at: datetime
    kind: str = "seminar"
    ends_at: datetime | None = None
    description: str = ""
    location: str = ""
    url: str = ""
    capacity: int | None = None
    reminder_offsets: list[str] | None = None  # None: the defaults for the kind
    uid: str | None = None
    parent_uid: str | None = None
    cancelled: bool = False


def _moment(value, tz: ZoneInfo) -> datetime:
    """DTSTART values: floating and all-day times are read in the network's zone."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz).astimezone(UTC)
    raise ValueError(f"not a date: {value!r}")


def _offsets(vevent, starts_at: datetime) -> list[str] | None:
    offsets = []
    for alarm in vevent.walk("VALARM"):
        if "TRIGGER" not in alarm:
            continue
        trigger = alarm.decoded("TRIGGER")
        if isinstance(trigger, datetime):
            trigger = aware(trigger) - starts_at
        elif alarm["TRIGGER"].params.get("RELATED", "START").upper() != "START":
            continue
        if isinstance(trigger, timedelta) and trigger < timedelta(0):
            offsets.append(format_offset(-trigger))
    return offsets or None


def _text(vevent, name: str) -> str:
    value = vevent.get(name)
    return str(value).strip() if value is not None else ""


def _read_event(vevent, tz: ZoneInfo, number: int) -> EventData:
    where = t("events.ics_where", number=number)
    if "DTSTART" not in vevent:
        raise ImportFileError(t("events.ics_missing", where=where, field="DTSTART"))
    title = _text(vevent, "SUMMARY")
    if not title:
        raise ImportFileError(t("events.ics_missing", where=where, field="SUMMARY"))
    starts_at = _moment(vevent.decoded("DTSTART"), tz)
    ends_at = _moment(vevent.decoded("DTEND"), tz) if "DTEND" in vevent else None
    kind_word = _text(vevent, "X-ZR-KIND").lower()
    if kind_word and kind_word not in KIND_WORDS:
        raise ImportFileError(t("events.ics_bad_kind", where=where, kind=kind_word))
    capacity_text = _text(vevent, "X-ZR-CAPACITY")
    if capacity_text and (not capacity_text.isdecimal() or len(capacity_text) > 6):
        raise ImportFileError(t("events.ics_bad_capacity", where=where, value=capacity_text))
    try:
        offsets = _offsets(vevent, starts_at)
        if offsets:
            offsets = [format_offset(parse_offset(o)) for o in offsets]
    except Exception as error:  # a trigger beyond the supported range
        raise ImportFileError(f"{where}: {error}") from None
    return EventData(
        title=title[:200],
        starts_at=starts_at,
        ends_at=ends_at,
        kind=KIND_WORDS.get(kind_word, "course" if "RELATED-TO" in vevent else "seminar"),
        description=_text(vevent, "DESCRIPTION"),
        location=_text(vevent, "LOCATION")[:300],
        url=_text(vevent, "URL")[:500],
        capacity=int(capacity_text) if capacity_text else None,
        reminder_offsets=offsets,
        uid=_text(vevent, "UID")[:255] or None,
        parent_uid=_text(vevent, "RELATED-TO") or None,
        cancelled=_text(vevent, "STATUS").upper() == "CANCELLED",
    )


def read_calendar(data: bytes, tz: ZoneInfo) -> list[EventData]:
    """The VEVENTs of a calendar file, courses before their modules."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError:
        raise ImportFileError(t("events.ics_unreadable")) from None
    events = [_read_event(v, tz, n) for n, v in enumerate(calendar.walk("VEVENT"), start=1)]
    if not events:
        raise ImportFileError(t("events.ics_empty"))
    missing_uid = [n for n, e in enumerate(events, start=1) if e.uid is None]
    if missing_uid:
        where = t("events.ics_where", number=missing_uid[0])
        raise ImportFileError(t("events.ics_missing", where=where, field="UID"))
    return sorted(events, key=lambda e: e.parent_uid is not None)


def event_calendar(event: Event, now: datetime, *, cancelled: bool = False) -> bytes:
    """One event as an .ics file (METHOD:PUBLISH; UID stable, SEQUENCE from the event)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", aware(now).astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", aware(event.starts_at).astimezone(UTC))
    if event.ends_at is not None:
        vevent.add("dtend", aware(event.ends_at).astimezone(UTC))
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    vevent.add("status", "CANCELLED" if cancelled or event.status == "cancelled" else "CONFIRMED")
    calendar.add_component(vevent)
    return calendar.to_ical()


def ics_attachment(event: Event, now: datetime) -> Attachment:
    return Attachment(f"termin-{event.id}.ics", "text/calendar", event_calendar(event, now))
