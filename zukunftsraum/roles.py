"""Which roles this process plays, and the election of the singleton ones.

Roles (``zukunftsraum run --roles``): ``outbox`` (the dispatchers; every process may, leases
keep them apart), ``scheduler`` (the sweep tick), ``telegram`` (receiving updates) and ``imap``
(mail intake, one role per mailbox folder). The singleton roles are elected: a process runs
such a component only while it holds the role's lock (``core.store.role_locks``), checks every
``interval`` seconds, and stops the component when it loses the lock. A process that dies
frees its locks at once; the others notice at their next check, so a role is taken over
within ``interval`` plus the component's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.store.role_locks import RoleLocks

log = logging.getLogger(__name__)

ROLES = ("scheduler", "telegram", "imap", "outbox")
STOP_GRACE_SECONDS = 30


class RolesError(ValueError):
    pass


def parse_roles(value: str | None) -> frozenset[str]:
    """``"scheduler,outbox"`` -> those roles; empty or None: all of them."""
    if value is None or not value.strip():
        return frozenset(ROLES)
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in ROLES]
    if unknown:
        raise RolesError(f"--roles: unbekannte Rolle {unknown[0]!r} – erlaubt: {', '.join(ROLES)}")
    return frozenset(names)


@dataclass(frozen=True)
class ElectedComponent:
    """A component that runs only while this process holds ``lock_name``."""

    lock_name: str  # e.g. "scheduler", "telegram-polling", "imap:user@host/INBOX"
    label: str
    run: Callable[[asyncio.Event], Awaitable[None]]


class Running:
    def __init__(self, component: ElectedComponent) -> None:
        self.component = component
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(component.run(self.stop), name=component.label)

    async def end(self) -> None:
        self.stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), STOP_GRACE_SECONDS)
        except TimeoutError:
            self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


class Election:
    """Holds what it can of ``components``' roles and runs exactly the components it holds."""

    def __init__(
        self,
        locks: RoleLocks,
        components: list[ElectedComponent],
        *,
        interval: float = 5.0,
        on_failure: Callable[[asyncio.Task], None] | None = None,
        on_change: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.locks = locks
        self.components = {c.lock_name: c for c in components}
        self.interval = interval
        self.on_failure = on_failure
        self.on_change = on_change
        self.running: dict[str, Running] = {}
        self.checked = asyncio.Event()  # set after the first check

    @property
    def held(self) -> set[str]:
        return set(self.running)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.check()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            await asyncio.gather(*(self._lose(name) for name in list(self.running)))
            await self.locks.release()

    async def check(self) -> None:
        held = await self.locks.refresh(self.components)
        for name in list(self.running):
            task = self.running[name].task
            if name not in held or task.done():
                await self._lose(name)
        for name in sorted(held - set(self.running)):
            self._take(name)
        self.checked.set()

    def _take(self, name: str) -> None:
        running = Running(self.components[name])
        if self.on_failure is not None:
            running.task.add_done_callback(self.on_failure)
        self.running[name] = running
        log.info("role taken: %s", name)
        if self.on_change is not None:
            self.on_change(name, True)

    async def _lose(self, name: str) -> None:
        running = self.running.pop(name)
        await running.end()
        log.info("role given up: %s", name)
        if self.on_change is not None:
            self.on_change(name, False)
