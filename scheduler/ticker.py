"""One tick: take (or keep) the scheduler lock, then run core's sweeps."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from core.digests.schedule import DigestSchedule
from core.kernel.context import Services
from core.runtime.leader import HeldRole, LeaderLock
from core.runtime.sweeps import SweepReport, run_sweeps
from core.store.unit_of_work import Database

log = logging.getLogger(__name__)


class Ticker:
    def __init__(
        self,
        db: Database,
        services: Services,
        schedule: DigestSchedule,
        lock: LeaderLock | HeldRole | None = None,
    ) -> None:
        self.db = db
        self.services = services
        self.schedule = schedule
        self.lock = lock or LeaderLock(db)
        self.last_tick: float | None = None  # time.time() of the last completed tick
        self.last_runs: dict[str, datetime] = {}  # when each sweep with an interval last ran
        self.idle = asyncio.Event()  # set while no tick runs, so a shutdown can let one end
        self.idle.set()

    async def tick(self) -> SweepReport | None:
        """Run the sweeps if this process holds the lock; None when another one ticks."""
        self.idle.clear()
        try:
            return await self._tick()
        finally:
            self.idle.set()

    async def _tick(self) -> SweepReport | None:
        try:
            if not await self.lock.acquire():
                log.debug("another process holds the scheduler lock; not ticking")
                return None
            report = await run_sweeps(self.db, self.services, self.schedule, self.last_runs)
            for name, count in report.counts.items():
                if _did_something(count):  # one line per sweep that sent or changed something
                    log.info("sweep %s: %s", name, count)
            for name in report.failed:
                log.warning("sweep %s failed", name)
            self.last_tick = time.time()
            return report
        except Exception:  # the database may be away for a moment; the next tick retries
            log.exception("scheduler tick failed")
            return None

    async def close(self) -> None:
        await self.lock.release()


def _did_something(count: object) -> bool:
    if isinstance(count, (tuple, list)):
        return any(_did_something(c) for c in count)
    if isinstance(count, dict):
        return any(_did_something(c) for c in count.values())
    return bool(count)
