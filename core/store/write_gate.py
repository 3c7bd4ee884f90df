"""One SQLite write transaction at a time within a process, answers to members first.

SQLite lets one connection write at a time; the others poll with growing sleeps (up to 100 ms
each) until the lock is free, in no particular order. Under a broadcast the dispatcher's
lease and record transactions then keep a member's answer waiting for seconds. Transactions
that pass through this gate instead queue in the process by priority and take the lock the
moment it is free: a member's answer waits at most for the one transaction in progress.
PostgreSQL locks rows, not the database, and needs no gate.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from contextlib import asynccontextmanager
from enum import IntEnum


class WritePriority(IntEnum):
    INTERACTIVE = 0  # a member's message and its answer
    BACKGROUND = 1  # delivery bookkeeping, sweeps


class WriteGate:
    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()

    @property
    def busy(self) -> bool:
        return self._busy

    @asynccontextmanager
    async def turn(self, priority: WritePriority):
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: WritePriority) -> None:
        if not self._busy and not self._waiting:
            self._busy = True
            return
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (int(priority), next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the turn was handed over just as we were cancelled
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # _busy stays True: the turn passes on directly
                return
        self._busy = False
