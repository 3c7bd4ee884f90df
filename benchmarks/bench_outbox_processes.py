"""Outbox throughput with 1, 2 and 4 ``zukunftsraum run --roles outbox`` processes on one
PostgreSQL database, in the same run.

Usage: python benchmarks/bench_outbox_processes.py [--messages 1000] [--processes 1,2,4]
       [--channels email,telegram]   (ZR_TEST_DATABASE_URL: a PostgreSQL database to use;
       its tables are dropped and created again)

For each channel and process count: the processes start with an empty outbox and report
healthy on /healthz; then ``--messages`` messages are queued in one transaction, and the time
from that commit until every message is recorded as sent gives messages/s. Email goes to an
SMTP sink (aiosmtpd) in this process, one recipient per message; Telegram to the local Bot API
server without server-side limits, one message per chat, so each process's own limiter (30
messages/s per bot) is what bounds it. The sinks run in this process and
share its CPU: the machine load is printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import func, select, text

from core.kernel.clock import system_clock
from core.kernel.replies import Reply
from core.members.accounts import NewMember, add_member
from core.messaging.outbox import enqueue
from core.municipalities.directory import bundled_index
from core.municipalities.reference import _row
from core.store.models import OutboxMessage
from core.store.schema import upgrade
from core.store.unit_of_work import Database
from tests.support.botapi import FakeTelegram
from tests.support.mailservers import SmtpSink, free_port
from tests.support.service import ServiceUnderTest

TOWN = "12073452"


async def fresh_database(url: str) -> Database:
    db = Database(url)
    await db.drop_all()
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await upgrade(db)
    async with db.uow() as uow:
        await uow.municipalities.upsert_many([_row(bundled_index().get(TOWN))])
        await uow.commit()
    return db


async def add_recipients(db: Database, channel: str, count: int, tg) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for n in range(count):
            if channel == "telegram":
                chat = 50_000_000 + n
                tg.add_user(chat, first_name=f"Person {n}")
                new = NewMember(f"Person {n}", "mayor", TOWN, telegram_chat_id=chat, consent=True)
            else:
                new = NewMember(f"Person {n}", "volunteer", TOWN, email=f"p{n}@example.org",
                                consent=True)  # fmt: skip
            ids.append((await add_member(uow, new, system_clock())).id)
        await uow.commit()
    return ids


async def queue(db: Database, member_ids: list[int], messages: int) -> None:
    async with db.uow() as uow:
        members = [await uow.members.get(m) for m in member_ids]
        for n in range(messages):
            reply = Reply(f"Rundbrief {n}: Neues aus dem Netzwerk.")
            enqueue(uow, members[n % len(members)], reply, kind="bench", subject="Rundbrief",
                    now=system_clock())  # fmt: skip
        await uow.commit()


async def sent(db: Database) -> int:
    async with db.uow() as uow:
        stmt = select(func.count()).select_from(OutboxMessage)
        return await uow.session.scalar(stmt.where(OutboxMessage.status == "sent"))


async def healthy(port: int) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)


async def measure(url: str, channel: str, processes: int, messages: int, workdir: Path,
                  tg, smtp) -> float:  # fmt: skip
    db = await fresh_database(url)
    recipients = messages  # one message per chat: the 1/s per chat does not bound the figure
    member_ids = await add_recipients(db, channel, recipients, tg)
    services = []
    try:
        ports = []
        for n in range(processes):
            port = free_port()
            ports.append(port)
            home = workdir / f"{channel}-{processes}-{n}"
            home.mkdir(parents=True)
            env = {
                "ZR_DATABASE_URL": url,
                "ZR_TELEGRAM_TOKEN": tg.token,
                "ZR_TELEGRAM_BASE_URL": tg.base_url,
                "ZR_SMTP_HOST": "127.0.0.1",
                "ZR_SMTP_PORT": str(smtp.port),
                "ZR_SMTP_TLS": "none",
                "ZR_MAIL_DIR": str(home / "mail"),
                "ZR_HTTP_PORT": str(port),
                "ZR_HTTP_LISTEN": "127.0.0.1",
            }
            service = ServiceUnderTest(home, env, ("--roles", "outbox"))
            await service.start()
            services.append(service)
        await asyncio.wait_for(asyncio.gather(*(healthy(p) for p in ports)), 300)
        await asyncio.sleep(2)  # the Telegram bots finish their start (getMe, commands)
        started = time.monotonic()
        await queue(db, member_ids, messages)
        while await sent(db) < messages:
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for service in services:
            await service.stop()
        await db.dispose()
    return messages / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--channels", default="email,telegram")
    args = parser.parse_args()
    url = os.environ.get("ZR_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("ZR_TEST_DATABASE_URL must name a PostgreSQL database (its tables are replaced).")
    counts = [int(n) for n in args.processes.split(",")]
    smtp = SmtpSink().start()
    try:
        async with FakeTelegram() as tg:
            with tempfile.TemporaryDirectory(prefix="zr-outbox-bench-") as tmp:
                for channel in args.channels.split(","):
                    for processes in counts:
                        rate = await measure(url, channel, processes, args.messages, Path(tmp),
                                             tg, smtp)  # fmt: skip
                        load = os.getloadavg()[0]
                        print(
                            f"{channel:8} {processes} process(es): {rate:7.1f} messages/s "
                            f"({args.messages} messages; load average {load:.1f})",
                            flush=True,
                        )
    finally:
        smtp.stop()


if __name__ == "__main__":
    asyncio.run(main())
