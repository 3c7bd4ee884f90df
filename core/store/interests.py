"""Persistence of the small per-member records: saved interests and the digests' runs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.batches import in_chunks
from core.store.models import DigestRun, Interest


class InterestRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: int) -> Interest | None:
        return await self.session.get(Interest, member_id)

    async def keywords_for(self, member_ids: Sequence[int]) -> dict[int, str]:
        """The saved keywords of many members (those with none are left out)."""
        found: dict[int, str] = {}
        for chunk in in_chunks(member_ids):
            stmt = select(Interest.member_id, Interest.keywords).where(
                Interest.member_id.in_(chunk)
            )
            found.update({row.member_id: row.keywords for row in await self.session.execute(stmt)})
        return found

    async def remove(self, interest: Interest) -> None:
        await self.session.delete(interest)

    async def remove_for(self, member_id: int) -> None:
        await self.session.execute(delete(Interest).where(Interest.member_id == member_id))


class DigestRunRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, audience: str) -> dict[int, DigestRun]:
        """The latest run per member for ``audience``."""
        stmt = (
            select(DigestRun)
            .where(DigestRun.audience == audience)
            .order_by(DigestRun.member_id, DigestRun.covered_until)
        )
        return {run.member_id: run for run in await self.session.scalars(stmt)}
