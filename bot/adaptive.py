"""The global send rate, adapted to what Telegram accepts (additive increase, multiplicative
decrease).

Our limits normally keep every send inside Telegram's; 429s that come anyway mean the real
budget is smaller right now (a busy server, a smaller limit for this bot). Repeated 429s halve
the rate, at most once per ``hold`` seconds so one burst of rejections counts once; every
second without a 429 adds to it again: quickly while far below the rate that last failed,
slowly near it, so the rate settles just under what the server allows. A minute without any
429 forgets that rate, and the configured maximum is reached again.

429s from several chats within ``hold`` seconds are Telegram's global budget speaking: then
nothing is sent for ``retry_after``, whatever the chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AdaptiveRate:
    maximum: float
    minimum: float = 1.0
    factor: float = 0.5
    fast_step: float = 1.0  # per second without a 429, while far below the last failure
    slow_step: float = 0.1  # per second without a 429, near the last failure
    near: float = 0.8  # "near" = above this share of the rate that last failed
    hold: float = 1.0
    forget: float = 60.0
    rate: float = field(init=False)
    ceiling: float = field(init=False)
    decreases: int = field(default=0, init=False)
    _last_429: float = field(default=float("-inf"), init=False)
    _last_decrease: float = field(default=float("-inf"), init=False)
    _last_step: float = field(default=float("-inf"), init=False)
    _recent: dict = field(default_factory=dict, init=False)  # chat -> time of its last 429

    def __post_init__(self) -> None:
        self.rate = self.ceiling = self.maximum

    def rejected(self, chat_id, now: float) -> bool:
        """A 429 arrived; returns True when it looks global (several chats at once)."""
        self._recent = {c: t for c, t in self._recent.items() if t > now - self.hold}
        self._recent[chat_id] = now
        self._last_429 = now
        self._last_step = now  # quiet seconds are counted from here
        if now - self._last_decrease >= self.hold:
            self.ceiling = self.rate
            self.rate = max(self.minimum, self.rate * self.factor)
            self._last_decrease = now
            self.decreases += 1
        return len(self._recent) > 1

    def current(self, now: float) -> float:
        """The rate now, after the increases due for the quiet seconds since the last 429."""
        if self.rate >= self.maximum:
            return self.rate
        if now - self._last_429 >= self.forget:
            self.ceiling = float("inf")  # no failure to be careful near any more
        while self.rate < self.maximum and now - self._last_step >= 1.0:
            step = self.slow_step if self.rate >= self.near * self.ceiling else self.fast_step
            self.rate = min(self.maximum, self.rate + step)
            self._last_step += 1.0
        return self.rate
