"""Queries of the knowledge collection (opened by ``core.store.unit_of_work.UnitOfWork`` as
``uow.knowledge``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.kernel.kept import parked_files
from core.store.models import Dialogue, KnowledgeEntry, KnowledgeSearch


class KnowledgeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, entry_id: int) -> KnowledgeEntry | None:
        return await self.session.get(KnowledgeEntry, entry_id)

    async def by_hash(self, sha256: str) -> KnowledgeEntry | None:
        stmt = select(KnowledgeEntry).where(KnowledgeEntry.file_sha256 == sha256)
        return await self.session.scalar(stmt)

    async def known_hashes(self) -> set[str]:
        stmt = select(KnowledgeEntry.file_sha256).where(KnowledgeEntry.file_sha256.is_not(None))
        return set(await self.session.scalars(stmt))

    async def parked_hashes(self) -> set[str]:
        """Files kept for an input that waits for its sender's registration or consent
        (the requests kept in an open dialogue, core/kernel/kept.py)."""
        hashes = set()
        for data in await self.session.scalars(select(Dialogue.data)):
            for ref in parked_files(data or {}):
                if isinstance(ref, dict) and ref.get("sha256"):
                    hashes.add(ref["sha256"])
        return hashes

    def add(self, entry: KnowledgeEntry) -> None:
        self.session.add(entry)

    async def listing(self, statuses: Iterable[str] | None = None) -> Sequence[KnowledgeEntry]:
        stmt = select(KnowledgeEntry).order_by(KnowledgeEntry.id)
        if statuses:
            stmt = stmt.where(KnowledgeEntry.status.in_(tuple(statuses)))
        return (await self.session.scalars(stmt)).all()

    async def ids(self) -> list[int]:
        """Every entry's id, in order (for work done a slice at a time)."""
        return list(
            await self.session.scalars(select(KnowledgeEntry.id).order_by(KnowledgeEntry.id))
        )

    async def many(self, ids: Iterable[int]) -> dict[int, KnowledgeEntry]:
        ids = list(ids)
        if not ids:
            return {}
        rows = await self.session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.id.in_(ids)))
        return {entry.id: entry for entry in rows}

    async def published_since(self, since: datetime, until: datetime) -> Sequence[KnowledgeEntry]:
        """Entries published (or changed while published) in [since, until)."""
        stmt = select(KnowledgeEntry).where(
            KnowledgeEntry.status == "published",
            KnowledgeEntry.updated_at >= since,
            KnowledgeEntry.updated_at < until,
        )
        return (await self.session.scalars(stmt.order_by(KnowledgeEntry.id))).all()

    async def suggested_by(self, member_id: int) -> Sequence[KnowledgeEntry]:
        stmt = select(KnowledgeEntry).where(KnowledgeEntry.suggested_by == member_id)
        return (await self.session.scalars(stmt.order_by(KnowledgeEntry.id))).all()

    async def index_rows(self, since: datetime | None = None) -> Sequence:
        """Entries as the search index needs them, without ORM objects: every published
        one (``since`` None), or every one changed since ``since`` whatever its status."""
        stmt = select(
            KnowledgeEntry.status,
            KnowledgeEntry.updated_at,
            KnowledgeEntry.id,
            KnowledgeEntry.title,
            KnowledgeEntry.summary,
            KnowledgeEntry.kind,
            KnowledgeEntry.topics,
            KnowledgeEntry.text,
            KnowledgeEntry.vector,
            KnowledgeEntry.vector_model,
        )
        if since is None:
            stmt = stmt.where(KnowledgeEntry.status == "published")
        else:
            stmt = stmt.where(KnowledgeEntry.updated_at >= since)
        return (await self.session.execute(stmt.order_by(KnowledgeEntry.id))).all()

    def record_search(self, query: str, best: float, good: bool, at: datetime) -> None:
        self.session.add(KnowledgeSearch(query=query[:200], best_score=best, good=good, at=at))

    async def searches_without_result(
        self, since: datetime, until: datetime
    ) -> Sequence[KnowledgeSearch]:
        stmt = select(KnowledgeSearch).where(
            KnowledgeSearch.good.is_(False), KnowledgeSearch.at >= since, KnowledgeSearch.at < until
        )
        return (await self.session.scalars(stmt.order_by(KnowledgeSearch.at))).all()
