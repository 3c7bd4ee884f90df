"""A queued broadcast delivered by ``zukunftsraum run``, killed with -9 and started again.

Shared by the channel benchmarks (Telegram, email). A channel's receiving end (the fake Bot
API, the SMTP server) is seen through a ``Receiver``: how many distinct messages arrived,
whether a given outbox row arrived, and when the first message arrived after a point in time.
At each kill the outbox tells what the dead process held (rows still ``sending``) and the
receiver which of those had arrived already: those, and only those, can arrive twice.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select

from core.kernel.clock import system_clock
from core.kernel.replies import Choice, Reply
from core.messaging.outbox import enqueue
from core.municipalities.directory import bundled_index
from core.municipalities.reference import _row
from core.store.models import OutboxMessage
from core.store.schema import upgrade
from core.store.unit_of_work import Database
from tests.support.service import ServiceUnderTest

READY_LINE = "Beenden mit Strg+C."  # the last line ``zukunftsraum run`` prints at start
TOWNS = ["12073452", "12073572", "14626110", "08311000", "14521690", "05358008"]


class Receiver(Protocol):
    def update(self) -> int:
        """Take in what arrived since the last call; the number of distinct messages."""

    def has(self, row: OutboxMessage) -> bool:
        """Has this outbox message arrived (at least once)?"""

    def mark(self) -> int:
        """A position in the arrivals, for ``first_after``."""

    def first_after(self, mark: int) -> float | None:
        """Arrival (monotonic clock) of the first broadcast message after ``mark``."""


@dataclass(frozen=True)
class Kill:
    share: float
    arrived: int  # distinct messages at the receiver when the process was killed
    held: int  # leased by the killed process: in flight, not recorded as sent
    unrecorded: int  # of them, already at the receiver: the possible duplicates
    killed_at: float  # monotonic
    restarted_at: float
    ready_at: float  # the new process printed that it runs
    first_send: float

    @property
    def restart_to_send(self) -> float:
        return self.first_send - self.restarted_at


async def setup_database(path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    index = bundled_index()
    async with db.uow() as uow:
        await uow.municipalities.upsert_many(_row(index.get(ags)) for ags in TOWNS)
        await uow.commit()
    return db


async def queue_broadcast(
    db: Database, member_ids: list[int], messages: int, subject: str = ""
) -> None:
    """Round by round, like repeated newsletters: message i goes to member i mod members."""
    now = system_clock()
    for start in range(0, messages, 1000):
        async with db.uow() as uow:
            members = {m: await uow.members.get(m) for m in member_ids}
            for number in range(start, min(start + 1000, messages)):
                member = members[member_ids[number % len(member_ids)]]
                reply = Reply(
                    f"Neuigkeit {number}: ein neuer Beitrag passt zu Ihnen.",
                    [Choice("Ansehen", "/treffer")],
                )
                enqueue(uow, member, reply, kind="bench", subject=subject, now=now)
            await uow.commit()


async def open_count(db: Database) -> int:
    """Rows still to be sent. A count, not the rows: the benchmark process also serves the
    fake server, and loading 10,000 rows every second would slow what is measured."""
    async with db.uow() as uow:
        stmt = select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
        return await uow.session.scalar(stmt.select_from(OutboxMessage)) or 0


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage)))


async def kill_during_delivery(
    service: ServiceUnderTest,
    db: Database,
    receiver: Receiver,
    messages: int,
    shares: Sequence[float] = (0.3, 0.7),
    on_poll: Callable[[], None] = lambda: None,
    jitter: int = 0,
) -> list[Kill]:
    """Kill the running service at each share of ``messages`` received, start it at once.

    ``jitter``: kill up to this many messages later (seeded), so that a kill does not always
    land where a dispatcher that works in batches happens to be between two of them.
    """
    rng = random.Random(len(shares) * messages)
    kills = []
    for share in shares:
        target = share * messages + rng.randint(0, jitter)
        while receiver.update() < target:
            await asyncio.sleep(0.01)
            on_poll()
        await service.kill()
        killed_at = time.monotonic()
        arrived = receiver.update()
        held = [m for m in await outbox_rows(db) if m.status == "sending"]
        unrecorded = sum(1 for m in held if receiver.has(m))
        mark = receiver.mark()
        restarted_at = time.monotonic()
        await service.start()
        ready_at = None
        while (first_send := receiver.first_after(mark)) is None or ready_at is None:
            if ready_at is None and READY_LINE in service.output():
                ready_at = time.monotonic()
            await asyncio.sleep(0.02)
        kills.append(
            Kill(
                share, arrived, len(held), unrecorded, killed_at, restarted_at, ready_at, first_send
            )
        )
    return kills


async def until_all_final(
    db: Database, receiver: Receiver, timeout: float = 1800
) -> list[OutboxMessage]:
    """Wait until no message is pending or being sent; the outbox rows then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        receiver.update()
        if not await open_count(db):
            return await outbox_rows(db)
    raise TimeoutError(f"outbox not delivered after {timeout:.0f} s")


def leases_taken_back(service: ServiceUnderTest) -> list[int]:
    """What each restart reported as taken back from its dead predecessor."""
    return [
        int(n)
        for start in range(1, service.starts + 1)
        for n in re.findall(r"wieder aufgenommen: (\d+)", service.output(start))
    ]


def sustained_rate(arrivals: Sequence[float], kills: Sequence[Kill]) -> tuple[float, float]:
    """Messages per second while a process was running (restarts left out), and overall."""
    arrivals = sorted(arrivals)
    span = arrivals[-1] - arrivals[0]
    gaps = sum(k.first_send - k.killed_at for k in kills)
    return (len(arrivals) - 1) / max(span - gaps, 1e-9), (len(arrivals) - 1) / max(span, 1e-9)


def print_kills(kills: Sequence[Kill]) -> None:
    for k in kills:
        print(
            f"  kill at {k.share:.0%} ({k.arrived} arrived): in flight (leased by the killed "
            f"process, not recorded as sent) {k.held}, of them delivered but not recorded "
            f"{k.unrecorded}; "
            f"restart -> first send {k.restart_to_send:.1f} s (process up and printing "
            f"after {k.ready_at - k.restarted_at:.1f} s)"
        )
