"""The scheduler component of ``zukunftsraum run``: APScheduler ticks the sweeps.

Jobs are defined here in code and kept in memory (no pickled jobs): one interval job
every ``ZR_SWEEP_SECONDS``. A tick that is still running when the next is due is not
started twice (``max_instances=1``); missed ticks collapse into one (``coalesce``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.config import digest_schedule
from scheduler.ticker import Ticker

SHUTDOWN_GRACE_SECONDS = 30


def ticker_for(app, lock=None) -> Ticker:
    """``lock``: the scheduler role as the process's election holds it (default: its own)."""
    return Ticker(app.db, app.services, digest_schedule(app.settings), lock)


async def run(app, stop: asyncio.Event, ticker: Ticker | None = None) -> None:
    ticker = ticker or ticker_for(app)
    scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
    scheduler.add_job(
        ticker.tick,
        "interval",
        seconds=app.settings.sweep_seconds,
        id="sweep",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.pause()  # no new tick; one under way ends its transactions first
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ticker.idle.wait(), SHUTDOWN_GRACE_SECONDS)
        scheduler.shutdown(wait=False)
        await ticker.close()
