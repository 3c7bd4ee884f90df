"""An event's material in the knowledge collection: its recording (Aufzeichnung), slides
or other documents. Staff link a published entry to an event; members see it with the
event in ``/termine`` (upcoming events, and past ones that have material) and get the file
by the entry's command. When material is linked to an event that is over, everyone who was
registered hears of it once, through the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.events import calendar
from core.events.timing import local_text
from core.kernel.clock import aware
from core.kernel.errors import UserError
from core.kernel.replies import Reply
from core.kernel.texts import t
from core.messaging.outbox import enqueue
from core.store.models import Event, KnowledgeEntry
from core.store.unit_of_work import UnitOfWork

# Past events with material stay in /termine for this long after they ended.
PAST_SHOWN = timedelta(days=180)
PAST_LISTED = 5


def over(event: Event, now: datetime) -> bool:
    return aware(event.ends_at or event.starts_at) < now


async def link(
    uow: UnitOfWork, event_id: int, entry_id: int, now: datetime, tz: ZoneInfo
) -> tuple[Event, KnowledgeEntry, int]:
    """Tie a published entry to an event; returns the event, the entry and how many
    participants were told (only for an event that is over)."""
    event = await calendar.get(uow, event_id)
    entry = await uow.knowledge.get(entry_id)
    if entry is None:
        raise UserError.of("knowledge.not_found", id=entry_id)
    if entry.status != "published":
        raise UserError.of("knowledge.not_published", id=entry.id)
    if not await uow.events.link_material(event.id, entry.id, now):
        raise UserError.of("events.material_linked_before", entry=entry.title, title=event.title)
    told = 0
    if event.status == "published" and over(event, now):
        told = await _tell_participants(uow, event, entry, now, tz)
    return event, entry, told


async def unlink(uow: UnitOfWork, event_id: int, entry_id: int) -> Event:
    event = await calendar.get(uow, event_id)
    if not await uow.events.unlink_material(event.id, entry_id):
        raise UserError.of("events.material_not_linked", id=entry_id, title=event.title)
    return event


async def _tell_participants(
    uow: UnitOfWork, event: Event, entry: KnowledgeEntry, now: datetime, tz: ZoneInfo
) -> int:
    audience = event.parent_id or event.id
    told = 0
    for _registration, member in await calendar.participants(uow, audience, ("registered",)):
        key = f"event:{event.id}:material:{entry.id}:{member.id}"
        if member.erased_at is not None or await uow.outbox.exists(key):
            continue  # told before (the entry was linked, unlinked and linked again)
        text = t(
            "events.material_new",
            title=event.title,
            when=local_text(event.starts_at, tz),
            line=calendar.material_line(entry),
        )
        message = enqueue(
            uow,
            member,
            Reply(text, calendar.material_choices([entry]), ref=f"knowledge:{entry.id}"),
            kind="event_material",
            subject=t("events.subject_material", title=event.title),
            now=now,
            dedupe_key=key,
        )
        told += message is not None
    return told


async def past_material(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> list[Reply]:
    """Recent past events with their material, for ``/termine``."""
    events = list(await uow.events.past_with_material(now - PAST_SHOWN, now))
    materials = await calendar.published_materials(uow, [e.id for e in events])
    events = [e for e in events if materials[e.id]][:PAST_LISTED]
    if not events:
        return []
    replies = [Reply(t("events.past_intro", count=len(events)))]
    for event in events:
        lines = [
            t(
                "events.past_line",
                id=event.id,
                kind=t(f"events.kind.{event.kind}"),
                title=event.title,
                when=local_text(event.starts_at, tz),
            )
        ]
        lines += [calendar.material_line(e) for e in materials[event.id]]
        replies.append(
            Reply(
                "\n".join(lines),
                calendar.material_choices(materials[event.id]),
                ref=calendar.ref(event),
            )
        )
    return replies
