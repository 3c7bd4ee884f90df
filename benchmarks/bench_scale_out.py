"""The scale-out scenario of tests/telegram/test_scale_out.py at full size: two
``zukunftsraum run`` processes on PostgreSQL, the local Bot API server, Dovecot and an SMTP
sink; 2,000 outgoing Telegram messages and 200 incoming mails; the holder of the polling and
intake roles is killed with -9 halfway.

Usage: python benchmarks/bench_scale_out.py [--messages 2000] [--mails 200]
       (ZR_TEST_DATABASE_URL: a PostgreSQL database; its tables are replaced)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_outbox_processes import fresh_database
from core.municipalities.directory import bundled_index
from core.municipalities.reference import _row
from tests.support import scale_out
from tests.support.botapi import FakeTelegram
from tests.support.mailservers import SmtpSink, dovecot_root, start_dovecot


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--mails", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("ZR_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("ZR_TEST_DATABASE_URL must name a PostgreSQL database (its tables are replaced).")
    db = await fresh_database(url)
    async with db.uow() as uow:
        await uow.municipalities.upsert_many(
            [_row(bundled_index().get(a)) for a in scale_out.TOWNS]
        )
        await uow.commit()
    root = dovecot_root()
    dovecot = start_dovecot(root)
    smtp = SmtpSink().start()
    try:
        async with FakeTelegram() as tg:
            with tempfile.TemporaryDirectory(prefix="zr-scale-out-") as tmp:
                seen = await scale_out.run(
                    db, tg, dovecot, smtp, Path(tmp), args.messages, args.mails,
                    chats=args.messages // 4,
                )  # fmt: skip
    finally:
        smtp.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
        await db.dispose()
    chats = args.messages // 4
    print(f"{args.messages} messages to {chats} chats, {args.mails} mails, two processes:")
    print(f"  roles before the kill: {seen.roles_before}")
    print(f"  takeover of polling and intake after kill -9: {seen.takeover_seconds:.1f} s")
    print(f"  roles of the survivor: {seen.roles_after}")
    print(
        f"  outgoing: lost {seen.lost}, duplicates {seen.duplicates}, held by the killed process "
        f"{seen.held_at_kill}, counted unconfirmed {seen.unconfirmed}; "
        f"outbox {dict(seen.outbox_status)}"
    )
    print(
        f"  incoming: {seen.inbound_rows} stored ({seen.inbound_distinct} distinct UIDs), "
        f"{dict(seen.inbound_status)}; strangers answered {len(seen.answers)} of "
        f"{len(seen.strangers)}, answers {sum(seen.answers.values())}"
    )
    print(f"  offer through process a, request through b, matched: {bool(seen.matched)}")
    load = os.getloadavg()[0]
    print(f"  everything final after {seen.broadcast_seconds:.0f} s; load average {load:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
