"""The write gate hands the SQLite write lock on by priority: a member's answer first."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.kernel.context import Sender
from core.store.models import ProcessedEvent
from core.store.unit_of_work import WriteAttempted
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


async def test_help_is_answered_while_background_work_holds_the_gate(db, assistant):
    """/hilfe only reads: it neither queues behind the dispatcher's bookkeeping nor records
    anything (on SQLite it would wait here for ever if it needed the gate we hold)."""
    sender = Sender("telegram", "77")
    async with db.uow(WritePriority.BACKGROUND):
        replies = await asyncio.wait_for(
            assistant.handle(sender, "/hilfe", event=("telegram", "1")), 60
        )
    assert "/biete" in replies[0].text
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


async def test_help_that_ends_a_dialogue_still_writes(db, person):
    """A command ends a member's open dialogue, which is a write: /hilfe then goes through
    the ordinary transaction and the dialogue is gone. (A registration under way is left
    running: tests/test_pending_intent.py.)"""
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/biete")  # asks what she offers
    async with db.uow() as uow:
        assert await uow.dialogues.get(anna.sender.key) is not None
    await anna.say("/hilfe")
    assert "/biete" in anna.text
    async with db.uow() as uow:
        assert await uow.dialogues.get(anna.sender.key) is None


async def test_a_reader_refuses_to_write(db, clock):
    async with db.reader() as uow:
        uow.add(ProcessedEvent(source="test", key="1", processed_at=clock()))
        assert uow.changed
        with pytest.raises(WriteAttempted):
            await uow.flush()
    async with db.reader() as uow:
        with pytest.raises(WriteAttempted):
            await uow.processed.first_time("test", "2", clock())
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


@pytest.mark.parametrize("opens_a_dialogue", [False, True])
async def test_a_read_only_command_is_parsed_once(db, person, monkeypatch, opens_a_dialogue):
    """The parse that chose the read-only path is the one the command runs with, also
    when it falls back to the ordinary transaction (an open dialogue ends)."""
    anna = person("anna")
    if opens_a_dialogue:
        await anna.say("/start")
    grammar = anna.assistant.grammar
    parse, parsed = grammar.parse, []

    def counting(text):
        parsed.append(text)
        return parse(text)

    monkeypatch.setattr(grammar, "parse", counting)
    await anna.say("/hilfe")
    assert "/biete" in anna.text and parsed == ["/hilfe"]
