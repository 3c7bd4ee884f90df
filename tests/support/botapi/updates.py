"""The pending-update queue behind getUpdates (long polling) and webhook delivery."""

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from .errors import conflict

# Delivered only when asked for explicitly, as on the real server.
_OPT_IN_KINDS = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def update_kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


@dataclass
class _Entry:
    update: dict[str, Any]
    replay: bool  # an injected duplicate: survives offset confirmation until delivered once
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return self.update["update_id"]


class UpdateQueue:
    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._changed = asyncio.Event()
        self._poller: _Poll | None = None  # the getUpdates request currently waiting
        self.allowed_updates: list[str] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, update: dict[str, Any], replay: bool = False) -> None:
        self._entries.append(_Entry(update, replay))
        self._wake()

    def clear(self) -> None:
        self._entries.clear()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def release_poll(self) -> None:
        """Let a waiting long poll return empty at once, e.g. on shutdown or setWebhook."""
        if self._poller is not None:
            self._poller.stop(terminated=False)

    def confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._entries = self._entries[offset:]
            return
        self._entries = [e for e in self._entries if e.update_id >= offset or _keep_replay(e)]

    def take(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates or ())
        self._entries = [e for e in self._entries if _is_allowed(e.update, allowed)]
        batch = self._entries[:limit]
        for entry in batch:
            entry.delivered = True
        return [entry.update for entry in batch]

    def peek(self) -> dict[str, Any] | None:
        return self._entries[0].update if self._entries else None

    def remove_first(self) -> None:
        if self._entries:
            self._entries.pop(0)

    async def changed(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def long_poll(self, offset: int | None, limit: int, timeout: float) -> list[dict]:
        """getUpdates: confirm ``offset``, then wait up to ``timeout`` s for something to return."""
        if self._poller is not None:
            self._poller.stop(terminated=True)  # a newer getUpdates ends the older one
        poll = self._poller = _Poll()
        try:
            self.confirm(offset)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                if poll.terminated:
                    raise conflict(
                        "terminated by other getUpdates request; "
                        "make sure that only one bot instance is running"
                    )
                batch = [] if poll.stopped.is_set() else self.take(limit)
                remaining = deadline - asyncio.get_running_loop().time()
                if batch or remaining <= 0 or poll.stopped.is_set():
                    return batch
                await self._wait_either(poll.stopped, remaining)
        finally:
            if self._poller is poll:
                self._poller = None

    async def _wait_either(self, stopped: asyncio.Event, timeout: float) -> None:
        waiters = [
            asyncio.ensure_future(self._changed.wait()),
            asyncio.ensure_future(stopped.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


class _Poll:
    def __init__(self) -> None:
        self.stopped = asyncio.Event()
        self.terminated = False

    def stop(self, terminated: bool) -> None:
        self.terminated = terminated
        self.stopped.set()


def _keep_replay(entry: _Entry) -> bool:
    return entry.replay and not entry.delivered


def _is_allowed(update: dict[str, Any], allowed: set[str]) -> bool:
    kind = update_kind(update)
    if allowed:
        return kind in allowed
    return kind not in _OPT_IN_KINDS
