"""Only one process ticks the scheduler: the "scheduler" role of ``core.store.role_locks``.

``LeaderLock`` is the scheduler's view of a role: ``acquire`` says whether this process may tick
now. Standing alone it holds the role itself; ``zukunftsraum run`` instead hands the ticker a
view of the roles its election holds (``HeldRole``).
"""

from __future__ import annotations

from collections.abc import Callable

from core.store.role_locks import SCHEDULER_LOCK, RoleLocks
from core.store.unit_of_work import Database

__all__ = ["SCHEDULER_LOCK", "HeldRole", "LeaderLock"]


class LeaderLock:
    def __init__(self, db: Database, role: str = "scheduler") -> None:
        self.role = role
        self._locks = RoleLocks(db)

    @property
    def held(self) -> bool:
        return self.role in self._locks.held

    async def acquire(self) -> bool:
        """True when this process may tick now (re-checked at every tick)."""
        return self.role in await self._locks.refresh([self.role])

    async def release(self) -> None:
        await self._locks.release()


class HeldRole:
    """A role held by someone else's election: ``acquire`` only looks, ``release`` does nothing."""

    def __init__(self, role: str, held: Callable[[], set[str]]) -> None:
        self.role = role
        self._held = held

    @property
    def held(self) -> bool:
        return self.role in self._held()

    async def acquire(self) -> bool:
        return self.held

    async def release(self) -> None:
        return None
