"""The write gate hands the SQLite write lock on by priority: a member's answer first."""

from __future__ import annotations

import asyncio

from core.store.write_gate import WriteGate, WritePriority


async def test_waiting_answers_go_before_waiting_background_work():
    gate = WriteGate()
    order: list[str] = []
    holder_in = asyncio.Event()
    release = asyncio.Event()

    async def holder():
        async with gate.turn(WritePriority.BACKGROUND):
            holder_in.set()
            await release.wait()

    async def one(name: str, priority: WritePriority):
        async with gate.turn(priority):
            order.append(name)

    first = asyncio.create_task(holder())
    await holder_in.wait()
    waiting = [
        asyncio.create_task(one("record 1", WritePriority.BACKGROUND)),
        asyncio.create_task(one("record 2", WritePriority.BACKGROUND)),
        asyncio.create_task(one("answer", WritePriority.INTERACTIVE)),
    ]
    await asyncio.sleep(0)  # all three are queued behind the holder
    release.set()
    await asyncio.gather(first, *waiting)
    assert order == ["answer", "record 1", "record 2"]


async def test_a_cancelled_waiter_does_not_block_the_gate():
    gate = WriteGate()
    holder_in, release = asyncio.Event(), asyncio.Event()

    async def holder():
        async with gate.turn(WritePriority.BACKGROUND):
            holder_in.set()
            await release.wait()

    async def waiter():
        async with gate.turn(WritePriority.INTERACTIVE):
            pass

    first = asyncio.create_task(holder())
    await holder_in.wait()
    cancelled = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await first
    async with gate.turn(WritePriority.BACKGROUND):  # the gate is free again
        pass


async def test_a_database_hands_sqlite_writers_through_the_gate(db):
    async with db.uow(WritePriority.BACKGROUND):
        # SQLite has one writer: writers queue here. PostgreSQL locks rows: none queue.
        assert db.gate.busy is db.is_sqlite
    assert not db.gate.busy
    async with db.uow():  # a reading transaction does not queue
        assert not db.gate.busy
