"""Processes that lease outbox messages, and what happens to their leases when they die.

Every dispatching process registers itself (role, host, pid) and beats a heartbeat. A lease
belongs to its process: a process that starts takes back at once the leases of its own dead
predecessors on the same host (their pid is gone), and any process takes over the leases of a
process whose heartbeat stopped for ``takeover`` seconds. The long lease in
``core.messaging.delivery`` stays as the last resort for rows without an owner.

A message taken from a dead owner may have been on its way when the owner died, so its
``unconfirmed`` count goes up: each possible duplicate is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.store.models import ServiceProcess
from core.store.unit_of_work import UnitOfWork

DEFAULT_TAKEOVER = timedelta(seconds=15)


@dataclass
class LeaseOwner:
    """What a dispatcher knows about the process it runs in.

    ``id`` None: no registered process (tests, one-off commands); leases then only expire.
    """

    id: int | None = None
    takeover: float = DEFAULT_TAKEOVER.total_seconds()
    last_beat: float = field(default_factory=time.monotonic)

    def may_send(self) -> bool:
        """False once our heartbeat is so old that others may have taken our leases."""
        return self.id is None or time.monotonic() - self.last_beat < self.takeover / 2


async def register(
    uow: UnitOfWork, role: str, host: str, pid: int, now: datetime
) -> ServiceProcess:
    process = ServiceProcess(role=role, host=host, pid=pid, started_at=now, heartbeat_at=now)
    return await uow.processes.add(process)


async def beat(uow: UnitOfWork, process_id: int, now: datetime) -> None:
    """We are alive; a process given up for dead while it hung counts as alive again (its
    leases from before are gone, those it takes from now on must be watched again)."""
    await uow.processes.beat(process_id, now)


async def release_predecessors(
    uow: UnitOfWork,
    me: ServiceProcess,
    now: datetime,
    is_gone: Callable[[ServiceProcess], bool],
) -> int:
    """End the processes of our host and role that are gone; returns how many leases came back."""
    candidates = await uow.processes.running_beside(me)
    return await _end(uow, [p for p in candidates if is_gone(p)], now, dead=True)


async def take_over_silent(uow: UnitOfWork, now: datetime, takeover: timedelta) -> int:
    """End every process whose heartbeat stopped; returns how many leases came back."""
    silent = await uow.processes.silent_since(now - takeover)
    return await _end(uow, silent, now, dead=True)


async def end(uow: UnitOfWork, process_id: int, now: datetime) -> int:
    """A clean shutdown: what we still hold goes back without counting as unconfirmed."""
    process = await uow.processes.get(process_id)
    return await _end(uow, [process] if process else [], now, dead=False)


async def _end(
    uow: UnitOfWork, processes: Sequence[ServiceProcess], now: datetime, *, dead: bool
) -> int:
    if not processes:
        return 0
    for process in processes:
        process.ended_at = now
    return await uow.processes.free_leases([p.id for p in processes], unconfirmed=dead)
