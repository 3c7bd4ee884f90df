"""Telegram's flood limits, enforced strictly with sliding windows.

The real server tolerates short bursts; the fake is stricter on purpose, so a sender that passes
here will not be throttled in production. Accepted messages are always timestamped so that a
benchmark can compute throughput and latency even when enforcement is off.
"""

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import too_many_requests


@dataclass
class RateLimits:
    enabled: bool = False
    global_per_second: int = 30
    private_chat_per_second: int = 1
    group_per_minute: int = 20
    counted_methods: frozenset[str] = frozenset({"sendmessage", "senddocument"})

    @classmethod
    def telegram(cls) -> "RateLimits":
        """Limits as documented for ordinary bots, switched on."""
        return cls(enabled=True)


@dataclass
class Rejection:
    at: float
    chat_id: int | str
    method: str
    retry_after: int


@dataclass
class Acceptance:
    at: float
    chat_id: int | str
    method: str


class _Window:
    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def retry_after(self, now: float) -> float:
        """Seconds until one more event fits; 0 when it fits now."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[0] + self.seconds - now


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    accepted: list[Acceptance] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.configure(self.limits)

    def configure(self, limits: RateLimits) -> None:
        """Apply new limits and start with empty windows (the statistics are kept)."""
        self.limits = limits
        self._global = _Window(limits.global_per_second, 1.0)
        self._chats: dict[int | str, _Window] = {}

    @property
    def too_many_requests(self) -> int:
        return len(self.rejected)

    def admit(self, method: str, chat_id: int | str) -> float:
        """Record a message or raise the 429 Telegram would answer; returns the timestamp."""
        now = self.clock()
        method = method.lower()
        if method not in self.limits.counted_methods:
            return now
        windows = [self._global, self._chat_window(chat_id)]
        wait = max(window.retry_after(now) for window in windows)  # also prunes old stamps
        if self.limits.enabled and wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.rejected.append(Rejection(now, chat_id, method, retry_after))
            raise too_many_requests(retry_after)
        for window in windows:
            window.stamps.append(now)
        self.accepted.append(Acceptance(now, chat_id, method))
        return now

    def _chat_window(self, chat_id: int | str) -> _Window:
        if chat_id not in self._chats:
            self._chats[chat_id] = self._new_chat_window(chat_id)
        return self._chats[chat_id]

    def _new_chat_window(self, chat_id: int | str) -> _Window:
        if isinstance(chat_id, int) and chat_id > 0:
            return _Window(self.limits.private_chat_per_second, 1.0)
        return _Window(self.limits.group_per_minute, 60.0)
