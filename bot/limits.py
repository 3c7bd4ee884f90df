"""Telegram's flood limits on our side: who may send now, and who waits.

Telegram allows about 30 messages per second overall, one per second in a private chat and 20
per minute in a group; exceeding them gives a 429 with ``retry_after``. The limiter keeps every
send inside those limits so 429s do not happen in the first place:

- Sliding windows count a send from the moment its response arrived (not when it left), so a
  request's server-side timestamp always lies inside the window we accounted for, whatever the
  network latency. Sends still in flight occupy a place in the window.
- A pacer spreads the global budget evenly, so an interactive reply never waits behind a burst
  of 30 broadcast messages for a whole second.
- Waiting sends are granted by priority (interactive replies before broadcasts), then in order of
  arrival. A send whose chat is busy does not hold up sends to other chats.

``SlotScheduler`` is the pure bookkeeping (time is passed in, easy to test); ``SendLimiter``
drives it on the asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import IntEnum

from bot.adaptive import AdaptiveRate
from core.kernel import telemetry

NEVER = math.inf


class Priority(IntEnum):
    INTERACTIVE = 0  # an answer to a user's own message
    BULK = 1  # outbox deliveries: notifications, broadcasts


@dataclass(frozen=True)
class SendLimits:
    """None switches a limit off."""

    global_per_second: int | None = 30
    private_chat_per_second: int | None = 1
    group_per_minute: int | None = 20
    # How many global sends may go back to back before pacing spreads them out. Two, so a
    # timer that fires a little late does not cost budget (with one, every late wake-up is
    # lost for good: about 10 % of 30/s); the sliding window still caps any second at 30.
    global_burst: int = 2

    @classmethod
    def telegram(cls) -> SendLimits:
        return cls()

    @classmethod
    def unlimited(cls) -> SendLimits:
        return cls(None, None, None)


class _Window:
    """At most ``limit`` sends per ``period`` seconds, counted from their completion."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.done: deque[float] = deque()
        self.in_flight = 0
        self.blocked_until = 0.0

    def available_at(self, now: float) -> float:
        while self.done and self.done[0] <= now - self.period:
            self.done.popleft()
        start = max(now, self.blocked_until)
        surplus = self.in_flight + len(self.done) - self.limit + 1
        if surplus <= 0:
            return start
        if surplus > len(self.done):
            return NEVER  # only a completion can make room
        return max(start, self.done[surplus - 1] + self.period)

    def take(self) -> None:
        self.in_flight += 1

    def finish(self, now: float) -> None:
        self.in_flight -= 1
        self.done.append(now)

    def idle(self, now: float) -> bool:
        return self.in_flight == 0 and self.available_at(now) <= now and not self.done


class _Unlimited(_Window):
    def __init__(self) -> None:
        super().__init__(limit=0, period=0.0)

    def available_at(self, now: float) -> float:
        return max(now, self.blocked_until)

    def finish(self, now: float) -> None:
        self.in_flight -= 1

    def idle(self, now: float) -> bool:
        return self.in_flight == 0 and self.blocked_until <= now


class _Pacer:
    """A token bucket: ``rate`` sends per second with a burst of ``burst``."""

    def __init__(self, rate: float | None, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.tokens = float(self.burst)
        self.updated = -math.inf

    def _refill(self, now: float) -> None:
        if self.rate is None:
            return
        if self.updated == -math.inf:
            self.updated = now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available_at(self, now: float) -> float:
        if self.rate is None:
            return now
        self._refill(now)
        return now if self.tokens >= 1 else now + (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        if self.rate is not None:
            self._refill(now)
            self.tokens -= 1


@dataclass(eq=False)
class Ticket:
    chat_id: int | str
    priority: Priority
    seq: int
    granted: bool = field(default=False)


def _is_group(chat_id: int | str) -> bool:
    # Private chat ids are positive; groups and channels are negative or @usernames.
    return not (isinstance(chat_id, int) and chat_id > 0)


class SlotScheduler:
    """Decides which waiting sends may start; all times are seconds on one monotonic clock."""

    def __init__(self, limits: SendLimits) -> None:
        self.limits = limits
        per_second = limits.global_per_second
        self._global = _Window(per_second, 1.0) if per_second else _Unlimited()
        self._pacer = _Pacer(per_second, limits.global_burst)
        self.adaptive = AdaptiveRate(float(per_second)) if per_second else None
        self._chats: dict[int | str, _Window] = {}
        self._waiting: list[Ticket] = []
        self._seq = itertools.count()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def request(self, chat_id: int | str, priority: Priority = Priority.INTERACTIVE) -> Ticket:
        ticket = Ticket(chat_id, priority, next(self._seq))
        self._waiting.append(ticket)
        self._waiting.sort(key=lambda t: (t.priority, t.seq))
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        if ticket in self._waiting:
            self._waiting.remove(ticket)

    def block(self, chat_id: int | str, until: float) -> None:
        """Telegram said ``retry_after`` for this chat: nothing goes there before ``until``."""
        window = self._chat(chat_id)
        window.blocked_until = max(window.blocked_until, until)

    def throttled(self, chat_id: int | str, now: float, retry_after: float) -> None:
        """Telegram answered 429: the chat waits, the global rate goes down, and if several
        chats were refused at once, everybody waits ``retry_after``."""
        self.block(chat_id, now + retry_after)
        if self.adaptive is None:
            return
        if self.adaptive.rejected(chat_id, now):
            self._global.blocked_until = max(self._global.blocked_until, now + retry_after)
        self._adapt(now)

    def _adapt(self, now: float) -> None:
        if self.adaptive is None:
            return
        rate = self.adaptive.current(now)
        if rate != self._pacer.rate:
            self._pacer._refill(now)
            self._pacer.rate = rate
            self._global.limit = max(1, math.floor(rate))

    def chat_free_at(self, chat_id: int | str, now: float) -> float:
        """When this chat could take one more send (ignoring the global budget)."""
        window = self._chats.get(chat_id)
        return now if window is None else window.available_at(now)

    def grant(self, now: float) -> list[Ticket]:
        """Start every waiting send that fits now, best priority first."""
        granted: list[Ticket] = []
        self._adapt(now)
        for ticket in list(self._waiting):
            if self._global_free_at(now) > now:
                break  # the global budget is used up: nobody else may start
            chat = self._chat(ticket.chat_id)
            if chat.available_at(now) > now:
                continue  # this chat is busy; others may still go
            chat.take()
            self._global.take()
            self._pacer.take(now)
            ticket.granted = True
            self._waiting.remove(ticket)
            granted.append(ticket)
        return granted

    def release(self, ticket: Ticket, now: float) -> None:
        """The send's response arrived (or it failed): it now counts from ``now``."""
        if not ticket.granted:
            self.cancel(ticket)
            return
        ticket.granted = False
        self._global.finish(now)
        chat = self._chats[ticket.chat_id]
        chat.finish(now)
        self._forget_idle_chats(now)

    def next_wakeup(self, now: float) -> float | None:
        """The earliest time a waiting send could start, or None if only a completion helps."""
        best = NEVER
        global_at = self._global_free_at(now)
        for ticket in self._waiting:
            best = min(best, max(global_at, self._chat(ticket.chat_id).available_at(now)))
        return None if best == NEVER else best

    def _global_free_at(self, now: float) -> float:
        return max(self._global.available_at(now), self._pacer.available_at(now))

    def _chat(self, chat_id: int | str) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            window = self._chats[chat_id] = self._new_chat_window(chat_id)
        return window

    def _new_chat_window(self, chat_id: int | str) -> _Window:
        if _is_group(chat_id):
            limit = self.limits.group_per_minute
            return _Window(limit, 60.0) if limit else _Unlimited()
        limit = self.limits.private_chat_per_second
        return _Window(limit, 1.0) if limit else _Unlimited()

    def _forget_idle_chats(self, now: float) -> None:
        # Keep memory bounded over millions of chats: a window with nothing to remember goes.
        if len(self._chats) < 1024:
            return
        waiting = {t.chat_id for t in self._waiting}
        for chat_id in [c for c, w in self._chats.items() if c not in waiting and w.idle(now)]:
            del self._chats[chat_id]


class SendLimiter:
    """``async with limiter.slot(chat_id, priority):`` wraps one Bot API send."""

    def __init__(
        self, limits: SendLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or SendLimits.telegram()
        self.clock = clock
        self._scheduler = SlotScheduler(self.limits)
        self._futures: dict[Ticket, asyncio.Future[None]] = {}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        return self._scheduler.waiting

    def chat_free_in(self, chat_id: int | str) -> float:
        """Seconds until ``chat_id`` could take another send (0 when free now)."""
        now = self.clock()
        return max(self._scheduler.chat_free_at(chat_id, now) - now, 0.0)

    def block(self, chat_id: int | str, seconds: float) -> None:
        self._scheduler.block(chat_id, self.clock() + seconds)
        self._pump()

    def throttled(self, chat_id: int | str, seconds: float) -> None:
        """A 429 with ``retry_after`` = ``seconds``: see ``SlotScheduler.throttled``."""
        telemetry.count("telegram_throttled")
        self._scheduler.throttled(chat_id, self.clock(), seconds)
        self._pump()

    @property
    def rate(self) -> float | None:
        """The global rate now in force (lowered after 429s)."""
        adaptive = self._scheduler.adaptive
        return adaptive.current(self.clock()) if adaptive else None

    @contextlib.asynccontextmanager
    async def slot(
        self, chat_id: int | str, priority: Priority = Priority.INTERACTIVE
    ) -> AsyncIterator[None]:
        ticket = self._scheduler.request(chat_id, priority)
        future = asyncio.get_running_loop().create_future()
        self._futures[ticket] = future
        self._pump()
        try:
            await future
        except asyncio.CancelledError:
            self._futures.pop(ticket, None)
            self._scheduler.release(ticket, self.clock())
            self._pump()
            raise
        try:
            yield
        finally:
            self._scheduler.release(ticket, self.clock())
            self._pump()

    def _pump(self) -> None:
        now = self.clock()
        for ticket in self._scheduler.grant(now):
            future = self._futures.pop(ticket)
            if future.done():  # cancelled while waiting: give the place back
                self._scheduler.release(ticket, now)
            else:
                future.set_result(None)
        self._schedule(self._scheduler.next_wakeup(now), now)

    def _schedule(self, wakeup: float | None, now: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if wakeup is not None:
            delay = max(wakeup - now, 0.0)
            self._timer = asyncio.get_running_loop().call_later(delay, self._pump)
