"""Singleton roles (scheduler tick, Telegram polling, IMAP intake per folder): held by one
process at a time through PostgreSQL session advisory locks.

All roles of a process are held on one dedicated connection. When the process dies, its
connection closes and PostgreSQL releases every lock at once, so another process gets them at
its next ``refresh``. The connection asks the server to probe the client with TCP keepalives,
so a holder whose host vanished without closing the connection is noticed within about 20 s
too. A holder that cannot reach the database within ``timeout`` (15 s: generous, since a process
on a busy CPU answers slowly) gives up all its roles, since it can no longer tell whether it
still holds them.

SQLite allows one process only: every wanted role is held, without locks.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store.unit_of_work import Database

log = logging.getLogger(__name__)

# The scheduler keeps the key it always had, so that old and new processes exclude each other
# during a rolling upgrade; distinct from the migration lock in core.store.schema.
SCHEDULER_LOCK = 0x5A52_0002
# Server-side TCP keepalives on the lock connection: idle, interval (s), probes.
KEEPALIVE = (5, 5, 3)


def lock_key(role: str) -> int:
    """The 64-bit advisory lock key of a role (stable across processes and versions)."""
    if role == "scheduler":
        return SCHEDULER_LOCK
    digest = hashlib.sha256(f"zukunftsraum-role:{role}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RoleLocks:
    def __init__(self, db: Database, *, timeout: float = 15.0) -> None:
        self.db = db
        self.timeout = timeout
        self.held: set[str] = set()
        self._conn: AsyncConnection | None = None
        self._busy = asyncio.Lock()  # one statement at a time on the lock connection

    async def refresh(self, wanted: Iterable[str]) -> set[str]:
        """Keep what we hold, try to take the rest of ``wanted``; returns the roles held now.

        A database that cannot be reached costs every role (an empty set is returned and the
        error is logged); the next call tries again.
        """
        wanted = set(wanted)
        if self.db.is_sqlite:
            self.held = wanted
            return set(self.held)
        async with self._busy:
            try:
                await asyncio.wait_for(self._refresh(wanted), self.timeout)
            except Exception as error:  # TimeoutError too: we cannot know what we hold
                if self.held:
                    log.warning(
                        "roles given up, database not reachable: %s (%s)",
                        ", ".join(sorted(self.held)),
                        type(error).__name__,
                    )
                await self._discard()
        return set(self.held)

    async def _refresh(self, wanted: set[str]) -> None:
        # One round trip when nothing changes: a busy process must not need seconds for this.
        if self._conn is None:
            self._conn = await self._connect()
        conn = self._conn
        to_take = sorted(wanted - self.held)
        if to_take:
            keys = {lock_key(role): role for role in to_take}
            rows = await conn.execute(
                text("SELECT k, pg_try_advisory_lock(k) FROM unnest(CAST(:keys AS bigint[])) k"),
                {"keys": list(keys)},
            )
            self.held |= {keys[key] for key, got in rows if got}
        else:
            await conn.execute(text("SELECT 1"))  # the session (and so our locks) is still there
        for role in sorted(self.held - wanted):
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(role)})
            self.held.discard(role)

    async def _connect(self) -> AsyncConnection:
        conn = await self.db.engine.connect()
        try:
            # Autocommit: no transaction stays open on this connection between checks.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            idle, interval, probes = KEEPALIVE
            await conn.execute(text(f"SET tcp_keepalives_idle = {idle}"))
            await conn.execute(text(f"SET tcp_keepalives_interval = {interval}"))
            await conn.execute(text(f"SET tcp_keepalives_count = {probes}"))
        except Exception:
            await conn.close()
            raise
        return conn

    async def release(self) -> None:
        """Give every role back (a clean stop: the others need not wait for anything)."""
        async with self._busy:
            if self._conn is not None and self.held:
                try:
                    await asyncio.wait_for(
                        self._conn.execute(text("SELECT pg_advisory_unlock_all()")), self.timeout
                    )
                except Exception as error:
                    log.debug("releasing the role locks failed: %s", type(error).__name__)
            await self._discard()

    async def _discard(self) -> None:
        self.held = set()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # closing a broken connection; PostgreSQL frees the locks anyway
                log.debug("closing a broken lock connection failed", exc_info=True)
