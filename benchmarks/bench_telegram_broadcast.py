"""Telegram delivery against the local fake Bot API with Telegram's limits enforced (429s).

Usage: python benchmarks/bench_telegram_broadcast.py [--only STEP,...] [--quick]
       [--messages 10000] [--chats 2000] [--baseline-messages 1000] [--handler-chats 100]
       [--sequential-posts 20] [--interactive-users 4] [--handlers-ref COMMIT]

``--only`` runs single steps (handlers, broadcast, baseline, kills, tight, latency, import);
``--quick`` uses smaller sizes (1,500 messages to 300 chats, 50 posts at once, ...), any size
given explicitly wins. Each step prints its baseline from the same run; CPU seconds per
message or post are printed beside the wall-clock figures, which a busy machine distorts.
``--handlers-ref COMMIT`` runs step 1 of that commit (its own script, from a temporary git
worktree) right after this tree's, each in a process of its own.

1. Handler latency: ``--handler-chats`` members send ``/biete <text>`` at the same moment.
   Reported: time inside ``Assistant.handle`` and user message -> first reply at the server;
   baseline: ``--sequential-posts`` posts one at a time.
2. Broadcast: ``--messages`` outbox messages to ``--chats`` chats, delivered by the real channel
   (PTB Application + outbox dispatcher + limiter). Meanwhile members in other chats keep writing
   ``/hilfe``; reported is user message -> reply received by the server (p50/p99).
   Throughput: accepted broadcast messages per second between the first and the last, as a
   fraction of 30/s; 429s as counted by the server.
3. Baselines, same run: a naive dispatcher that sends every claimed message at once (64 in
   parallel, no limiter) and reschedules a 429 after retry_after; and the same with PTB's own
   ``AIORateLimiter`` (30/s overall, no per-chat limit) in front.
4. Kills: ``zukunftsraum run`` as a separate process delivers ``--messages`` to ``--chats``
   chats against the limit-enforcing server and is killed with -9 at 30 % and 70 % (then
   started again at once); members keep writing ``/hilfe`` meanwhile. Reported: lost
   messages, duplicates beside the messages the killed process held (and of those, the ones
   already delivered but not recorded), restart -> first send, the sustained rate of all
   sends while a process ran (broadcast and the members' replies share the 30/s budget;
   broadcast alone beside it), 429s.
5. A server allowing only 10 msg/s: our limiter, the naive dispatcher and AIORateLimiter;
   429s after the first 10 s as a share of the messages.
6. 7 s Bot API latency: our dispatcher with its timeouts, with PTB's default 5 s read timeout
   (each send's outcome unknown: retried once, counted), and the naive dispatcher (5 s).
7. Import: ``zukunftsraum import posts`` of ``--import-posts`` posts (a separate process) into
   the SQLite database of a running ``zukunftsraum run`` while members write ``/hilfe``;
   reported: their answer times during the import beside those of the 15 s before it.

The full size takes at least 10,000 / 30 = 333 s for each of steps 2 and 4.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os
from collections import Counter

from sqlalchemy import func, select
from telegram import Bot
from telegram.error import RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from benchmarks.service_kills import (
    TOWNS,
    kill_during_delivery,
    leases_taken_back,
    outbox_rows,
    print_kills,
    queue_broadcast,
    setup_database,
    sustained_rate,
    until_all_final,
)
from bot.channel import TelegramChannel, TelegramConfig
from bot.limits import SendLimits
from bot.ratelimiter import retry_seconds
from core.conversation.assistant import Assistant
from core.exchange.match_index import MatchIndex
from core.feature_set import make_services
from core.kernel.clock import system_clock
from core.kernel.context import Services
from core.members.accounts import NewMember, add_member
from core.messaging import delivery
from core.municipalities.directory import MunicipalityIndex, bundled_index
from core.store.models import OutboxMessage
from core.store.unit_of_work import Database
from tests.support.botapi import FakeTelegram, RateLimits
from tests.support.service import ServiceUnderTest, service_env

TOPICS = [
    "Bürgerbus für ältere Menschen",
    "Mitfahrbänke im ländlichen Raum",
    "Nachbarschaftshilfe mit Ehrenamtlichen",
    "Dorfladen als Treffpunkt",
    "Telemedizin in der Hausarztpraxis",
    "Jugendbeteiligung im Gemeinderat",
    "Leerstand in der Ortsmitte",
    "Kita-Plätze und Fachkräfte",
    "Breitband für Schulen",
    "Seniorenwohnen im Quartier",
]
BROADCAST_CHAT0 = 10_000_000
HANDLER_CHAT0 = 20_000_000
INTERACTIVE_CHAT0 = 30_000_000


class TimedAssistant(Assistant):
    """Records how long each ``handle`` takes (instrumentation for this benchmark only)."""

    durations: list[float]

    async def handle(self, sender, text, *, event=None):
        started = time.perf_counter()
        try:
            return await super().handle(sender, text, event=event)
        finally:
            self.durations.append(time.perf_counter() - started)


class ReplyWatcher:
    """Notices the bot's messages to chats someone waits for, looking at each message once.

    (``FakeTelegram.wait_for_message`` rescans every sent message on each change; with 10,000
    broadcast messages that costs the shared event loop more than the bot itself.)
    """

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.cursor = 0
        self.waiters: dict[int, list[asyncio.Future]] = {}

    def expect(self, chat_id: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(chat_id, []).append(future)
        return future

    async def run(self) -> None:
        while True:
            messages = self.tg.state.messages
            for message in messages[self.cursor :]:
                waiting = self.waiters.get(message.chat_id)
                if waiting:
                    waiting.pop(0).set_result(message)
            self.cursor = len(messages)
            await asyncio.sleep(0.005)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


async def add_members(db: Database, first_chat: int, count: int, tg: FakeTelegram) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for number in range(count):
            chat = first_chat + number
            tg.add_user(chat, first_name=f"Person {number}")
            member = await add_member(
                uow,
                NewMember(
                    f"Person {chat}",
                    "mayor",
                    TOWNS[number % len(TOWNS)],
                    telegram_chat_id=chat,
                    consent=True,
                ),
                system_clock(),
            )
            ids.append(member.id)
        await uow.commit()
    return ids


async def sent_count(db: Database) -> int:
    async with db.uow() as uow:
        stmt = select(func.count()).where(OutboxMessage.status == "sent")
        return await uow.session.scalar(stmt.select_from(OutboxMessage)) or 0


def config(tg: FakeTelegram, **overrides) -> TelegramConfig:
    values = {"token": tg.token, "base_url": tg.base_url, "limits": SendLimits.telegram()}
    return TelegramConfig(**(values | {"poll_timeout": 5} | overrides))


async def run_channel(channel: TelegramChannel, stop: asyncio.Event) -> list[asyncio.Task]:
    tasks = [
        asyncio.create_task(channel.run_updates(stop)),
        asyncio.create_task(channel.run_dispatcher(stop)),
    ]
    await asyncio.wait_for(channel.ready.wait(), 30)
    return tasks


# --- 1. handler latency ------------------------------------------------------------------


async def post_all(tg, watcher, first_chat: int, chats: int, at_once: bool):
    """Each chat posts once; returns user message -> first reply latencies."""
    latencies: list[float] = []

    async def one(number: int) -> None:
        chat = first_chat + number
        kind = "biete" if number % 2 else "suche"
        topic = TOPICS[number % len(TOPICS)]
        reply = watcher.expect(chat)
        started = time.monotonic()
        tg.user_sends_command(chat, kind, f"{topic} – Erfahrungen aus Kommune {number}")
        message = await asyncio.wait_for(reply, 120)
        latencies.append(message.received_at - started)

    if at_once:
        await asyncio.gather(*(one(n) for n in range(chats)))
    else:
        for number in range(chats):
            await one(number)
            await asyncio.sleep(1.0)  # nobody else is writing: no queueing at all
    return latencies


async def bench_handlers(workdir: Path, chats: int, sequential: int) -> None:
    db = await setup_database(workdir / "handlers.db")
    async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
        await add_members(db, HANDLER_CHAT0, chats, tg)
        await add_members(db, HANDLER_CHAT0 + 100_000, sequential, tg)
        services = make_services(
            index=MatchIndex(),
            municipalities=MunicipalityIndex([bundled_index().get(a) for a in TOWNS]),
            clock=system_clock,
        )
        assistant = TimedAssistant(db, services)
        channel = TelegramChannel(config(tg), assistant)
        stop = asyncio.Event()
        tasks = await run_channel(channel, stop)
        watcher = ReplyWatcher(tg)
        watching = asyncio.create_task(watcher.run())
        assistant.durations = []
        cpu = time.process_time()
        alone = await post_all(tg, watcher, HANDLER_CHAT0 + 100_000, sequential, at_once=False)
        cpu_alone, cpu = time.process_time() - cpu, time.process_time()
        handler_alone, assistant.durations = assistant.durations, []
        e2e = await post_all(tg, watcher, HANDLER_CHAT0, chats, at_once=True)
        cpu_at_once = time.process_time() - cpu
        handler = assistant.durations
        watching.cancel()
        stop.set()
        await asyncio.gather(*tasks)
    await db.dispose()

    def ms(values: list[float]) -> str:
        return f"p50 {pct(values, 0.5) * 1000:.0f} ms, p99 {pct(values, 0.99) * 1000:.0f} ms"

    print(f"/biete|/suche text ({tg.too_many_requests} x 429):")
    print(
        f"  {chats} chats at once: handler (Assistant.handle) {ms(handler)}; "
        f"user message -> first reply at server {ms(e2e)} (replies share the 30/s budget); "
        f"CPU {cpu_at_once / chats * 1000:.1f} ms per post"
    )
    print(
        f"  baseline, {sequential} posts one at a time: handler {ms(handler_alone)}; "
        f"user message -> first reply {ms(alone)}; "
        f"CPU {cpu_alone / max(sequential, 1) * 1000:.1f} ms per post (the first loads the model)"
    )
    print("  (CPU: this process, i.e. the service's handlers, the fake server and the clients)")


# --- 2. broadcast with interactive users ---------------------------------------------------


async def interactive_user(
    tg: FakeTelegram, watcher: ReplyWatcher, chat: int, stop: asyncio.Event, out: list[float]
):
    while not stop.is_set():
        reply_future = watcher.expect(chat)
        started = time.monotonic()
        tg.user_sends_command(chat, "hilfe")
        reply = await asyncio.wait_for(reply_future, 60)
        out.append(reply.received_at - started)
        await asyncio.sleep(1.1)  # a person reads before writing again


async def bench_broadcast(workdir: Path, messages: int, chats: int, users: int) -> None:
    db = await setup_database(workdir / "broadcast.db")
    async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
        member_ids = await add_members(db, BROADCAST_CHAT0, chats, tg)
        await add_members(db, INTERACTIVE_CHAT0, users, tg)
        await queue_broadcast(db, member_ids, messages)
        services = make_services(
            index=MatchIndex(),
            municipalities=MunicipalityIndex([bundled_index().get(a) for a in TOWNS]),
            clock=system_clock,
        )
        channel = TelegramChannel(config(tg), Assistant(db, services))
        stop, users_stop = asyncio.Event(), asyncio.Event()
        latencies: list[float] = []
        tasks = await run_channel(channel, stop)
        watcher = ReplyWatcher(tg)
        watching = asyncio.create_task(watcher.run())
        people = [
            asyncio.create_task(
                interactive_user(tg, watcher, INTERACTIVE_CHAT0 + n, users_stop, latencies)
            )
            for n in range(users)
        ]
        started, cpu = time.monotonic(), time.process_time()
        last_report = started
        while (done := await sent_count(db)) < messages:
            await asyncio.sleep(1.0)
            if time.monotonic() - last_report >= 30:
                last_report = time.monotonic()
                print(f"  … {done}/{messages} sent after {last_report - started:.0f} s", flush=True)
        cpu = time.process_time() - cpu
        users_stop.set()
        await asyncio.gather(*people)
        watching.cancel()
        stop.set()
        await asyncio.gather(*tasks)
        broadcast = [a.at for a in tg.limiter.accepted if a.chat_id < INTERACTIVE_CHAT0]
        first, last = min(broadcast), max(broadcast)
        # Interactive replies share the budget: count every send in the broadcast's span.
        total = [a.at for a in tg.limiter.accepted if first <= a.at <= last]
        too_many = tg.too_many_requests
    await db.dispose()
    span = last - first
    rate, broadcast_rate = (len(total) - 1) / span, (len(broadcast) - 1) / span
    print(f"Broadcast: {messages} messages to {chats} chats, limiter on, {span:.0f} s:")
    print(
        f"  all sends {rate:.2f} msg/s = {rate / 30:.1%} of 30/s "
        f"(broadcast {broadcast_rate:.2f}/s, interactive replies the rest); 429s: {too_many}"
    )
    print(
        f"  interactive reply during broadcast ({len(latencies)} replies): "
        f"p50 {pct(latencies, 0.5):.3f} s, p99 {pct(latencies, 0.99):.3f} s, "
        f"max {max(latencies):.3f} s"
    )
    print(
        f"  CPU {cpu / messages * 1000:.2f} ms per broadcast message (this process: dispatcher, "
        f"bot, /hilfe answers, the fake server and the members' clients; {cpu:.1f} s in all)"
    )


# --- 3. baselines --------------------------------------------------------------------------


def baseline_bot(tg: FakeTelegram, ptb_limiter: bool, read_timeout: float = 5.0) -> Bot:
    """A bot as a naive dispatcher would build it (PTB's default 5 s read timeout)."""
    request = HTTPXRequest(connection_pool_size=64, read_timeout=read_timeout, pool_timeout=30)
    if ptb_limiter:
        # PTB's own limiter: 30/s overall and 20/min per group; a 429 is passed on (retries 0).
        limiter = AIORateLimiter(overall_max_rate=30, overall_time_period=1, max_retries=0)
        return ExtBot(tg.token, base_url=tg.base_url, request=request, rate_limiter=limiter)
    return Bot(tg.token, base_url=tg.base_url, request=request)


async def naive_drain(db: Database, bot: Bot, messages: int, attempts: int = 1) -> float:
    """Claim, send all at once (64 in parallel), record; returns the seconds it took.

    A 429 is rescheduled after retry_after; any other error (a timeout) is sent again at once,
    up to ``attempts`` sends in all, then counted as sent, as a naive dispatcher would.
    """
    gate = asyncio.Semaphore(64)
    started = time.monotonic()
    done = 0
    while done < messages:
        async with db.uow() as uow:
            batch = await delivery.claim(uow, "telegram", system_clock(), 500)
            await uow.commit()
        if not batch:
            await asyncio.sleep(0.05)
            continue

        async def one(message: OutboxMessage) -> float | None:
            async with gate:
                for _ in range(attempts):
                    try:
                        await bot.send_message(int(message.address), message.text)
                        return None
                    except RetryAfter as error:
                        return retry_seconds(error)
                    except TelegramError:
                        continue
                return None

        outcomes = await asyncio.gather(*(one(m) for m in batch))
        async with db.uow() as uow:
            now = system_clock()
            for message, wait in zip(batch, outcomes, strict=True):
                if wait is None:
                    await delivery.mark_sent(uow, message.id, now)
                    done += 1
                else:
                    await delivery.defer(uow, message.id, now + timedelta(seconds=wait))
            await uow.commit()
    return time.monotonic() - started


async def bench_baseline(workdir: Path, messages: int, chats: int, ptb_limiter: bool) -> None:
    name = "PTB AIORateLimiter" if ptb_limiter else "naive, no limiter"
    db = await setup_database(workdir / f"baseline-{ptb_limiter}.db")
    async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
        member_ids = await add_members(db, BROADCAST_CHAT0, chats, tg)
        await queue_broadcast(db, member_ids, messages)
        bot = baseline_bot(tg, ptb_limiter)
        await bot.initialize()
        elapsed = await naive_drain(db, bot, messages)
        await bot.shutdown()
        too_many = tg.too_many_requests
    await db.dispose()
    print(f"Baseline ({name}): {messages} messages to {chats} chats:")
    print(
        f"  throughput {messages / elapsed:.2f} msg/s = {messages / elapsed / 30:.1%} of 30/s; "
        f"429s: {too_many}"
    )


# --- 4. kill -9 during a broadcast ---------------------------------------------------------


class Broadcast:
    """What the server received of the broadcast texts (one scan per call, incremental);
    the ``Receiver`` of ``benchmarks.service_kills``."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.cursor = 0
        self.copies: Counter[str] = Counter()
        self.first_at: dict[str, float] = {}

    def update(self) -> int:
        messages = self.tg.state.messages
        for message in messages[self.cursor :]:
            if message.chat_id < INTERACTIVE_CHAT0:
                text = message.text or ""
                self.copies[text] += 1
                self.first_at.setdefault(text, message.received_at)
        self.cursor = len(messages)
        return len(self.copies)

    def has(self, row: OutboxMessage) -> bool:
        return self.copies[row.text] > 0

    def mark(self) -> int:
        return len(self.tg.state.messages)

    def first_after(self, mark: int) -> float | None:
        return next(
            (m.received_at for m in self.tg.state.messages[mark:] if m.chat_id < INTERACTIVE_CHAT0),
            None,
        )


async def patient_user(tg, watcher, chat: int, stop: asyncio.Event, out: list, unanswered: list):
    """Like ``interactive_user``, but a question lost in a kill is counted, not fatal."""
    while not stop.is_set():
        reply_future = watcher.expect(chat)
        started = time.monotonic()
        tg.user_sends_command(chat, "hilfe")
        try:
            reply = await asyncio.wait_for(reply_future, 30)
            out.append((started, reply.received_at - started))
        except TimeoutError:
            unanswered.append(started)
            watcher.waiters[chat].remove(reply_future)
        await asyncio.sleep(1.1)


async def bench_kills(workdir: Path, messages: int, chats: int, users: int) -> None:
    db = await setup_database(workdir / "kills.db")
    url = db.engine.url.render_as_string(hide_password=False)
    async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
        member_ids = await add_members(db, BROADCAST_CHAT0, chats, tg)
        await add_members(db, INTERACTIVE_CHAT0, users, tg)
        await queue_broadcast(db, member_ids, messages)
        service = ServiceUnderTest(workdir, service_env(url, tg, workdir))
        seen = Broadcast(tg)
        watcher = ReplyWatcher(tg)
        watching = asyncio.create_task(watcher.run())
        users_stop = asyncio.Event()
        latencies: list[tuple[float, float]] = []
        unanswered: list[float] = []
        people: list[asyncio.Task] = []

        service_cpu: dict[int, float] = {}  # pid -> CPU seconds at its last sample
        ready_cpu: dict[int, float] = {}  # pid -> CPU seconds once it delivered

        def members_write() -> None:
            sample_cpu(service, service_cpu, ready_cpu if seen.copies else None)
            if not people and seen.copies:  # the service is up: members start writing
                people.extend(
                    asyncio.create_task(
                        patient_user(
                            tg, watcher, INTERACTIVE_CHAT0 + n, users_stop, latencies, unanswered
                        )
                    )
                    for n in range(users)
                )

        await service.start()
        started = time.monotonic()
        kills = await kill_during_delivery(service, db, seen, messages, on_poll=members_write)
        sample_cpu(service, service_cpu, ready_cpu)  # the last process has sent by now
        rows = await until_all_final(db, seen)
        elapsed = time.monotonic() - started
        sample_cpu(service, service_cpu)
        users_stop.set()
        await asyncio.gather(*people)
        watching.cancel()
        await service.stop()
        seen.update()
        taken_back = leases_taken_back(service)
        broadcast = [a.at for a in tg.limiter.accepted if a.chat_id < INTERACTIVE_CHAT0]
        # Interactive replies share the 30/s budget: count every send in the broadcast's span.
        total = [a.at for a in tg.limiter.accepted if min(broadcast) <= a.at <= max(broadcast)]
        too_many = tg.too_many_requests
        counted = sum(m.unconfirmed for m in rows)
    await db.dispose()
    texts = {m.text for m in rows}
    lost = len(texts - set(seen.copies))
    duplicates = sum(n - 1 for n in seen.copies.values())
    sustained, overall = sustained_rate(total, kills)
    broadcast_only, _ = sustained_rate(broadcast, kills)
    print(
        f"Kills: {messages} messages to {chats} chats, zukunftsraum run killed with -9 at "
        f"30 % and 70 %, {elapsed:.0f} s:"
    )
    statuses = dict(Counter(m.status for m in rows))
    print(
        f"  lost: {lost}; duplicates: {duplicates} (counted as unconfirmed: {counted}); "
        f"outbox: {statuses}"
    )
    print_kills(kills)
    print(f"  leases taken back at restart (from the service's output): {taken_back}")
    print(
        f"  sustained, all sends {sustained:.2f} msg/s = {sustained / 30:.1%} of 30/s while "
        f"running (broadcast {broadcast_only:.2f}/s, interactive replies the rest; overall "
        f"{overall:.2f}/s with the restarts); 429s: {too_many}"
    )
    used = sum(service_cpu.values())
    starting = sum(ready_cpu.values())
    print(
        f"  CPU of the service processes {used:.1f} s ({len(service_cpu)} processes; killed "
        f"ones up to their last sample): {starting:.1f} s starting up until their first send, "
        f"{used - starting:.1f} s delivering = {(used - starting) / messages * 1000:.2f} ms "
        f"per message (with the /hilfe answers)"
    )
    calm = [
        latency
        for at, latency in latencies
        if not any(k.killed_at - 30 <= at <= k.first_send for k in kills)
    ]
    all_latencies = [latency for _, latency in latencies]
    print(
        f"  /hilfe during the broadcast ({len(all_latencies)} answers): away from the kills "
        f"p50 {pct(calm, 0.5):.3f} s, p99 {pct(calm, 0.99):.3f} s; all answers p99 "
        f"{pct(all_latencies, 0.99):.3f} s, max {max(all_latencies, default=0):.3f} s; "
        f"unanswered (asked of a process just killed): {len(unanswered)}"
    )


def sample_cpu(
    service: ServiceUnderTest, seen: dict[int, float], first: dict[int, float] | None = None
) -> None:
    """The running service process's CPU seconds so far (Linux /proc; nothing elsewhere);
    into ``first`` too when it has no sample of this process yet."""
    process = service.process
    if process is None:
        return
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return
    ticks = os.sysconf("SC_CLK_TCK")
    seen[process.pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    if first is not None:
        first.setdefault(process.pid, seen[process.pid])


# --- 5. a server that allows 10 msg/s -------------------------------------------------------


def after_first_seconds(tg: FakeTelegram, since: float, seconds: float = 10.0) -> int:
    return sum(1 for r in tg.limiter.rejected if r.at >= since + seconds)


async def bench_tight_server(workdir: Path, messages: int, chats: int) -> None:
    tight = RateLimits(enabled=True, global_per_second=10)
    print(f"Server allowing 10 msg/s: {messages} messages to {chats} chats:")
    for name in ("ours (adaptive)", "naive, no limiter", "PTB AIORateLimiter"):
        db = await setup_database(workdir / f"tight-{len(name)}.db")
        async with FakeTelegram(rate_limits=tight) as tg:
            member_ids = await add_members(db, BROADCAST_CHAT0, chats, tg)
            await queue_broadcast(db, member_ids, messages)
            started = time.monotonic()
            if name.startswith("ours"):
                channel = TelegramChannel(config(tg), Assistant(db, broadcast_services()))
                stop = asyncio.Event()
                tasks = await run_channel(channel, stop)
                started = time.monotonic()
                while await sent_count(db) < messages:
                    await asyncio.sleep(0.5)
                rate = channel.limiter.rate
                stop.set()
                await asyncio.gather(*tasks)
                note = f"; rate settled at {rate:.1f}/s"
            else:
                bot = baseline_bot(tg, name.startswith("PTB"))
                await bot.initialize()
                await naive_drain(db, bot, messages)
                await bot.shutdown()
                note = ""
            elapsed = time.monotonic() - started
            late = after_first_seconds(tg, started)
            total = tg.too_many_requests
        await db.dispose()
        print(
            f"  {name}: 429s after the first 10 s {late} = {late / messages:.1%} of the "
            f"messages (all 429s {total}); {messages / elapsed:.2f} msg/s{note}"
        )


# --- 6. a slow Bot API ------------------------------------------------------------------------


async def bench_latency(workdir: Path, messages: int, chats: int, latency: float) -> None:
    print(f"Bot API latency {latency:.0f} s: {messages} messages to {chats} chats:")
    variants = [
        ("ours, read timeout 30 s", {}),
        ("ours, read timeout 5 s", {"read_timeout": 5.0, "unknown_pause": 5.0}),
        ("naive, PTB default read timeout 5 s, sends again on error", None),
    ]
    for name, overrides in variants:
        db = await setup_database(workdir / f"latency-{len(name)}.db")
        async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
            member_ids = await add_members(db, BROADCAST_CHAT0, chats, tg)
            await queue_broadcast(db, member_ids, messages)
            tg.faults.latency = latency
            seen = Broadcast(tg)
            started = time.monotonic()
            if overrides is not None:
                tg_config = config(tg, **overrides)
                channel = TelegramChannel(tg_config, Assistant(db, broadcast_services()))
                stop = asyncio.Event()
                tasks = await run_channel(channel, stop)
                while not all(m.status in ("sent", "uncertain") for m in await outbox_rows(db)):
                    await asyncio.sleep(1.0)
                stop.set()
                await asyncio.gather(*tasks)
            else:
                bot = baseline_bot(tg, False)
                await bot.initialize()
                await naive_drain(db, bot, messages, attempts=2)
                await bot.shutdown()
            elapsed = time.monotonic() - started
            await asyncio.sleep(latency)  # answers still under way are recorded by the server
            seen.update()
            rows = await outbox_rows(db)
        await db.dispose()
        duplicates = sum(n - 1 for n in seen.copies.values())
        counted = sum(m.unconfirmed for m in rows)
        uncertain = sum(1 for m in rows if m.status == "uncertain")
        lost = len({m.text for m in rows} - set(seen.copies))
        print(
            f"  {name}: duplicates {duplicates} = {duplicates / messages:.1%} "
            f"(counted: {counted}; left uncertain after the one retry: {uncertain}); "
            f"lost {lost}; {elapsed:.0f} s"
        )


# --- 7. /hilfe while staff import posts into the running service ---------------------------

IMPORT_AUTHORS = 20


def import_file(path: Path, posts: int) -> Path:
    rows = []
    for number in range(posts):
        topic = TOPICS[number % len(TOPICS)]
        kind = "offer" if number % 2 else "request"
        title = f"{'Wir teilen' if kind == 'offer' else 'Wir suchen'}: {topic} ({number})"
        rows.append(
            {
                "id": f"import-{number}",
                "kind": kind,
                "title": title,
                "body": f"Erfahrungen aus Gemeinde {number % 97} zum Thema {topic}.",
                "author_email": f"autor{number % IMPORT_AUTHORS}@example.org",
            }
        )
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


async def add_authors(db: Database) -> None:
    async with db.uow() as uow:
        for number in range(IMPORT_AUTHORS):
            town = TOWNS[number % len(TOWNS)]
            email = f"autor{number}@example.org"
            new = NewMember(f"Autor {number}", "mayor", town, email=email, consent=True)
            await add_member(uow, new, system_clock())
        await uow.commit()


async def bench_import(workdir: Path, posts: int, users: int, quiet: float = 15.0) -> None:
    """``zukunftsraum import posts`` (a separate process) into the database of a running
    ``zukunftsraum run`` while members write /hilfe; the same members' answers in the
    ``quiet`` seconds before the import are the baseline."""
    db = await setup_database(workdir / "import.db")
    url = db.engine.url.render_as_string(hide_password=False)
    path = import_file(workdir / "import.jsonl", posts)
    async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
        await add_members(db, INTERACTIVE_CHAT0, users, tg)
        await add_authors(db)
        env = service_env(url, tg, workdir)
        service = ServiceUnderTest(workdir, env)
        await service.start()
        watcher = ReplyWatcher(tg)
        watching = asyncio.create_task(watcher.run())
        first = watcher.expect(INTERACTIVE_CHAT0)
        tg.user_sends_command(INTERACTIVE_CHAT0, "hilfe")
        await asyncio.wait_for(first, 120)  # the service is up
        stop = asyncio.Event()
        latencies: list[tuple[float, float]] = []
        unanswered: list[float] = []
        people = [
            asyncio.create_task(
                patient_user(tg, watcher, INTERACTIVE_CHAT0 + n, stop, latencies, unanswered)
            )
            for n in range(users)
        ]
        await asyncio.sleep(quiet)
        import_env = {k: v for k, v in os.environ.items() if not k.startswith("ZR_")}
        import_env["ZR_DATABASE_URL"] = url
        started = time.monotonic()
        importer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "zukunftsraum", "import", "posts", str(path),
            cwd=workdir, env=import_env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        summary = (await importer.stdout.read()).decode().strip()
        await importer.wait()
        ended = time.monotonic()
        stop.set()
        await asyncio.gather(*people)
        watching.cancel()
        await service.stop()
    await db.dispose()
    before = [latency for at, latency in latencies if at < started]
    during = [latency for at, latency in latencies if started <= at <= ended]
    print(
        f"Import: `zukunftsraum import posts` of {posts} posts into the running service "
        f"(SQLite), {ended - started:.0f} s: {summary}"
    )
    print(
        f"  /hilfe before the import ({len(before)} answers): p50 {pct(before, 0.5):.3f} s, "
        f"p99 {pct(before, 0.99):.3f} s; during it ({len(during)} answers): "
        f"p50 {pct(during, 0.5):.3f} s, p99 {pct(during, 0.99):.3f} s, "
        f"max {max(during, default=0):.3f} s; unanswered: {len(unanswered)}"
    )


def broadcast_services() -> Services:
    return make_services(
        index=MatchIndex(),
        municipalities=MunicipalityIndex([bundled_index().get(a) for a in TOWNS]),
        clock=system_clock,
    )


# Full size and --quick size of each step's figure (an explicit flag wins over both).
SIZES = {
    "messages": (10_000, 1_500),
    "chats": (2_000, 300),
    "handler_chats": (100, 50),
    "sequential_posts": (20, 5),
    "tight_messages": (600, 150),
    "latency_messages": (150, 40),
    "import_posts": (1_000, 200),
}


def compare_handlers(ref: str, chats: int, sequential: int) -> None:
    """The handler step of commit ``ref`` beside this tree's, each in a process of its own
    (same sizes, same minutes), from a temporary git worktree of ``ref``."""
    root = Path(__file__).resolve().parent.parent
    sizes = ["--handler-chats", str(chats), "--sequential-posts", str(sequential)]
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(root), "worktree", "add", "--detach", "-q", str(other), ref],
            check=True,
        )
        try:
            for name, tree in ((f"this tree (at {_head(root)})", root), (ref, other)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                result = subprocess.run(
                    [sys.executable, str(tree / "benchmarks" / Path(__file__).name),
                     "--only", "handlers", *sizes],
                    cwd=tree, capture_output=True, text=True, env=_env_for(tree),
                )  # fmt: skip
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                lines = [line for line in result.stdout.splitlines() if line.startswith("  ")]
                print(f"Handlers of {name} (whole step in its own process: CPU {cpu:.1f} s):")
                failed = [f"  failed: {line}" for line in result.stderr.splitlines()[-1:]]
                print("\n".join(lines if result.returncode == 0 else lines + failed))
        finally:
            subprocess.run(
                ["git", "-C", str(root), "worktree", "remove", "--force", str(other)], check=False
            )


def _head(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "?"


def _env_for(tree: Path) -> dict[str, str]:
    """That tree's code first on the path (the installed package points at this tree)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tree)
    return env


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute each)")
    for name in SIZES:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None)
    parser.add_argument("--baseline-messages", type=int, default=None)
    parser.add_argument("--interactive-users", type=int, default=4)
    parser.add_argument("--latency", type=float, default=7.0)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated steps to run (handlers,broadcast,baseline,"
        "kills,tight,latency,import); default all",
    )
    parser.add_argument(
        "--handlers-ref",
        default="",
        help="with the handler step: also run that step of this commit (e.g. the one before "
        "the write gate) in a temporary git worktree, beside this tree's",
    )
    args = parser.parse_args()
    for name, (full, quick) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    logging.basicConfig(level=logging.ERROR)
    # PTB's limiter logs every 429 it passes on with a traceback; the counts are printed below.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    steps = set(args.only.split(",")) if args.only else None

    def wanted(step: str) -> bool:
        return steps is None or step in steps

    baseline = args.baseline_messages or min(args.messages, 1000)
    baseline_chats = max(1, round(args.chats * baseline / args.messages))
    small_chats = max(1, round(args.chats * args.tight_messages / args.messages))
    slow_chats = max(1, round(args.chats * args.latency_messages / args.messages))
    print("Telegram limits enforced by the fake server: 30/s overall, 1/s per chat.")
    os.environ.pop("ZR_TEST_DATABASE_URL", None)  # SQLite files here, as the service uses
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if wanted("handlers") and args.handlers_ref:
            compare_handlers(args.handlers_ref, args.handler_chats, args.sequential_posts)
        elif wanted("handlers"):
            await bench_handlers(workdir, args.handler_chats, args.sequential_posts)
        if wanted("broadcast"):
            await bench_broadcast(workdir, args.messages, args.chats, args.interactive_users)
        if wanted("baseline"):
            await bench_baseline(workdir, baseline, baseline_chats, ptb_limiter=False)
            await bench_baseline(workdir, baseline, baseline_chats, ptb_limiter=True)
        if wanted("kills"):
            await bench_kills(workdir, args.messages, args.chats, args.interactive_users)
        if wanted("tight"):
            await bench_tight_server(workdir, args.tight_messages, small_chats)
        if wanted("latency"):
            await bench_latency(workdir, args.latency_messages, slow_chats, args.latency)
        if wanted("import"):
            await bench_import(workdir, args.import_posts, args.interactive_users)


if __name__ == "__main__":
    asyncio.run(main())
