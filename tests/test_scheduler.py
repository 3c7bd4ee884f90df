"""The scheduler: one ticker at a time on PostgreSQL; a tick runs every sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest

from core.digests.schedule import DigestSchedule
from core.exchange.match_index import MatchIndex
from core.feature_set import make_services
from core.kernel.context import Services
from core.municipalities.directory import MunicipalityIndex
from core.store.unit_of_work import Database
from scheduler.ticker import Ticker
from tests.conftest import FakeClock, database_url
from tests.eventkit import BERLIN, add_event, add_people, berlin, outbox, register

SCHEDULE = DigestSchedule(tz=BERLIN)


def _services(clock) -> Services:
    return make_services(index=MatchIndex(), municipalities=MunicipalityIndex([]), clock=clock)


async def test_tick_runs_sweeps_and_a_new_ticker_repeats_nothing(db):
    clock = FakeClock(berlin(2026, 12, 3, 9, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 2)
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, berlin(2026, 12, 1, 9, 0))
    first = Ticker(db, _services(clock), SCHEDULE)
    report = await first.tick()
    assert report is not None and report.failed == [] and report.counts["reminders"] == 2
    await first.close()
    restarted = Ticker(db, _services(clock), SCHEDULE)
    assert (await restarted.tick()).counts["reminders"] == 0
    await restarted.close()
    assert len(await outbox(db, "event_reminder")) == 2


@pytest.mark.skipif(
    database_url().startswith("sqlite"),
    reason="advisory locks need PostgreSQL (SQLite: one process)",
)
async def test_second_ticker_on_postgresql_does_not_tick(db):
    clock = FakeClock(berlin(2026, 12, 3, 9, 0).astimezone(UTC))
    other_process = Database(database_url())  # its own engine and connections
    try:
        one = Ticker(db, _services(clock), SCHEDULE)
        two = Ticker(other_process, _services(clock), SCHEDULE)
        assert await one.tick() is not None
        assert await two.tick() is None
        assert await two.tick() is None
        assert await one.tick() is not None  # the holder keeps ticking
        await one.close()  # e.g. the first process stops
        assert await two.tick() is not None
        await two.close()
    finally:
        await other_process.dispose()


async def test_scheduler_component_ticks_until_stopped(db, monkeypatch):
    from scheduler import service

    class App:  # the parts of zukunftsraum.bootstrap.App the component reads
        def __init__(self):

            from core.municipalities.directory import MunicipalityIndex
            from zukunftsraum.settings import load_settings

            self.db = db
            self.settings = load_settings(sweep_seconds=1)
            self.services = make_services(index=MatchIndex(), municipalities=MunicipalityIndex([]))

    ticks = []
    original = Ticker.tick

    async def counting(self):
        ticks.append(await original(self))
        return ticks[-1]

    monkeypatch.setattr(Ticker, "tick", counting)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(App(), stop))
    while not ticks:
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert ticks[0] is not None and ticks[0].failed == []


async def test_a_failing_sweep_is_logged_once_and_the_others_go_on(db, clock, monkeypatch, caplog):
    from dataclasses import replace

    from core.feature_set import all_features
    from core.kernel.features import Sweep, assemble
    from core.runtime import sweeps

    async def broken(uow, ctx):
        raise RuntimeError("expiry is broken")

    features = assemble(
        replace(f, sweeps=(Sweep("expiry", broken),)) if f.name == "exchange" else f
        for f in all_features().features
    )
    services = replace(_services(clock), features=features)
    for _ in range(3):
        report = await sweeps.run_sweeps(db, services, SCHEDULE)
        clock.advance(minutes=1)
        assert report.failed == ["expiry"] and "reminders" in report.counts
    errors = [r for r in caplog.records if r.levelname == "ERROR" and "expiry" in r.getMessage()]
    assert len(errors) == 1 and errors[0].exc_info is None  # one line, no traceback


async def test_a_sweep_with_an_interval_runs_only_when_due(db):
    """The knowledge file cleanup declares an hour: the ticks in between run the other
    sweeps but not it; a one-off run (no ticker) runs every sweep."""
    from core.knowledge.feature import UNUSED_FILES_EVERY
    from core.runtime import sweeps

    clock = FakeClock(berlin(2026, 12, 3, 9, 0).astimezone(UTC))
    ticker = Ticker(db, _services(clock), SCHEDULE)
    ran = []
    for _ in range(61):
        report = await ticker.tick()
        assert report is not None and report.failed == [] and "reminders" in report.counts
        ran.append("knowledge_files" in report.counts)
        clock.advance(minutes=1)
    await ticker.close()
    assert timedelta(hours=1) == UNUSED_FILES_EVERY
    assert ran[0] and ran[60] and not any(ran[1:60])
    report = await sweeps.run_sweeps(db, _services(clock), SCHEDULE)
    assert "knowledge_files" in report.counts
