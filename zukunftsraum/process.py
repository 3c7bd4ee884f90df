"""This process as the owner of outbox leases: registered at start, a heartbeat while running.

On start, the leases of this host's dead predecessors (same role, their pid is gone) come back
at once, so a restart after ``kill -9`` delivers again within seconds. While running, every
heartbeat also takes over the leases of any process whose heartbeat stopped for
``ZR_LEASE_TAKEOVER_SECONDS`` (another host, or a process that hangs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from datetime import timedelta

from core.runtime import processes
from core.runtime.processes import LeaseOwner
from core.store.models import ServiceProcess
from core.store.unit_of_work import Database

log = logging.getLogger(__name__)


def pid_gone(process: ServiceProcess) -> bool:
    """A registered process of this host that cannot be running any more."""
    if process.pid == os.getpid():
        return True  # a former life of ours (e.g. pid 1 in a restarted container)
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


class ProcessRegistration:
    def __init__(
        self,
        db: Database,
        clock,
        *,
        role: str = "run",
        heartbeat_seconds: float = 2.0,
        takeover_seconds: float = 15.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.role = role
        self.heartbeat_seconds = heartbeat_seconds
        self.takeover = timedelta(seconds=takeover_seconds)
        self.owner = LeaseOwner(takeover=takeover_seconds)
        self.released_at_start = 0
        self.taken_over = 0

    async def start(self) -> int:
        """Register; returns how many leases of dead predecessors came back."""
        async with self.db.uow() as uow:
            now = self.clock()
            me = await processes.register(uow, self.role, socket.gethostname(), os.getpid(), now)
            self.released_at_start = await processes.release_predecessors(uow, me, now, pid_gone)
            await uow.commit()
        self.owner.id = me.id
        self.owner.last_beat = time.monotonic()
        if self.released_at_start:
            log.info("took back %d leases of a dead predecessor", self.released_at_start)
        return self.released_at_start

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.heartbeat_seconds)
                if not stop.is_set():
                    await self.beat()
        finally:
            await self.close()

    async def beat(self) -> None:
        try:
            async with self.db.uow() as uow:
                now = self.clock()
                await processes.beat(uow, self.owner.id, now)
                taken = await processes.take_over_silent(uow, now, self.takeover)
                await uow.commit()
        except Exception as error:  # the database is away: try again at the next beat
            log.error("heartbeat not recorded: %s", type(error).__name__)
            return
        self.owner.last_beat = time.monotonic()
        if taken:
            self.taken_over += taken
            log.warning("took over %d leases of a process whose heartbeat stopped", taken)

    async def close(self) -> None:
        if self.owner.id is None:
            return
        try:
            async with self.db.uow() as uow:
                await processes.end(uow, self.owner.id, self.clock())
                await uow.commit()
        except Exception as error:
            log.error("process end not recorded: %s", type(error).__name__)
