"""Singleton roles: one holder at a time on PostgreSQL, taken over when the holder's
connection dies, and a component that loses its role stops."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from core.store.role_locks import RoleLocks, lock_key
from core.store.unit_of_work import Database
from tests.conftest import database_url
from tests.support.waiting import eventually
from zukunftsraum.roles import ROLES, ElectedComponent, Election, RolesError, parse_roles

on_postgresql = pytest.mark.skipif(
    database_url().startswith("sqlite"),
    reason="advisory locks need PostgreSQL (SQLite: one process)",
)


def test_roles_option_is_parsed_and_checked():
    assert parse_roles(None) == set(ROLES)
    assert parse_roles("") == set(ROLES)
    assert parse_roles(" Scheduler , outbox,") == {"scheduler", "outbox"}
    with pytest.raises(RolesError) as error:
        parse_roles("scheduler,polling")
    assert "'polling'" in str(error.value) and "outbox" in str(error.value)


def test_run_refuses_an_unknown_role_in_one_line(cli):
    result = cli("run", "--roles", "scheduler,zaubern")
    assert result.returncode == 2
    assert "unbekannte Rolle 'zaubern'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_lock_keys_are_stable_and_distinct():
    keys = {lock_key(r) for r in ("scheduler", "telegram-polling", "imap:a@h:993/INBOX")}
    assert len(keys) == 3
    assert lock_key("imap:a@h:993/INBOX") == lock_key("imap:a@h:993/INBOX")
    assert all(-(2**63) <= k < 2**63 for k in keys)


class Worker:
    """A component that notes whether it runs."""

    def __init__(self) -> None:
        self.running = False
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        self.running = True
        self.runs += 1
        try:
            await stop.wait()
        finally:
            self.running = False


async def test_sqlite_process_holds_every_role(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    try:
        worker = Worker()
        election = Election(RoleLocks(db), [ElectedComponent("scheduler", "w", worker.run)])
        await election.check()
        await asyncio.sleep(0)
        assert election.held == {"scheduler"} and worker.running
        stop = asyncio.Event()
        stop.set()
        await election.run(stop)
        assert not worker.running and election.held == set()
    finally:
        await db.dispose()


async def _backend_pid(locks: RoleLocks) -> int:
    return await locks._conn.scalar(text("SELECT pg_backend_pid()"))


async def _kill_backend(db: Database, pid: int) -> None:
    """End a connection's server process, as a kill -9 of its client would, and wait until it
    is gone: pg_terminate_backend only sends the signal, the locks go when the process exits."""
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    async def gone() -> bool:
        async with db.engine.connect() as conn:
            alive = await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        return not alive

    await eventually(gone, 30, "the terminated backend to exit")


@on_postgresql
async def test_one_holder_and_takeover_when_the_holder_connection_dies():
    one, two = Database(database_url()), Database(database_url())  # two processes
    try:
        a, b = RoleLocks(one), RoleLocks(two)
        assert await a.refresh(["scheduler", "imap:x"]) == {"scheduler", "imap:x"}
        assert await b.refresh(["scheduler", "imap:x", "telegram-polling"]) == {"telegram-polling"}
        assert await a.refresh(["scheduler", "imap:x"]) == {"scheduler", "imap:x"}
        # The holder's connection dies (as when its process is killed with -9).
        await _kill_backend(two, await _backend_pid(a))
        assert await b.refresh(["scheduler", "imap:x", "telegram-polling"]) == {
            "scheduler",
            "imap:x",
            "telegram-polling",
        }
        assert await a.refresh(["scheduler", "imap:x"]) == set()  # noticed, nothing held
        await b.release()  # a clean stop gives everything back at once
        assert await a.refresh(["scheduler"]) == {"scheduler"}
        await a.release()
    finally:
        await one.dispose()
        await two.dispose()


@on_postgresql
async def test_a_component_that_loses_its_role_stops_and_the_other_process_starts_it():
    one, two = Database(database_url()), Database(database_url())
    try:
        first, second = Worker(), Worker()
        a = Election(RoleLocks(one), [ElectedComponent("telegram-polling", "p", first.run)])
        b = Election(RoleLocks(two), [ElectedComponent("telegram-polling", "p", second.run)])
        await a.check()
        await b.check()
        await asyncio.sleep(0)
        assert first.running and not second.running
        await _kill_backend(two, await _backend_pid(a.locks))
        await b.check()
        await a.check()
        await asyncio.sleep(0)
        assert second.running and not first.running
        assert a.held == set() and b.held == {"telegram-polling"}
        stop = asyncio.Event()
        stop.set()
        await b.run(stop)
        await a.check()  # given back on a clean stop: the first process takes it again
        await asyncio.sleep(0)
        assert first.running and first.runs == 2
        await a.run(stop)
    finally:
        await one.dispose()
        await two.dispose()
