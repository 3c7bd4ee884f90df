"""Faults the fake Bot API can inject: server errors, slow answers, bursts of 429s.

Blocked users (403) are part of the simulated world (``FakeTelegram.block_bot``) and the
limit-enforcing mode is ``RateLimits``; this module adds what goes wrong on Telegram's side.
A slow answer is slow *after* the message was recorded, as on a congested server: a client that
gives up waiting has still delivered the message.
"""

from collections import deque
from dataclasses import dataclass, field

from .errors import ApiError

# Calls that never fail or slow down: the bot's own start and its long poll.
_SPARED = frozenset({"getme", "getupdates", "setmycommands", "deletewebhook", "setwebhook"})


def internal_error() -> ApiError:
    return ApiError(500, "Internal Server Error")


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every answer of an affected method
    _failures: dict[str, deque[ApiError]] = field(default_factory=dict)
    injected: int = 0  # errors answered so far

    def fail_next(self, method: str, count: int = 1, error: ApiError | None = None) -> None:
        """Answer the next ``count`` calls of ``method`` with ``error`` (default: a 500)."""
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend([error or internal_error()] * count)

    def throttle_next(self, method: str, count: int, retry_after: int) -> None:
        """A burst of 429s, as Telegram sends when it is overloaded, whatever our rate."""
        from .errors import too_many_requests

        self.fail_next(method, count, too_many_requests(retry_after))

    def failure_for(self, method: str) -> ApiError | None:
        queue = self._failures.get(method.lower())
        if not queue:
            return None
        self.injected += 1
        return queue.popleft()

    def delay_for(self, method: str) -> float:
        return 0.0 if method.lower() in _SPARED else self.latency

    def clear(self) -> None:
        self._failures.clear()
        self.latency = 0.0
