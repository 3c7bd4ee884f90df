"""Persistence of what arrives: stored incoming mails, the record of processed inputs
(dedupe and the once-a-day limits) and the reply tokens of our reply addresses."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.models import InboundMail, ProcessedEvent, ReplyToken


class InboundMailRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, inbound_id: int) -> InboundMail | None:
        return await self.session.get(InboundMail, inbound_id)

    async def kept(
        self, folder: str, uidvalidity: int, uids: Collection[int]
    ) -> dict[int, tuple[int, str]]:
        """Of these server messages, those stored already: uid -> (id, status)."""
        rows = await self.session.execute(
            select(InboundMail.uid, InboundMail.id, InboundMail.status).where(
                InboundMail.folder == folder,
                InboundMail.uidvalidity == uidvalidity,
                InboundMail.uid.in_(list(uids)),
            )
        )
        return {uid: (row_id, status) for uid, row_id, status in rows.all()}

    async def add_many(self, rows: Sequence[dict]) -> dict[int, int]:
        """Store mails in one multi-row INSERT; uid -> the new id."""
        if not rows:
            return {}
        inserted = await self.session.execute(
            insert(InboundMail).returning(InboundMail.uid, InboundMail.id), list(rows)
        )
        return dict(inserted.all())

    async def due(self, limit: int, now: datetime | None) -> list[tuple[int, int]]:
        """(id, size in bytes) of the mails not processed yet, oldest first; with ``now``,
        those waiting for a retry later are left out."""
        due = InboundMail.status == "new"
        if now is not None:
            due = due & (InboundMail.not_before.is_(None) | (InboundMail.not_before <= now))
        rows = await self.session.execute(
            select(InboundMail.id, func.length(InboundMail.raw))
            .where(due)
            .order_by(InboundMail.id)
            .limit(limit)
        )
        return [(inbound_id, size or 0) for inbound_id, size in rows.all()]

    async def raws(self, ids: Collection[int]) -> dict[int, bytes]:
        rows = await self.session.execute(
            select(InboundMail.id, InboundMail.raw).where(InboundMail.id.in_(list(ids)))
        )
        return dict(rows.all())

    async def status_counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(InboundMail.status, func.count()).group_by(InboundMail.status)
        )
        return {status: count for status, count in rows.all()}

    async def count(self, status: str) -> int:
        stmt = select(func.count()).select_from(InboundMail).where(InboundMail.status == status)
        return int(await self.session.scalar(stmt) or 0)

    async def with_status(self, status: str, limit: int) -> Sequence[InboundMail]:
        stmt = (
            select(InboundMail)
            .where(InboundMail.status == status)
            .order_by(InboundMail.id)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def set_aside(self, inbound_id: int, error: str, attempts: int, now: datetime) -> None:
        await self.session.execute(
            update(InboundMail)
            .where(InboundMail.id == inbound_id)
            .values(status="failed", error=error, attempts=attempts, processed_at=now)
        )

    async def set_statuses(self, statuses: Sequence[dict], now: datetime) -> None:
        """Final statuses of many mails in one statement: dicts of row, new_status, new_error."""
        if not statuses:
            return
        table = InboundMail.__table__
        await self.session.execute(
            update(table)
            .where(table.c.id == bindparam("row"))
            .values(status=bindparam("new_status"), error=bindparam("new_error"), processed_at=now),
            list(statuses),
        )


class ProcessedEventRepo:
    """Inputs acted on (by source and key), so each is acted on once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, source: str, key: str, now: datetime) -> bool:
        """Record one; False if it was recorded before.

        One statement, and safe when two transactions race: the loser's insert waits for
        the winner and then does nothing, where a look-then-insert would fail on the key.
        """
        values = {"source": source, "key": key, "processed_at": now}
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(ProcessedEvent).values(**values).on_conflict_do_nothing()
        return (await self.session.execute(stmt)).rowcount == 1

    async def known(self, source: str, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` were recorded before."""
        stmt = select(ProcessedEvent.key).where(
            ProcessedEvent.source == source, ProcessedEvent.key.in_(list(keys))
        )
        return set(await self.session.scalars(stmt))

    async def count(self, source: str, keys: Collection[str]) -> int:
        stmt = select(func.count()).where(
            ProcessedEvent.source == source, ProcessedEvent.key.in_(list(keys))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def record_many(self, source: str, keys: Sequence[str], now: datetime) -> None:
        """Record keys known to be new (checked in this transaction) in one statement."""
        if keys:
            await self.session.execute(
                insert(ProcessedEvent.__table__),
                [{"source": source, "key": key, "processed_at": now} for key in keys],
            )


class ReplyTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, token: str) -> ReplyToken | None:
        return await self.session.get(ReplyToken, token)

    async def many(self, tokens: Collection[str]) -> Sequence[ReplyToken]:
        """Load many in one query; ``get`` then finds them in the session."""
        if not tokens:
            return []
        stmt = select(ReplyToken).where(ReplyToken.token.in_(list(tokens)))
        return (await self.session.scalars(stmt)).all()

    async def add(self, token: ReplyToken) -> None:
        self.session.add(token)
        await self.session.flush()
