"""Telegram delivery against the local fake Bot API with Telegram's limits enforced (429s).

Usage: python benchmarks/bench_telegram_broadcast.py [--messages 10000] [--chats 2000]
       [--baseline-messages 1000] [--handler-chats 100] [--sequential-posts 20]
       [--interactive-users 4]

1. Handler latency: ``--handler-chats`` members send ``/biete <text>`` at the same moment.
   Reported: time inside ``Assistant.handle`` and user message -> first reply at the server;
   baseline: ``--sequential-posts`` posts one at a time.
2. Broadcast: ``--messages`` outbox messages to ``--chats`` chats, delivered by the real channel
   (PTB Application + outbox dispatcher + limiter). Meanwhile members in other chats keep writing
   ``/hilfe``; reported is user message -> reply received by the server (p50/p99).
   Throughput: accepted broadcast messages per second between the first and the last, as a
   fraction of 30/s; 429s as counted by the server.
3. Baseline, same run: a naive dispatcher that sends every claimed message at once (64 in
   parallel, no limiter) and reschedules a 429 after retry_after.

The full size takes at least 10,000 / 30 = 333 s for step 2 alone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from bot.channel import TelegramChannel, TelegramConfig
from bot.limits import SendLimits
from bot.ratelimiter import retry_seconds
from core import delivery
from core.assistant import Assistant
from core.clock import system_clock
from core.context import Services
from core.match_index import MatchIndex
from core.members import NewMember, add_member
from core.models import OutboxMessage
from core.municipalities import MunicipalityIndex, bundled_index
from core.outbox import enqueue
from core.reference import _row
from core.replies import Choice, Reply
from core.schema import upgrade
from core.store import Database
from tests.support.botapi import FakeTelegram, RateLimits

TOWNS = ["12073452", "12073572", "14626110", "08311000", "14521690", "05358008"]
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


async def setup_database(path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    index = bundled_index()
    async with db.uow() as uow:
        await uow.municipalities.upsert_many(_row(index.get(ags)) for ags in TOWNS)
        await uow.commit()
    return db


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


async def queue_broadcast(db: Database, member_ids: list[int], messages: int) -> None:
    """Round by round, like repeated newsletters: message i goes to member i mod chats."""
    now = system_clock()
    for start in range(0, messages, 1000):
        async with db.uow() as uow:
            members = {m: await uow.members.get(m) for m in member_ids}
            for number in range(start, min(start + 1000, messages)):
                member = members[member_ids[number % len(member_ids)]]
                reply = Reply(
                    f"Neuigkeit {number}: ein neuer Beitrag passt zu Ihnen.",
                    [Choice("Ansehen", "/treffer")],
                )
                enqueue(uow, member, reply, kind="bench", now=now)
            await uow.commit()


async def sent_count(db: Database) -> int:
    async with db.uow() as uow:
        stmt = select(func.count()).where(OutboxMessage.status == "sent")
        return await uow.session.scalar(stmt.select_from(OutboxMessage)) or 0


def config(tg: FakeTelegram) -> TelegramConfig:
    return TelegramConfig(
        token=tg.token, base_url=tg.base_url, limits=SendLimits.telegram(), poll_timeout=5
    )


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
        services = Services(
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
        alone = await post_all(tg, watcher, HANDLER_CHAT0 + 100_000, sequential, at_once=False)
        handler_alone, assistant.durations = assistant.durations, []
        e2e = await post_all(tg, watcher, HANDLER_CHAT0, chats, at_once=True)
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
        f"user message -> first reply at server {ms(e2e)} (replies share the 30/s budget)"
    )
    print(
        f"  baseline, {sequential} posts one at a time: handler {ms(handler_alone)}; "
        f"user message -> first reply {ms(alone)}"
    )


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
        services = Services(
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
        started = time.monotonic()
        last_report = started
        while (done := await sent_count(db)) < messages:
            await asyncio.sleep(1.0)
            if time.monotonic() - last_report >= 30:
                last_report = time.monotonic()
                print(f"  … {done}/{messages} sent after {last_report - started:.0f} s", flush=True)
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


# --- 3. baseline -------------------------------------------------------------------------


async def bench_baseline(workdir: Path, messages: int, chats: int) -> None:
    db = await setup_database(workdir / "baseline.db")
    async with FakeTelegram(rate_limits=RateLimits.telegram()) as tg:
        member_ids = await add_members(db, BROADCAST_CHAT0, chats, tg)
        await queue_broadcast(db, member_ids, messages)
        bot = Bot(tg.token, base_url=tg.base_url, request=HTTPXRequest(connection_pool_size=64))
        await bot.initialize()
        gate = asyncio.Semaphore(64)
        started = time.monotonic()
        sent = 0
        while sent < messages:
            async with db.uow() as uow:
                batch = await delivery.claim(uow, "telegram", system_clock(), 500)
                await uow.commit()
            if not batch:
                await asyncio.sleep(0.05)
                continue

            async def one(message: OutboxMessage) -> float | None:
                async with gate:
                    try:
                        await bot.send_message(int(message.address), message.text)
                        return None
                    except RetryAfter as error:
                        return retry_seconds(error)

            outcomes = await asyncio.gather(*(one(m) for m in batch))
            async with db.uow() as uow:
                now = system_clock()
                for message, wait in zip(batch, outcomes, strict=True):
                    if wait is None:
                        await delivery.mark_sent(uow, message.id, now)
                        sent += 1
                    else:
                        await delivery.defer(uow, message.id, now + timedelta(seconds=wait))
                await uow.commit()
        elapsed = time.monotonic() - started
        await bot.shutdown()
        too_many = tg.too_many_requests
    await db.dispose()
    print(f"Baseline (naive, no limiter): {messages} messages to {chats} chats:")
    print(
        f"  throughput {messages / elapsed:.2f} msg/s = {messages / elapsed / 30:.1%} of 30/s; "
        f"429s: {too_many}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--baseline-messages", type=int, default=None)
    parser.add_argument("--handler-chats", type=int, default=100)
    parser.add_argument("--interactive-users", type=int, default=4)
    parser.add_argument("--sequential-posts", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    baseline = args.baseline_messages or min(args.messages, 1000)
    baseline_chats = max(1, round(args.chats * baseline / args.messages))
    print("Telegram limits enforced by the fake server: 30/s overall, 1/s per chat.")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        await bench_handlers(workdir, args.handler_chats, args.sequential_posts)
        await bench_broadcast(workdir, args.messages, args.chats, args.interactive_users)
        await bench_baseline(workdir, baseline, baseline_chats)


if __name__ == "__main__":
    asyncio.run(main())
