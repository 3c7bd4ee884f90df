"""Delivers the Telegram outbox: claim due messages, send them within the limits, record.

Each chat has its own little queue worked off in order, so a chat that must wait (its 1/s
budget, or a 429 with ``retry_after``) never holds up the others. Messages that would wait long
are handed back to the outbox with a later ``not_before``
(``core.messaging.delivery.defer``) instead of being held in memory beyond their lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.limits import Priority, SendLimiter, SendLimits
from bot.outcomes import outcome_unknown
from bot.ratelimiter import chat_key, retry_seconds
from bot.render import from_outbox
from bot.send import send_all
from core.messaging import delivery, progress
from core.messaging.progress import SendProgress
from core.runtime.processes import LeaseOwner
from core.store.unit_of_work import Database
from core.store.write_gate import WritePriority

log = logging.getLogger(__name__)
CHANNEL = "telegram"


@dataclass(frozen=True)
class Queued:
    id: int
    chat_id: int | str
    text: str
    choices: list[dict]
    attachments: list[dict]


@dataclass(frozen=True)
class Sent:
    external_id: str


@dataclass(frozen=True)
class RetryLater:
    seconds: float


@dataclass(frozen=True)
class Failed:
    error: str


@dataclass(frozen=True)
class Unknown:
    """The request left but its answer did not come: it may have been delivered."""

    error: str


@dataclass(frozen=True)
class Unreachable:
    error: str


Outcome = Sent | RetryLater | Failed | Unknown | Unreachable


def chat_interval(limits: SendLimits, chat_id: int | str) -> float:
    """Seconds between two sends to this chat under ``limits``."""
    if isinstance(chat_id, int) and chat_id > 0:
        per_second = limits.private_chat_per_second
        return 1.0 / per_second if per_second else 0.0
    per_minute = limits.group_per_minute
    return 60.0 / per_minute if per_minute else 0.0


class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        limiter: SendLimiter,
        clock: Callable[[], datetime],
        *,
        capacity: int = 150,
        per_chat: int = 3,
        max_wait: float = 5.0,
        poll_interval: float = 0.5,
        min_defer: float = 0.5,
        unknown_pause: float = delivery.UNKNOWN_PAUSE.total_seconds(),
    ) -> None:
        self.db = db
        self.bot = bot
        self.limiter = limiter
        self.clock = clock
        # Messages held in memory at once: enough to keep 30/s busy, few enough that each is
        # sent well within its lease.
        self.capacity = capacity
        self.per_chat = per_chat
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self.min_defer = min_defer
        self.unknown_pause = timedelta(seconds=unknown_pause)
        # The process whose leases we take; ``zukunftsraum run`` registers it.
        self.owner = LeaseOwner()
        self._queues: dict[int | str, deque[Queued]] = {}
        self._workers: dict[int | str, asyncio.Task] = {}
        self._hold: dict[int | str, float] = {}  # chat -> monotonic time before which we wait
        self._held = 0
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._closing = False
        self._outcomes: list[tuple[Queued, Outcome]] = []
        self.flush_interval = 0.2
        # Sends whose outcome is not yet committed are sent again if the process dies (kill
        # -9), so their number is kept small: when the recorder falls behind (a busy CPU), the
        # sending waits for it instead of running ahead.
        self.max_unrecorded = 30
        self._recording = 0
        self._in_flight = 0
        self._recorded = asyncio.Event()
        self.progress = SendProgress(CHANNEL)

    @property
    def held(self) -> int:
        return self._held

    def wake(self) -> None:
        """Look at the outbox now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        recorder = asyncio.create_task(self._record_periodically(stop))
        try:
            while not stop.is_set():
                free = self.capacity - self._held
                if free < max(self.capacity // 4, 1):
                    self._room.clear()
                    await _first_of(stop, self._room, timeout=self.poll_interval)
                    continue
                try:
                    claimed = await self.claim_once(free)
                except Exception as error:  # database trouble: try again later, stay alive
                    log.error("outbox claim failed: %s", type(error).__name__)
                    claimed = 0
                if claimed < free:
                    self._wake.clear()
                    await _first_of(stop, self._wake, timeout=self.poll_interval)
        finally:
            await self.close()
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
            await self.flush()

    async def claim_once(self, limit: int) -> int:
        """Claim up to ``limit`` due messages and queue them per chat; returns how many."""
        async with self.db.uow(WritePriority.BACKGROUND) as uow:
            now = self.clock()
            messages = await delivery.claim(uow, CHANNEL, now, limit, owner=self.owner.id)
            mono = time.monotonic()
            for message in messages:
                chat = chat_key(message.address)
                queue = self._queues.setdefault(chat, deque())
                wait = max(self.limiter.chat_free_in(chat), self._hold.get(chat, 0.0) - mono)
                if math.isinf(wait):  # a send to this chat is in flight: its end is unknown
                    wait = 2 * self.max_wait
                if wait > self.max_wait or len(queue) >= self.per_chat:
                    delay = max(wait, len(queue) * chat_interval(self.limiter.limits, chat))
                    delay = max(delay, self.min_defer)
                    self._hold[chat] = max(self._hold.get(chat, 0.0), mono + delay)
                    # Later messages of this chat are deferred at least as far: order is kept.
                    await delivery.defer(uow, message.id, now + timedelta(seconds=delay))
                else:
                    queue.append(
                        Queued(
                            message.id,
                            chat,
                            message.text,
                            list(message.choices),
                            list(message.attachments or []),
                        )
                    )
                    self._held += 1
            await uow.commit()
        for chat, queue in list(self._queues.items()):
            if not queue and chat not in self._workers:
                del self._queues[chat]
            elif chat not in self._workers:
                self._workers[chat] = asyncio.create_task(self._drain(chat))
        self._forget_old_holds(mono)
        if messages:
            waiting = sum(len(queue) for queue in self._queues.values())
            log.info("telegram outbox: %d claimed, %d waiting in %d chats", len(messages), waiting,
                     len(self._queues))  # fmt: skip
        return len(messages)

    async def _drain(self, chat: int | str) -> None:
        queue = self._queues[chat]
        try:
            while queue and not self._closing:
                await self._wait_for_recorder()
                if not self.owner.may_send():
                    # Our heartbeat is stale: another process may own these leases by now.
                    self._release(len(queue))
                    queue.clear()
                    break
                item = queue[0]
                self._in_flight += 1
                try:
                    outcome = await self._send(item)
                finally:
                    self._in_flight -= 1
                if isinstance(outcome, RetryLater):
                    rest = list(queue)
                    queue.clear()
                    self._release(len(rest))
                    self._hold[chat] = time.monotonic() + outcome.seconds
                    await self._record_defer(rest, outcome.seconds)
                    break
                queue.popleft()
                self._release(1)
                # Recorded in batches: one transaction per message would compete with the
                # handlers' transactions for the database at 30 messages a second.
                self._outcomes.append((item, outcome))
        finally:
            self._workers.pop(chat, None)
            if not queue:
                self._queues.pop(chat, None)

    @property
    def unrecorded(self) -> int:
        """Sends under way or done whose outcome is not committed yet."""
        return self._in_flight + len(self._outcomes) + self._recording

    async def _wait_for_recorder(self) -> None:
        while self.unrecorded >= self.max_unrecorded and not self._closing:
            self._recorded.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recorded.wait(), 1.0)

    def _release(self, count: int) -> None:
        self._held -= count
        self._room.set()

    async def _send(self, item: Queued) -> Outcome:
        try:
            sends = from_outbox(item.text, item.choices, item.attachments)
            sent = await send_all(self.bot, item.chat_id, sends, Priority.BULK)
        except RetryAfter as error:
            return RetryLater(retry_seconds(error))
        except Forbidden as error:  # blocked by the user, or deactivated
            return Unreachable(error.message)
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                return Unreachable(error.message)
            return Failed(error.message)
        except TelegramError as error:  # network trouble, timeouts, server errors
            described = f"{type(error).__name__}: {error.message}"
            return Unknown(described) if outcome_unknown(error) else Failed(described)
        return Sent(",".join(str(m.message_id) for m in sent))

    async def _record_periodically(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.flush_interval)
            await self.flush()

    async def flush(self) -> None:
        """Record the outcomes of finished sends in one transaction."""
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        self._recording += len(outcomes)
        try:
            async with self.db.uow(WritePriority.BACKGROUND) as uow:
                now = self.clock()
                # One read for all: each record below then finds its row in the session
                # without a query, and the updates go out as one statement at commit, which
                # keeps this transaction (and the write lock) short. The session holds its
                # rows weakly: ``rows`` keeps them alive until then.
                rows = await uow.outbox.many([item.id for item, _ in outcomes])
                kinds = {row.id: row.kind for row in rows}
                finals = []
                for item, outcome in outcomes:
                    final = await self._record(uow, item, outcome, now)
                    if final is not None:
                        finals.append((kinds.get(item.id, ""), item.id, final))
                await uow.commit()
                del rows
        except Exception as error:  # the leases run out and the messages are tried again
            log.error("%d outbox outcomes not recorded: %s", len(outcomes), type(error).__name__)
            return
        finally:
            self._recording -= len(outcomes)
            self._recorded.set()
        for kind, message_id, final in finals:
            self.progress.note(kind, message_id, final)
        await self._report_progress()

    async def _record(self, uow, item: Queued, outcome: Outcome, now: datetime) -> str | None:
        """Record one outcome; returns it for the running count when it is final."""
        if isinstance(outcome, Sent):
            await delivery.mark_sent(uow, item.id, now, outcome.external_id)
            return progress.DELIVERED
        if isinstance(outcome, Unreachable):
            where = await delivery.mark_unreachable(uow, item.id, now, outcome.error)
            log.info("outbox %s: chat unreachable, message now %s", item.id, where)
            return progress.FAILED if where in ("failed", "unrouted") else progress.MOVED
        if isinstance(outcome, Unknown):
            again = await delivery.mark_unknown(
                uow, item.id, now, outcome.error, self.unknown_pause
            )
            log.warning(
                "outbox %s: outcome unknown (%s), retry once: %s", item.id, outcome.error, again
            )
            return None if again else progress.FAILED
        if isinstance(outcome, Failed):
            kept = await delivery.mark_retry(uow, item.id, now, outcome.error)
            log.warning("outbox %s failed (%s), retry: %s", item.id, outcome.error, kept)
            return None if kept else progress.FAILED
        return None

    async def _report_progress(self) -> None:
        """The running count of a large send (a broadcast, a digest), when one is due."""
        try:
            async with self.db.uow() as uow:  # only reads: no turn at the write gate
                await self.progress.report(uow)
        except Exception as error:  # only a log line is lost; the sending goes on
            log.warning("telegram outbox: progress not counted: %s", type(error).__name__)

    async def _record_defer(self, items: list[Queued], seconds: float) -> None:
        try:
            async with self.db.uow(WritePriority.BACKGROUND) as uow:
                until = self.clock() + timedelta(seconds=seconds)
                rows = await uow.outbox.many([item.id for item in items])  # as in flush
                for item in items:
                    await delivery.defer(uow, item.id, until)
                await uow.commit()
                del rows
        except Exception as error:
            log.error("outbox deferral not recorded: %s", type(error).__name__)

    def _forget_old_holds(self, mono: float) -> None:
        if len(self._hold) > 10_000:
            self._hold = {c: t for c, t in self._hold.items() if t > mono}

    async def close(self, grace: float = 10.0) -> None:
        """Stop sending: sends under way finish and are recorded (within ``grace`` seconds);
        messages not sent yet go back to the outbox at once."""
        self._closing = True
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=grace)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        left = [item for queue in self._queues.values() for item in queue]
        self._queues.clear()
        self._held = 0
        if left:
            await self._record_defer(left, 0.0)


async def _first_of(stop: asyncio.Event, other: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
