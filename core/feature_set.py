"""The product's features and what each contributes, in staff digest order.

This is the one place where a feature is joined to the shared machinery: add a
feature's ``Feature`` here and its sweeps run on every scheduler tick, its sections
appear in the staff digest and its records reach ``/daten`` and ``/loeschen``.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from core.conversation import commands as conversation_commands
from core.digests import network_map
from core.digests import staff as staff_digest
from core.digests.members import sweep_member_digests
from core.events import commands as event_commands
from core.events import privacy as event_privacy
from core.events.reminders import sweep_reminders
from core.exchange import commands as exchange_commands
from core.exchange import interest_privacy
from core.exchange.dialogues import EXCHANGE_STEPS
from core.exchange.expiry import sweep_expiry
from core.exchange.match_index import MatchIndex
from core.grants import commands as grant_commands
from core.grants import dialogues as grant_dialogues
from core.grants import digest as grant_digest
from core.grants import privacy as grant_privacy
from core.grants.programme import GrantProgramme
from core.grants.reminders import sweep_grant_reminders
from core.kernel.context import Services
from core.kernel.features import Feature, Features, PrivacyHook, Sweep, SweepContext, assemble
from core.knowledge.feature import KNOWLEDGE
from core.knowledge.library import KnowledgeLibrary
from core.members import commands as member_commands
from core.members.dialogues import MEMBER_STEPS
from core.municipalities.directory import MunicipalityIndex
from core.store.models import Member
from core.store.unit_of_work import UnitOfWork


async def _event_reminders(uow: UnitOfWork, ctx: SweepContext) -> object:
    return await sweep_reminders(uow, ctx.now, ctx.schedule.tz)


async def _post_expiry(uow: UnitOfWork, ctx: SweepContext) -> object:
    return await sweep_expiry(uow, ctx.now, ctx.schedule.tz)


async def _grant_reminders(uow: UnitOfWork, ctx: SweepContext) -> object:
    return await sweep_grant_reminders(uow, ctx.now, ctx.grants)


async def _staff_digests(uow: UnitOfWork, ctx: SweepContext) -> object:
    return await staff_digest.sweep_staff_digests(
        uow, ctx.now, ctx.schedule, ctx.features.staff_digest
    )


async def _erase_grants(uow: UnitOfWork, member: Member, now: datetime, tz: ZoneInfo) -> None:
    await grant_privacy.erase_for(uow, member, now)


async def _member_digests(uow: UnitOfWork, ctx: SweepContext) -> object:
    return await sweep_member_digests(
        uow, ctx.index, ctx.now, ctx.schedule, knowledge=ctx.knowledge
    )


# Starting, help and cancelling come first in every menu.
CONVERSATION = Feature("conversation", commands=conversation_commands.commands(), menu_rank=0)

MEMBERS = Feature(
    "members",
    commands=member_commands.commands(),
    menu_rank=2,  # settings and privacy after what members come for
    steps=MEMBER_STEPS,
    staff_digest=(staff_digest.to_verify_section, network_map.staff_section),
)

EXCHANGE = Feature(
    "exchange",
    commands=exchange_commands.commands(),
    steps=EXCHANGE_STEPS,
    sweeps=(Sweep("expiry", _post_expiry),),
    staff_digest=(staff_digest.exchange_section,),
    privacy=(PrivacyHook("interests", interest_privacy.export_for, interest_privacy.erase_for),),
)

GRANTS = Feature(
    "grants",
    commands=tuple(grant_commands.commands()),
    steps=grant_dialogues.STEPS,
    sweeps=(Sweep("grant_reminders", _grant_reminders),),
    staff_digest=(grant_digest.staff_section,),
    privacy=(PrivacyHook("grants", grant_privacy.export_for, _erase_grants),),
)

EVENTS = Feature(
    "events",
    commands=event_commands.commands(),
    sweeps=(Sweep("reminders", _event_reminders),),
    staff_digest=(staff_digest.events_section,),
    privacy=(PrivacyHook("events", event_privacy.export_for, event_privacy.erase_for),),
)

MESSAGING = Feature("messaging", staff_digest=(staff_digest.delivery_section,))

DIGESTS = Feature(
    "digests",
    sweeps=(Sweep("staff_digest", _staff_digests), Sweep("member_digest", _member_digests)),
)


@cache
def all_features() -> Features:
    return assemble(
        [CONVERSATION, MEMBERS, EXCHANGE, GRANTS, EVENTS, KNOWLEDGE, MESSAGING, DIGESTS]
    )


def make_services(
    index: MatchIndex, municipalities: MunicipalityIndex, **options: object
) -> Services:
    """Services with every feature and the default grant programme, unless given: for
    tools and tests that build them by hand (the service's bootstrap passes its settings)."""
    options.setdefault("grants", GrantProgramme())
    options.setdefault("features", all_features())
    options.setdefault("knowledge", KnowledgeLibrary())
    return Services(index=index, municipalities=municipalities, **options)  # type: ignore[arg-type]
