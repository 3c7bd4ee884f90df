"""Seminars, courses and network meetings: publishing, changes, registrations.

A course's modules are child events; members register for the course and get the
modules' reminders. Every change members must hear about (time, place, link, title,
cancellation) raises the event's ``sequence`` and notifies everyone registered or
waiting; pending reminders for the old time are withdrawn, and reminder dedupe keys
carry the start time, so a reminder for an old time is never sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.events.ics import EventData, ics_attachment
from core.events.timing import local_text, normalise_offsets
from core.kernel.clock import aware
from core.kernel.errors import UserError, found
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.messaging.outbox import channel_for, enqueue
from core.store.models import Event, KnowledgeEntry, Member, Registration
from core.store.unit_of_work import UnitOfWork

KINDS = ("seminar", "course", "meeting")
ACTIVE = ("registered", "waiting")
# Fields whose change is announced to participants.
NOTICEABLE = ("title", "starts_at", "ends_at", "location", "url")


@dataclass(frozen=True)
class ReminderDefaults:
    """Offsets used when an event names none (``ZR_REMINDER_OFFSETS*``)."""

    online: tuple[str, ...] = ("P1D", "PT1H")
    in_person: tuple[str, ...] = ("P7D", "P1D", "PT1H")

    def for_kind(self, kind: str) -> list[str]:
        return list(self.in_person if kind == "meeting" else self.online)


# --- reading ----------------------------------------------------------------------


async def get(uow: UnitOfWork, event_id: int) -> Event:
    return found(await uow.events.get(event_id), "events.unknown", id=event_id)


async def by_uid(uow: UnitOfWork, uid: str) -> Event | None:
    return await uow.events.by_uid(uid)


async def upcoming(
    uow: UnitOfWork, now: datetime, *, include_drafts: bool = False
) -> Sequence[Event]:
    """Events (not modules) that have not started or, for courses, not ended."""
    statuses = ("published", "draft") if include_drafts else ("published",)
    return await uow.events.upcoming(now, statuses)


async def modules(uow: UnitOfWork, course_id: int) -> Sequence[Event]:
    return await uow.events.modules(course_id)


async def counts(uow: UnitOfWork, event_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """{event_id: {"registered": n, "waiting": m}}."""
    result: dict[int, dict[str, int]] = {i: {"registered": 0, "waiting": 0} for i in event_ids}
    if not event_ids:
        return result
    for event_id, status, number in await uow.events.counts(event_ids, ACTIVE):
        result[event_id][status] = number
    return result


async def participants(
    uow: UnitOfWork, event_id: int, statuses: tuple[str, ...] = ACTIVE
) -> Sequence[tuple[Registration, Member]]:
    return await uow.events.participants(event_id, statuses)


# --- staff: create, change, publish, cancel ---------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    """Stored in UTC: SQLite keeps only the wall time of what it is given."""
    return None if value is None else aware(value).astimezone(UTC)


def _check(data: EventData) -> None:
    data.starts_at = _utc(data.starts_at)
    data.ends_at = _utc(data.ends_at)
    if data.kind not in KINDS:
        raise UserError.of("events.bad_kind", kind=data.kind)
    if not data.title.strip():
        raise UserError.of("events.no_title")
    if data.ends_at is not None and data.ends_at < data.starts_at:
        raise UserError.of("events.ends_before_start")
    if data.capacity is not None and data.capacity < 1:
        raise UserError.of("events.bad_capacity")


async def create(
    uow: UnitOfWork,
    data: EventData,
    now: datetime,
    defaults: ReminderDefaults,
    *,
    publish: bool = True,
) -> Event:
    _check(data)
    parent = await _parent(uow, data)
    offsets = data.reminder_offsets or defaults.for_kind(data.kind)
    event = Event(
        uid=data.uid or f"{secrets.token_hex(8)}@zukunftsraum",
        parent_id=parent.id if parent else None,
        kind=data.kind,
        title=data.title.strip()[:200],
        description=data.description.strip(),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        location=data.location.strip(),
        url=data.url.strip(),
        capacity=data.capacity,
        reminder_offsets=normalise_offsets(offsets),
        status="cancelled" if data.cancelled else ("published" if publish else "draft"),
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    uow.add(event)
    await uow.flush()
    return event


async def _parent(uow: UnitOfWork, data: EventData) -> Event | None:
    if data.parent_uid is None:
        return None
    parent = await by_uid(uow, data.parent_uid)
    if parent is None:
        raise UserError.of("events.unknown_course", uid=data.parent_uid)
    return parent


async def update_event(
    uow: UnitOfWork,
    event: Event,
    data: EventData,
    now: datetime,
    defaults: ReminderDefaults,
    tz: ZoneInfo,
) -> bool:
    """Apply new details (a re-import of the same UID); True when participants were told."""
    _check(data)
    if data.cancelled:
        if event.status != "cancelled":
            await cancel(uow, event, now, tz)
            return True
        return False
    new = {
        "title": data.title.strip()[:200],
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "location": data.location.strip(),
        "url": data.url.strip(),
    }
    changed = [k for k, v in new.items() if _differs(getattr(event, k), v)]
    for key, value in new.items():
        setattr(event, key, value)
    event.kind = data.kind
    event.description = data.description.strip()
    event.reminder_offsets = normalise_offsets(
        data.reminder_offsets or event.reminder_offsets or defaults.for_kind(data.kind)
    )
    parent = await _parent(uow, data)
    event.parent_id = parent.id if parent else None
    old_capacity, event.capacity = event.capacity, data.capacity
    event.updated_at = now
    if _more_places(old_capacity, event.capacity):
        await _promote(uow, event, now, tz)
    if not changed or event.status != "published":
        return False
    event.sequence += 1
    await _withdraw_reminders(uow, event)
    await _notify_all(uow, event, now, "changed", tz)
    return True


def _differs(old, new) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return aware(old) != aware(new)
    return old != new


def _more_places(old: int | None, new: int | None) -> bool:
    return old is not None and (new is None or new > old)


async def publish(uow: UnitOfWork, event_id: int, now: datetime) -> Event:
    event = await get(uow, event_id)
    if event.status != "draft":
        raise UserError.of("events.not_draft", title=event.title)
    event.status = "published"
    event.updated_at = now
    return event


async def cancel(uow: UnitOfWork, event: Event, now: datetime, tz: ZoneInfo) -> Event:
    """Cancel an event (with its modules) and tell everyone registered or waiting."""
    if event.status == "cancelled":
        raise UserError.of("events.already_cancelled", title=event.title)
    was_published = event.status == "published"
    event.status = "cancelled"
    event.sequence += 1
    event.updated_at = now
    for module in await modules(uow, event.id):
        module.status = "cancelled"
        module.sequence += 1
        await _withdraw_reminders(uow, module)
    await _withdraw_reminders(uow, event)
    if was_published:
        await _notify_all(uow, event, now, "cancelled", tz)
    return event


async def _withdraw_reminders(uow: UnitOfWork, event: Event) -> None:
    """Reminders queued for the old details must not go out any more."""
    await uow.events.withdraw_reminders(ref(event))


async def _notify_all(
    uow: UnitOfWork, event: Event, now: datetime, what: str, tz: ZoneInfo
) -> None:
    audience = event.parent_id or event.id
    course = await get(uow, audience) if event.parent_id else None
    for _registration, member in await participants(uow, audience):
        text = t(
            f"events.{what}",
            title=event.title,
            course=t("events.of_course", course=course.title) if course else "",
            details=details(event, tz),
        )
        _send(
            uow,
            member,
            event,
            Reply(text, ref=ref(event)),
            now,
            kind=f"event_{what}",
            subject=t(f"events.subject_{what}", title=event.title),
            dedupe_key=f"event:{event.id}:{what}:{event.sequence}:{member.id}",
        )


def _send(
    uow: UnitOfWork, member: Member, event: Event, reply: Reply, now: datetime, **fields
) -> None:
    """Queue a message about ``event``; by email it carries the calendar file."""
    if _by_email(member):
        reply.attachments.append(ics_attachment(event, now))
    enqueue(uow, member, reply, now=now, **fields)


def _by_email(member: Member) -> bool:
    target = channel_for(member)
    return target is not None and target[0] == "email"


# --- texts ------------------------------------------------------------------------


def ref(event: Event) -> str:
    """What replies and messages about an event are tied to (email replies use it)."""
    return f"event:{event.id}"


def details(event: Event, tz) -> str:
    lines = [local_text(event.starts_at, tz)]
    if event.location:
        lines.append(t("events.location", location=event.location))
    if event.url:
        lines.append(t("events.link", url=event.url))
    return "\n".join(lines)


def places_text(event: Event, registered: int, waiting: int) -> str:
    if event.capacity is None:
        return t("events.places_open", registered=registered)
    free = max(event.capacity - registered, 0)
    if free:
        return t("events.places_free", free=free, capacity=event.capacity)
    return t("events.places_full", waiting=waiting)


# --- material: an event's entries in the knowledge collection (core.events.material) ---


def material_line(entry: KnowledgeEntry) -> str:
    kind = t(f"knowledge.kind.{entry.kind}")
    link = t("events.material_link", link=entry.link) if entry.link else ""
    return t("events.material", kind=kind, title=entry.title, link=link)


def material_choices(entries: Sequence[KnowledgeEntry]) -> list[Choice]:
    return [
        Choice(
            t("events.choice_material", kind=t(f"knowledge.kind.{e.kind}")), f"/wissen_datei {e.id}"
        )
        for e in entries
        if e.file_sha256
    ]


async def published_materials(
    uow: UnitOfWork, event_ids: Sequence[int]
) -> dict[int, list[KnowledgeEntry]]:
    found = await uow.events.materials(event_ids)
    return {i: [e for e in entries if e.status == "published"] for i, entries in found.items()}


# --- members: list, register, unregister ------------------------------------------


async def listing(uow: UnitOfWork, member: Member, now: datetime, tz) -> list[Reply]:
    events = await upcoming(uow, now)
    if not events:
        return [Reply(t("events.none"))]
    numbers = await counts(uow, [e.id for e in events])
    mine = await _registrations(uow, member.id, [e.id for e in events])
    materials = await published_materials(uow, [e.id for e in events])
    replies = [Reply(t("events.list_intro", count=len(events)))]
    for event in events:
        reply = await event_reply(uow, event, numbers[event.id], mine.get(event.id), tz)
        if materials[event.id]:
            reply.text += "\n" + "\n".join(material_line(e) for e in materials[event.id])
            reply.choices += material_choices(materials[event.id])
        replies.append(reply)
    return replies


async def event_reply(
    uow: UnitOfWork, event: Event, numbers: dict[str, int], status: str | None, tz
) -> Reply:
    lines = [
        t(
            "events.line",
            id=event.id,
            kind=t(f"events.kind.{event.kind}"),
            title=event.title,
            details=details(event, tz),
        )
    ]
    if event.kind == "course":
        dates = [local_text(m.starts_at, tz) for m in await modules(uow, event.id)]
        if dates:
            lines.append(t("events.modules", dates="\n".join(dates)))
    lines.append(places_text(event, numbers["registered"], numbers["waiting"]))
    if status:
        lines.append(t(f"events.you_are_{status}"))
        choices = [Choice(t("events.choice_unregister"), f"/abmelden {event.id}")]
    else:
        choices = [Choice(t("events.choice_register"), f"/anmelden {event.id}")]
    return Reply("\n".join(lines), choices, ref=ref(event))


async def _registrations(uow: UnitOfWork, member_id: int, event_ids) -> dict[int, str]:
    return await uow.events.statuses_of(member_id, event_ids, ACTIVE)


async def _locked(uow: UnitOfWork, event_id: int) -> Event:
    """The event row, locked on PostgreSQL so two last-seat registrations queue up."""
    return found(await uow.events.locked(event_id), "events.unknown", id=event_id)


async def register(
    uow: UnitOfWork,
    member: Member,
    event_id: int,
    now: datetime,
    tz: ZoneInfo,
    *,
    calendar: bool = False,
) -> Reply:
    """Take a place, or one on the waiting list; ``calendar``: attach the .ics (email)."""
    event = await _locked(uow, event_id)
    if event.parent_id is not None:  # a module: the place is on the course
        event = await _locked(uow, event.parent_id)
    if event.status != "published" or (aware(event.starts_at) <= now and event.kind != "course"):
        raise UserError.of("events.closed", title=event.title)
    registration = await uow.events.registration(event.id, member.id)
    if registration is not None and registration.status in ACTIVE:
        raise UserError.of(f"events.already_{registration.status}", title=event.title)
    taken = (await counts(uow, [event.id]))[event.id]["registered"]
    status = "registered" if event.capacity is None or taken < event.capacity else "waiting"
    if registration is None:
        registration = Registration(event_id=event.id, member_id=member.id, created_at=now)
        uow.add(registration)
    registration.status = status
    registration.since = now
    text = t(f"events.done_{status}", title=event.title, details=details(event, tz))
    reply = Reply(
        text, [Choice(t("events.choice_unregister"), f"/abmelden {event.id}")], ref=ref(event)
    )
    if status == "registered" and calendar:
        reply.attachments.append(ics_attachment(event, now))
    return reply


async def unregister(
    uow: UnitOfWork, member: Member, event_id: int, now: datetime, tz: ZoneInfo
) -> Reply:
    event = await _locked(uow, event_id)
    if event.parent_id is not None:
        event = await _locked(uow, event.parent_id)
    registration = await uow.events.registration(event.id, member.id, ACTIVE)
    if registration is None:
        raise UserError.of("events.not_registered", title=event.title)
    had_place = registration.status == "registered"
    registration.status = "cancelled"
    registration.since = now
    if had_place and event.status == "published":
        await uow.flush()
        await _promote(uow, event, now, tz)
    return Reply(t("events.done_unregistered", title=event.title), ref=ref(event))


async def _promote(uow: UnitOfWork, event: Event, now: datetime, tz: ZoneInfo) -> None:
    """Give free places to the waiting list, first come first served, with a notice."""
    await uow.flush()
    taken = (await counts(uow, [event.id]))[event.id]["registered"]
    free = None if event.capacity is None else event.capacity - taken
    for registration, member in await participants(uow, event.id, ("waiting",)):
        if free is not None and free <= 0:
            break
        registration.status = "registered"
        registration.since = now
        free = None if free is None else free - 1
        reply = Reply(
            t("events.promoted", title=event.title, details=details(event, tz)),
            [Choice(t("events.choice_unregister"), f"/abmelden {event.id}")],
            ref=ref(event),
        )
        subject = t("events.subject_promoted", title=event.title)
        _send(uow, member, event, reply, now, kind="event_promoted", subject=subject)
