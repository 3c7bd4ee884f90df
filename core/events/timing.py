"""Event times: reminder offsets, due times across daylight-saving changes, German dates.

Offsets are ISO 8601 durations ("P7D", "P1D", "PT1H"). As in RFC 5545, their day part
is a calendar day and the rest is exact time: "P1D" before 10:00 is 10:00 local time
the day before even when the clocks changed in between (23 or 25 real hours), while
"PT1H" is always 60 real minutes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import vDuration

from core.kernel import german_format
from core.kernel.clock import aware
from core.kernel.errors import UserError
from core.kernel.texts import t

MAX_OFFSET = timedelta(days=30)
# A reminder is sent only while it is due: within a quarter of its lead time after the
# due moment, at most six hours (1 h -> 15 min, 1 day -> 6 h, 7 days -> 6 h). After a
# longer downtime the reminder is skipped rather than sent late; the next one follows.
GRACE_SHARE = 4
GRACE_MAX = timedelta(hours=6)


def parse_offset(text: str) -> timedelta:
    """ "P1D" -> 1 day; a leading minus (as in VALARM triggers) is ignored."""
    try:
        value = vDuration.from_ical(text.strip().lstrip("-+"))
    except (ValueError, TypeError, AttributeError):
        raise UserError.of("events.bad_offset", offset=text) from None
    if not timedelta(0) < value <= MAX_OFFSET:
        raise UserError.of("events.bad_offset", offset=text)
    return value


# Reminder times as operators write them: "7 Tage", "1 Woche", "2 Stunden", "30 Minuten",
# also combined in one reminder ("1 Tag und 2 Stunden").
_UNITS = {
    **dict.fromkeys(("minute", "minuten", "min"), timedelta(minutes=1)),
    **dict.fromkeys(("stunde", "stunden", "std"), timedelta(hours=1)),
    **dict.fromkeys(("tag", "tage", "tagen"), timedelta(days=1)),
    **dict.fromkeys(("woche", "wochen"), timedelta(weeks=1)),
}
_ONE = ("ein", "eine", "einen", "einer")
# ASCII digits only: \d and int() would also take Arabic-Indic or full-width digits.
_AMOUNT = re.compile(r"([0-9]{1,4}|einen|einer|eine|ein)\s*([a-z]+)\.?", re.IGNORECASE)
_AND = re.compile(r"\s+und\s+", re.IGNORECASE)
_END = re.compile(r"\s*$")
_SPACE = re.compile(r"\s+")
EXAMPLE_REMINDERS = "7 Tage, 1 Tag, 2 Stunden"


def parse_reminders(text: str) -> list[str]:
    """The reminders of one event as written, separated by commas or line breaks: German
    ("7 Tage, 1 Tag, 2 Stunden", "30 Minuten", "1 Woche", "1 Tag und 2 Stunden") or
    ISO 8601 ("P7D,PT2H"). Returns the offsets as ISO durations, distinct, longest
    first."""
    items = [line.strip() for part in text.split(",") for line in part.splitlines() or [""]]
    if not any(items):
        raise _bad_reminder(text)
    return _longest_first({_reminder(item) for item in items if item})


def _bad_reminder(value: str) -> UserError:
    return UserError.of(
        "events.bad_reminder", value=german_format.echoed(value), example=EXAMPLE_REMINDERS
    )


def _reminder(item: str) -> timedelta:
    if item.lstrip("-+")[:1].upper() == "P":
        try:
            return parse_offset(item)
        except UserError:
            raise _bad_reminder(item) from None
    total, position = timedelta(0), 0
    while position < len(item):
        amount = _AMOUNT.match(item, position)
        unit = _UNITS.get(amount.group(2).lower()) if amount else None
        if amount is None or unit is None:
            raise _bad_reminder(item)
        count = amount.group(1).lower()
        total += unit * (1 if count in _ONE else int(count))
        joined = _AND.match(item, amount.end()) or _END.match(item, amount.end())
        if joined is None:
            space = _SPACE.match(item, amount.end())
            if space and _AMOUNT.match(item, space.end()):
                # "1 Tag 2 Stunden": most likely a forgotten comma, not one reminder of
                # 26 hours; taking it either way would be a guess.
                raise UserError.of(
                    "events.reminder_without_comma",
                    value=german_format.echoed(item),
                    example=EXAMPLE_REMINDERS,
                )
            raise _bad_reminder(item)  # "1 Tag;2 Stunden", "1 Tag/2 Std"
        position = joined.end()
    if not timedelta(0) < total <= MAX_OFFSET:
        raise _bad_reminder(item)
    return total


def format_offset(value: timedelta) -> str:
    return vDuration(value).to_ical().decode("ascii")


def normalise_offsets(texts) -> list[str]:
    """Valid, distinct offsets, longest first."""
    return _longest_first({parse_offset(text) for text in texts if str(text).strip()})


def _longest_first(offsets: set[timedelta]) -> list[str]:
    return [format_offset(o) for o in sorted(offsets, reverse=True)]


def due_at(starts_at: datetime, offset: str, tz: ZoneInfo) -> datetime:
    """When the reminder ``offset`` before ``starts_at`` is due (UTC)."""
    lead = parse_offset(offset)
    start = aware(starts_at).astimezone(UTC)
    if not lead.days:  # hours and minutes are elapsed time, whatever the clocks do
        return start - lead
    # Aware arithmetic within one zone is wall-clock arithmetic; the UTC offset of the
    # result is looked up afresh, so a calendar day across a DST change stays a day.
    # (Only whole days go through the wall clock: the arithmetic drops ``fold``, which
    # would move a start in the hour that happens twice by an hour.)
    wall = start.astimezone(tz) - timedelta(days=lead.days)
    return wall.astimezone(UTC) - timedelta(seconds=lead.seconds)


def grace(offset: str) -> timedelta:
    return min(parse_offset(offset) / GRACE_SHARE, GRACE_MAX)


def is_due(starts_at: datetime, offset: str, tz: ZoneInfo, now: datetime) -> bool:
    due = due_at(starts_at, offset, tz)
    return due <= now < due + grace(offset) and now < aware(starts_at)


def lead_text(offset: str) -> str:
    """ "morgen", "in 7 Tagen", "in einer Stunde" – how far away the event is."""
    lead = parse_offset(offset)
    if lead.seconds == 0:
        return t("events.lead_tomorrow") if lead.days == 1 else t("events.lead_days", n=lead.days)
    hours, minutes = divmod(int(lead.total_seconds()) // 60, 60)
    if minutes == 0:
        return t("events.lead_hour") if hours == 1 else t("events.lead_hours", n=hours)
    return t("events.lead_minutes", n=hours * 60 + minutes)


def local_text(moment: datetime, tz: ZoneInfo) -> str:
    """ "Do., 03.12.2026, 10:00 Uhr" in the network's time zone."""
    local = aware(moment).astimezone(tz)
    weekday = t("events.weekdays").split(",")[local.weekday()]
    return t(
        "events.when",
        weekday=weekday,
        date=german_format.day(local),
        time=german_format.clock_time(local),
    )


def parse_local(text: str, tz: ZoneInfo) -> datetime:
    """ "2026-12-03 10:00" (local time) -> UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError.of("events.bad_time", value=text) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)
