"""Only one process ticks the scheduler: a PostgreSQL advisory lock held on a
dedicated connection for as long as the process runs (SQLite: one process anyway).

If the connection drops, PostgreSQL releases the lock and another process takes
over; this process notices at its next check and tries to take it again.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store.unit_of_work import Database

log = logging.getLogger(__name__)

SCHEDULER_LOCK = 0x5A52_0002  # distinct from the migration lock in core.store.schema


class LeaderLock:
    def __init__(self, db: Database, key: int = SCHEDULER_LOCK) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self.db.is_sqlite or self._conn is not None

    async def acquire(self) -> bool:
        """True when this process may tick now (re-checked at every tick)."""
        if self.db.is_sqlite:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()
                return True
            except Exception:
                log.warning("scheduler lock connection lost; trying to take the lock again")
                await self._discard()
        conn = await self.db.engine.connect()
        try:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await self._conn.commit()
        finally:
            await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.debug("closing a broken lock connection failed", exc_info=True)
