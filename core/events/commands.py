"""The events' commands: the calendar, registrations, and staff publishing or cancelling.

``/anmelden ID`` is also what an email reply "Anmelden" to a message with the ref
``event:ID`` stands for; ``ANMELDEN <nr>`` by email arrives as the same command.
"""

from __future__ import annotations

from core.events import calendar as events
from core.events import material
from core.kernel.arguments import MAX_DIGITS
from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.grammar import Command
from core.kernel.replies import Reply
from core.kernel.texts import t


def _event_id(args: str) -> int | None:
    """ "12", "Nr. 12" or "event:12" (an email reply's ref) -> 12."""
    for word in args.replace(":", " ").replace(".", " ").split():
        if word.isdecimal() and len(word) <= MAX_DIGITS:  # isdigit() takes "¹", int() not
            return int(word)
    return None


async def list_events(ctx: Ctx, args: str) -> list[Reply]:
    """Upcoming events, then recent past ones with their recording or slides."""
    upcoming = await events.listing(ctx.uow, ctx.known_member, ctx.now, ctx.services.tz)
    return upcoming + await material.past_material(ctx.uow, ctx.now, ctx.services.tz)


async def register(ctx: Ctx, args: str) -> Reply | list[Reply]:
    event_id = _event_id(args)
    if event_id is None:
        return await list_events(ctx, args)
    by_email = ctx.sender.channel == "email"
    return await events.register(
        ctx.uow, ctx.known_member, event_id, ctx.now, ctx.services.tz, calendar=by_email
    )


async def unregister(ctx: Ctx, args: str) -> Reply:
    event_id = _event_id(args)
    if event_id is None:
        raise UserError.of("common.number_missing")
    return await events.unregister(ctx.uow, ctx.known_member, event_id, ctx.now, ctx.services.tz)


async def cancel_event(ctx: Ctx, args: str) -> Reply:
    """Staff only: cancel an event and notify its participants."""
    event_id = _event_id(args)
    if event_id is None:
        raise UserError.of("common.number_missing")
    event = await events.get(ctx.uow, event_id)
    await events.cancel(ctx.uow, event, ctx.now, ctx.services.tz)
    return Reply(t("events.cancel_done", title=event.title), ref=events.ref(event))


async def publish_event(ctx: Ctx, args: str) -> Reply:
    """Staff only: publish a draft event."""
    event_id = _event_id(args)
    if event_id is None:
        raise UserError.of("common.number_missing")
    event = await events.publish(ctx.uow, event_id, ctx.now)
    return Reply(t("events.published", title=event.title, id=event.id), ref=events.ref(event))


def commands() -> tuple[Command, ...]:
    return (
        Command("termine", list_events),
        Command("anmelden", register, args="NR", listed=False),
        Command("abmelden", unregister, args="NR", listed=False),
        Command("absagen", cancel_event, args="NR", staff_only=True),
        Command("veroeffentlichen", publish_event, args="NR", staff_only=True),
    )
