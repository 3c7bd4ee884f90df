"""The operator log counts a large send as it goes: ``zukunftsraum run``'s email dispatcher
delivering a digest to many members logs a running count (ids and counts, never an address
or a text), and a last line when it is through; small sends and answers get none."""

from __future__ import annotations

import logging

import pytest

from core.kernel.replies import Reply
from core.members import accounts as members
from core.messaging import outbox, progress
from core.messaging.progress import SendProgress
from tests.email_world import MailWorld

BODY = "Ihre Zusammenfassung: drei neue Angebote in Ihrer Nähe"


async def _queue(world: MailWorld, kind: str, count: int, start: int = 0) -> None:
    async with world.db.uow() as uow:
        now = world.clock()
        for n in range(start, start + count):
            member = await members.add_member(
                uow,
                members.NewMember(
                    f"Mitglied {n}", "volunteer", "12073452", email=f"m{n}@dorf.example",
                    consent=True,
                ),
                now,
            )  # fmt: skip
            outbox.enqueue(uow, member, Reply(BODY), kind=kind, now=now)
        await uow.commit()


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == progress.__name__]


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def test_a_large_send_is_counted_as_it_goes(world, caplog):
    caplog.set_level(logging.INFO)
    await _queue(world, "member_digest", 150)
    await _queue(world, "answer", 30, start=150)  # answers are never a broadcast
    await world.dispatcher.drain()
    assert len(world.sent_files()) == 180

    lines = _lines(caplog)
    running = [line for line in lines if "broadcast sending" in line]
    assert running[0].startswith("email member_digest broadcast sending: 20 of 150 delivered")
    # A line at about every tenth, counts rising, never more lines than tenths.
    counts = [int(line.split(": ")[1].split(" of")[0]) for line in running]
    assert counts == sorted(counts) and len(running) <= progress.STEPS
    assert all(" of 150 delivered, 0 failed (outbox ids " in line for line in running)
    assert lines[-1].startswith("email member_digest broadcast done: 150 delivered, 0 failed")
    print("\n".join(lines))
    assert not any("answer" in line for line in lines)
    for line in lines:
        assert "@" not in line and "Zusammenfassung" not in line


async def test_small_sends_get_no_running_count(world, caplog):
    caplog.set_level(logging.INFO)
    await _queue(world, "event_cancelled", 40)
    await world.dispatcher.drain()
    assert len(world.sent_files()) == 40
    assert _lines(caplog) == []


async def test_failed_and_moved_messages_are_counted(db, caplog):
    """The count itself against the real queue: what is still waiting makes the total."""
    caplog.set_level(logging.INFO)
    counter = SendProgress("telegram", large=10, steps=2)
    async with db.uow() as uow:
        for n in range(1, 11):
            counter.note("broadcast", n, progress.DELIVERED if n % 5 else progress.FAILED)
        counter.note("broadcast", 11, progress.MOVED)
        lines = await counter.report(uow)
    assert lines == [
        "telegram broadcast broadcast done: 8 delivered, 2 failed, "
        "1 moved to another channel (outbox ids 1-11)"
    ]
    assert [r.getMessage() for r in caplog.records] == lines
