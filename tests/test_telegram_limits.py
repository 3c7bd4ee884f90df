"""The send limiter's bookkeeping, with explicit times (no sleeping, no timing)."""

from __future__ import annotations

import asyncio

import pytest

from bot.limits import Priority, SendLimiter, SendLimits, SlotScheduler

ANNA, BEN, GROUP = 101, 102, -500


def granted(scheduler: SlotScheduler, now: float) -> list[tuple[int | str, Priority]]:
    return [(t.chat_id, t.priority) for t in scheduler.grant(now)]


def test_one_send_per_second_per_private_chat_counted_from_the_response():
    s = SlotScheduler(SendLimits.telegram())
    first = s.request(ANNA)
    assert granted(s, 0.0) == [(ANNA, Priority.INTERACTIVE)]
    s.request(ANNA)
    assert granted(s, 0.5) == []  # the first is still in flight
    s.release(first, 0.2)  # its response arrived at 0.2
    assert granted(s, 1.19) == []
    assert s.next_wakeup(1.19) == pytest.approx(1.2)
    assert len(granted(s, 1.2)) == 1


def test_a_busy_chat_does_not_hold_up_another():
    s = SlotScheduler(SendLimits.telegram())
    first = s.request(ANNA)
    assert granted(s, 0.0) == [(ANNA, Priority.INTERACTIVE)]
    s.release(first, 0.0)
    s.request(ANNA)
    s.request(BEN)
    assert granted(s, 0.1) == [(BEN, Priority.INTERACTIVE)]


def test_interactive_replies_go_before_bulk():
    s = SlotScheduler(SendLimits(global_per_second=30, global_burst=1))
    for chat in range(1, 6):
        s.request(chat, Priority.BULK)
    s.request(99, Priority.INTERACTIVE)
    assert granted(s, 0.0) == [(99, Priority.INTERACTIVE)]  # pacing: one at a time
    assert granted(s, 1 / 30) == [(1, Priority.BULK)]


def test_global_budget_is_paced_and_never_exceeds_30_per_second():
    s = SlotScheduler(SendLimits.telegram())
    tickets = [s.request(chat, Priority.BULK) for chat in range(1, 101)]
    starts: list[float] = []
    now = 0.0
    while len(starts) < 100:
        for ticket in s.grant(now):
            starts.append(now)
            s.release(ticket, now + 0.004)  # 4 ms round trip
        wake = s.next_wakeup(now)
        now = wake if wake is not None else now + 0.001
    assert len(tickets) == 100
    # Telegram's own count (sliding one-second window over arrival times) stays within 30.
    assert max(sum(1 for t in starts if a <= t < a + 1.0) for a in starts) <= 30
    rate = 99 / (starts[-1] - starts[0])
    assert 29.0 < rate <= 30.5  # the first two may go back to back (burst 2)


def test_group_limit_is_twenty_per_minute():
    s = SlotScheduler(SendLimits.telegram())
    for _ in range(21):
        s.request(GROUP, Priority.BULK)
    sent = 0
    now = 0.0
    while now < 59.0:
        for ticket in s.grant(now):
            sent += 1
            s.release(ticket, now)
        now += 0.5
    assert sent == 20
    assert s.next_wakeup(59.0) is not None


def test_retry_after_blocks_only_that_chat():
    s = SlotScheduler(SendLimits.telegram())
    s.block(ANNA, until=5.0)
    s.request(ANNA)
    s.request(BEN)
    assert granted(s, 1.0) == [(BEN, Priority.INTERACTIVE)]
    assert granted(s, 4.9) == []
    assert granted(s, 5.0) == [(ANNA, Priority.INTERACTIVE)]


def test_unlimited_grants_everything_at_once():
    s = SlotScheduler(SendLimits.unlimited())
    for _ in range(50):
        s.request(ANNA)
    assert len(granted(s, 0.0)) == 50
    assert s.next_wakeup(0.0) is None


async def test_limiter_orders_sends_of_one_chat_and_frees_places_on_cancel():
    limiter = SendLimiter(SendLimits.unlimited())
    order: list[int] = []

    async def send(number: int) -> None:
        async with limiter.slot(ANNA, Priority.BULK):
            order.append(number)

    await asyncio.gather(*(send(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]

    strict = SendLimiter(SendLimits.telegram())
    async with strict.slot(ANNA):
        waiting = asyncio.create_task(send_to(strict, ANNA))
        await asyncio.sleep(0)
        assert strict.waiting == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert strict.waiting == 0


async def send_to(limiter: SendLimiter, chat: int) -> None:
    async with limiter.slot(chat):
        pass


def test_repeated_429s_halve_the_rate_once_per_burst():
    from bot.adaptive import AdaptiveRate

    rate = AdaptiveRate(30.0)
    assert rate.rejected(ANNA, 10.0) is False  # one chat: not (yet) the global budget
    assert rate.current(10.0) == 15.0
    rate.rejected(ANNA, 10.5)  # the same burst: counted once
    assert rate.current(10.5) == 15.0
    rate.rejected(BEN, 11.5)
    assert rate.current(11.5) == 7.5 and rate.decreases == 2


def test_the_rate_comes_back_quickly_far_from_the_failure_and_slowly_near_it():
    from bot.adaptive import AdaptiveRate

    rate = AdaptiveRate(30.0)
    rate.rejected(ANNA, 0.0)  # failed at 30: now 15
    rate.rejected(ANNA, 1.0)  # failed at 15: now 7.5, ceiling 15
    assert rate.current(1.5) == 7.5  # no increase within a second of a 429
    assert rate.current(5.0) == pytest.approx(11.5)  # +1 per quiet second below 12
    assert rate.current(10.0) == pytest.approx(12.9)  # one more +1, then +0.1 near 15
    assert rate.current(70.0) == 30.0  # a minute without 429: the ceiling is forgotten


def test_429s_from_several_chats_at_once_stop_every_send_for_retry_after():
    s = SlotScheduler(SendLimits.telegram())
    s.throttled(ANNA, 0.0, retry_after=3.0)
    s.request(BEN)
    assert granted(s, 0.1) == [(BEN, Priority.INTERACTIVE)]  # one chat: only Anna waits
    s.throttled(BEN, 0.2, retry_after=3.0)
    s.request(GROUP)
    assert granted(s, 0.3) == []
    assert granted(s, 3.2) == [(GROUP, Priority.INTERACTIVE)]


def test_a_lowered_rate_paces_the_global_budget():
    s = SlotScheduler(SendLimits.telegram())
    s.throttled(ANNA, 0.0, retry_after=1.0)  # 30 -> 15 per second
    tickets = [s.request(1000 + n, Priority.BULK) for n in range(40)]
    started = []
    now = 0.0
    while now < 0.99:
        for ticket in s.grant(now):
            started.append(now)
            s.release(ticket, now)
        now += 0.01
    assert len(started) <= 15
    assert len(tickets) == 40
