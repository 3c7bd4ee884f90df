"""Time one reminder sweep: 10,000 registrations over 200 events, all due at once.

Usage: python benchmarks/bench_reminder_sweep.py [--events 200] [--per-event 50]

Runs on a SQLite file, and also on PostgreSQL when ZR_TEST_DATABASE_URL is set (that
database's tables are dropped and recreated). Prints the sweep's time to queue every
due reminder (target: at most 1 s), proof that a second sweep queues none, and a naive
baseline measured in the same run: one dedupe lookup and one ORM insert per reminder
(the same work, rolled back afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from core.events.ics import ics_attachment
from core.events.reminders import due_reminders, reminder_reply, sweep_reminders
from core.messaging.outbox import attachment_json, enqueue
from core.store.models import Event, Member, Municipality, Registration
from core.store.unit_of_work import Database

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


async def populate(db: Database, events: int, per_event: int) -> None:
    await db.drop_all()
    await db.create_all()
    async with db.uow() as uow:
        uow.add(
            Municipality(
                ags="12073452",
                name="Prenzlau",
                kind="Stadt",
                land="12",
                land_name="Brandenburg",
                postcodes="",
            )
        )
        members = [
            Member(
                name=f"Mitglied {n}",
                role="mayor",
                municipality_ags="12073452",
                email=f"m{n}@example.org" if n % 2 else None,
                telegram_chat_id=None if n % 2 else 10_000_000 + n,
                preferred_channel="auto",
                digest="weekly",
                created_at=NOW - timedelta(days=30),
                consent_at=NOW - timedelta(days=30),
            )
            for n in range(per_event * 4)
        ]
        uow.session.add_all(members)
        await uow.flush()
        for e in range(events):
            event = Event(
                uid=f"bench-{e}@zukunftsraum",
                kind="seminar",
                title=f"Seminar {e}",
                description="",
                starts_at=NOW + timedelta(days=1),
                location="",
                url="https://konf.example",
                reminder_offsets=["P1D", "PT1H"],
                status="published",
                sequence=0,
                created_at=NOW,
                updated_at=NOW,
            )
            uow.add(event)
            await uow.flush()
            chosen = members[(e * 7) % len(members) :] + members[: (e * 7) % len(members)]
            uow.session.add_all(
                Registration(
                    event_id=event.id,
                    member_id=m.id,
                    status="registered",
                    since=NOW - timedelta(days=10),
                    created_at=NOW - timedelta(days=10),
                )
                for m in chosen[:per_event]
            )
        await uow.commit()


async def naive(db: Database) -> tuple[float, int]:
    """Per registration: look the dedupe key up, then insert one row (rolled back)."""
    async with db.uow() as uow:
        started = time.perf_counter()
        queued = 0
        for reminder in await due_reminders(uow, NOW, TZ):
            reply = reminder_reply(reminder.event, reminder.offset, TZ, None)
            member_ids = await uow.session.scalars(
                select(Registration.member_id).where(
                    Registration.event_id == reminder.event.id,
                    Registration.status == "registered",
                )
            )
            for member_id in member_ids.all():
                member = await uow.members.get(member_id)
                key = reminder.key(member.id)
                if await uow.outbox.exists(key):
                    continue
                message = enqueue(
                    uow, member, reply, kind="event_reminder", now=NOW, dedupe_key=key
                )
                if message is not None and message.channel == "email":
                    message.attachments = [attachment_json(ics_attachment(reminder.event, NOW))]
                await uow.flush()
                queued += 1
        return time.perf_counter() - started, queued


async def sweep(db: Database) -> tuple[float, int]:
    async with db.uow() as uow:
        started = time.perf_counter()
        queued = await sweep_reminders(uow, NOW, TZ)
        await uow.commit()
        return time.perf_counter() - started, queued


async def bench(label: str, url: str, events: int, per_event: int) -> None:
    db = Database(url)
    try:
        await populate(db, events, per_event)
        naive_s, naive_n = await naive(db)
        first_s, first_n = await sweep(db)
        second_s, second_n = await sweep(db)
    finally:
        await db.drop_all()
        await db.dispose()
    print(f"{label}: {events} events x {per_event} registrations = {events * per_event}")
    print(f"  sweep        {first_s:7.3f} s  queued {first_n:6d}  (target <= 1 s)")
    print(f"  second sweep {second_s:7.3f} s  queued {second_n:6d}  (must be 0)")
    print(f"  naive        {naive_s:7.3f} s  queued {naive_n:6d}  (per-row lookup + insert)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--per-event", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(bench("SQLite", url, args.events, args.per_event))
    if os.environ.get("ZR_TEST_DATABASE_URL"):
        asyncio.run(
            bench("PostgreSQL", os.environ["ZR_TEST_DATABASE_URL"], args.events, args.per_event)
        )


if __name__ == "__main__":
    main()
