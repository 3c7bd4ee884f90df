"""Entries of the knowledge collection brought to members without asking: beside a new
Vorschlag or Vielleicht passend for their post, and in their digest."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from core.kernel.texts import t
from core.knowledge.entries import kind_label
from core.knowledge.library import KnowledgeLibrary
from core.knowledge.search import GOOD
from core.store.models import KnowledgeEntry
from core.store.unit_of_work import UnitOfWork

BESIDE_MATCHES = 2
PER_DIGEST_QUERY = 10


async def fitting(
    uow: UnitOfWork, library: KnowledgeLibrary, text: str, k: int
) -> list[tuple[KnowledgeEntry, float]]:
    """Published entries that fit ``text`` well (not recorded as a member's search)."""
    hits = [h for h in await library.index.search(uow, text, k) if h.score >= GOOD]
    entries = await uow.knowledge.many(h.entry_id for h in hits)
    return [
        (entries[h.entry_id], h.score)
        for h in hits
        if h.entry_id in entries and entries[h.entry_id].status == "published"
    ]


def entry_mention(entry: KnowledgeEntry) -> str:
    kind = kind_label(entry.kind)
    if entry.file_sha256:
        return t("knowledge.related_entry", title=entry.title, kind=kind, id=entry.id)
    return t("knowledge.related_entry_link", title=entry.title, kind=kind, link=entry.link)


async def beside_matches(
    uow: UnitOfWork, library: KnowledgeLibrary, title: str, body: str
) -> str | None:
    """ "Passend dazu in der Wissenssammlung: …" for a post, or None when nothing fits."""
    found = await fitting(uow, library, f"{title}\n{body}", BESIDE_MATCHES)
    if not found:
        return None
    return t("knowledge.related", entries="; ".join(entry_mention(e) for e, _ in found))


async def for_digest(
    uow: UnitOfWork,
    library: KnowledgeLibrary,
    queries: Iterable[tuple[str, str]],
    since: datetime,
    until: datetime,
) -> list[tuple[KnowledgeEntry, str]]:
    """Entries published in [since, until) that fit one of ``queries`` ((text, why) pairs:
    a member's open posts and interests), best first, each once."""
    fresh = {e.id for e in await uow.knowledge.published_since(since, until)}
    if not fresh:
        return []
    found: dict[int, tuple[float, KnowledgeEntry, str]] = {}
    for text, why in queries:
        for entry, score in await fitting(uow, library, text, PER_DIGEST_QUERY):
            if entry.id in fresh and (entry.id not in found or found[entry.id][0] < score):
                found[entry.id] = (score, entry, why)
    ranked = sorted(found.values(), key=lambda item: (-item[0], item[1].id))
    return [(entry, why) for _, entry, why in ranked]
