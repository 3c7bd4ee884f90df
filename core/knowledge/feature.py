"""What the knowledge collection contributes to the shared machinery: its staff digest
section (searches in vain, suggestions waiting), fitting entries beside a post's new
proposals, and how ``/daten`` and ``/loeschen``
reach a member's suggestions (joined in ``core.feature_set``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.kernel.context import Ctx
from core.kernel.features import Feature, PrivacyHook, Sweep, SweepContext
from core.kernel.texts import t
from core.knowledge import commands as knowledge_commands
from core.knowledge import entries, housekeeping, related
from core.reporting.sections import DigestSection
from core.store.models import Member
from core.store.unit_of_work import UnitOfWork

SHOWN_QUERIES = 10
# Files are removed only a day after they were written (housekeeping.GRACE), so scanning
# the file store and every open dialogue more often than hourly finds nothing new.
UNUSED_FILES_EVERY = timedelta(hours=1)


async def staff_section(
    uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo
) -> DigestSection | None:
    """Searches without a good result (what the network should write next) and the
    members' suggestions that wait for a decision."""
    vain = await uow.knowledge.searches_without_result(since, now)
    waiting = [e for e in await uow.knowledge.listing(("draft",)) if e.suggested_by]
    if not vain and not waiting:
        return None
    lines = []
    if vain:
        lines.append(t("knowledge.staff_searches", count=len(vain)))
        queries = list(dict.fromkeys(s.query for s in vain))
        lines += [t("knowledge.staff_search_line", query=q) for q in queries[:SHOWN_QUERIES]]
    if waiting:
        lines.append(t("knowledge.staff_pending", count=len(waiting)))
    return DigestSection(
        t("knowledge.staff_title"), lines, len(vain) + len(waiting), key="knowledge"
    )


async def _export(uow: UnitOfWork, member: Member) -> list[dict] | None:
    return await entries.suggestions_of(uow, member) or None


async def _erase(uow: UnitOfWork, member: Member, now: datetime, tz: ZoneInfo) -> None:
    await entries.forget_suggester(uow, member, now)


async def _beside_matches(ctx: Ctx, title: str, body: str) -> str | None:
    return await related.beside_matches(ctx.uow, ctx.services.knowledge, title, body)


async def _unused_files(uow: UnitOfWork, ctx: SweepContext) -> int:
    if ctx.knowledge is None:
        return 0
    return await housekeeping.remove_unused_files(uow, ctx.knowledge, ctx.now)


KNOWLEDGE = Feature(
    "knowledge",
    commands=tuple(knowledge_commands.commands()),
    staff_digest=(staff_section,),
    privacy=(PrivacyHook("knowledge_suggestions", _export, _erase),),
    match_notes=(_beside_matches,),
    sweeps=(Sweep("knowledge_files", _unused_files, every=UNUSED_FILES_EVERY),),
)
