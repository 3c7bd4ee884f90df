"""Hostile mail at volume: throughput of the real pipeline for the fuzz generator's mails.

The mails of ``tests/hostile_mail.py`` (8-bit and broken headers, malformed From, broken MIME,
NUL bytes, 5 MB bodies, deep nesting, DSNs, auto-replies, own-address mails, strangers) are
stored and processed in batches as the inbox does it, then the answers are composed and
serialised as the SMTP sender writes them. Baseline in the same run: clean mails (the mix of
``bench_email_ingest``) through the same pipeline.

Checked at the end, as in the fuzz test: every mail ended in a final status, nothing waits.

Usage: python benchmarks/bench_email_hostile.py [--messages 100000] [--clean 5000]
       [--database postgresql://…]  (its tables are replaced)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from benchmarks.bench_email_ingest import MAIL_FROM, _ingest, _mails, _world
from core.conversation import inbound_mail
from core.feature_set import all_features
from core.store.models import InboundMail
from mail.compose import serialise
from mail.incoming import InboundPipeline
from mail.outgoing import EmailDispatcher
from tests.hostile_mail import HostileMails

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

CHUNK = 2000  # mails generated and fed at a time (a 100,000 mail run stays small in memory)


class _Counted:
    """A transport that writes each mail as the SMTP sender would, and counts it."""

    def __init__(self) -> None:
        self.sent = 0
        self.bytes = 0

    async def send(self, msg, sender: str, recipient: str) -> None:
        self.bytes += len(serialise(msg))
        self.sent += 1

    async def close(self) -> None:
        return None


async def run(count: int, clean: int, database: str, seed: int, send: int) -> bool:
    """One run; True when every mail reached a final status."""
    directory = Path(tempfile.mkdtemp(prefix="zr-bench-"))
    try:
        db, assistant, addresses = await _world(directory, 200, database)
        pipeline = InboundPipeline(assistant, mail_from=MAIL_FROM)
        transport = _Counted()
        dispatcher = EmailDispatcher(
            db,
            transport,
            mail_from=MAIL_FROM,
            grammar=GRAMMAR,
            clock=assistant.services.clock,
            batch=200,
        )
        where = "PostgreSQL" if database.startswith("postgres") else "SQLite file"
        print(f"hostile mail ({where}, seed {seed}):", flush=True)
        # Baseline: clean mails, same pipeline, same run.
        clean_mails = _mails(addresses, clean)
        started = time.perf_counter()
        await _ingest(pipeline, clean_mails, first_uid=1)
        clean_rate = clean / (time.perf_counter() - started)
        print(
            f"  baseline: {clean} clean mails, same pipeline {clean_rate:7.0f} mails/s", flush=True
        )

        generator = HostileMails(seed, MAIL_FROM, addresses, big_every=2000)
        kinds: Counter[str] = Counter()
        kind_of: list[str] = []  # by number in the generator's sequence, for a replay
        uid = first_uid = 10 * clean + 1
        started = time.perf_counter()
        done = 0
        while done < count:
            chunk = generator.take(min(CHUNK, count - done))
            kinds.update(m.kind for m in chunk)
            kind_of += [m.kind for m in chunk]
            await _ingest(pipeline, [m.raw for m in chunk], first_uid=uid)
            uid += len(chunk)
            done += len(chunk)
            if done % 10_000 == 0:  # long runs show how they go
                rate = done / (time.perf_counter() - started)
                print(f"  … {done} hostile mails, {rate:.0f} mails/s so far", flush=True)
        ingest_seconds = time.perf_counter() - started
        # Composing and writing every answer is the dispatcher's job, not the inbox's: a
        # sample of ``send`` answers shows that each can be written as the SMTP sender does.
        started = time.perf_counter()
        while transport.sent < send and await dispatcher.drain_once():
            pass
        send_seconds = time.perf_counter() - started
        async with db.uow() as uow:
            statuses = await inbound_mail.status_counts(uow)
            waiting = await _not_final(uow)
        await db.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    unfinished = {s: n for s, n in statuses.items() if s not in inbound_mail.FINAL_STATUSES}
    print(f"  {count} hostile mails, stored + processed    {count / ingest_seconds:7.0f} mails/s")
    print(f"  baseline: {clean} clean mails, same pipeline {clean_rate:7.0f} mails/s")
    print(
        f"  answers composed and serialised (SMTP form)  {transport.sent:7d} in "
        f"{send_seconds:.1f} s ({transport.sent / max(send_seconds, 1e-9):.0f}/s)"
    )
    print(f"  final statuses: {dict(sorted(statuses.items()))}")
    print(f"  not finished: {unfinished or 'none'}")
    for row_uid, status, attempts, error in waiting:
        number = row_uid - first_uid  # of the seeded sequence (HostileMails(seed).take(n))
        kind = kind_of[number] if 0 <= number < len(kind_of) else "clean"
        print(f"    mail {number} ({kind}): {status} after {attempts} attempt(s): {error}")
    print(f"  kinds: {dict(sorted(kinds.items()))}")
    return not unfinished


async def _not_final(uow) -> list[tuple[int, str, int, str | None]]:
    """Mails not (yet) in a final status: uid, status, attempts, the last error."""
    rows = await uow.session.execute(
        select(InboundMail.uid, InboundMail.status, InboundMail.attempts, InboundMail.error)
        .where(InboundMail.status.not_in(inbound_mail.FINAL_STATUSES))
        .order_by(InboundMail.uid)
        .limit(50)
    )
    return [tuple(row) for row in rows.all()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--clean", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--send", type=int, default=2000, help="answers to compose and write")
    parser.add_argument(
        "--database",
        default=os.environ.get("ZR_TEST_DATABASE_URL", ""),
        help="a PostgreSQL URL to measure there too (its tables are replaced)",
    )
    args = parser.parse_args()
    # One log line per mail set aside is right for operators; here it would be 1,000s of lines.
    logging.getLogger("core.conversation.inbound_mail").setLevel(logging.CRITICAL)
    logging.getLogger("mail").setLevel(logging.CRITICAL)
    # The run fails when a mail did not reach a final status: the inbox must drain.
    drained = asyncio.run(run(args.messages, args.clean, "", args.seed, args.send))
    if args.database.startswith("postgres"):
        drained &= asyncio.run(run(args.messages, args.clean, args.database, args.seed, args.send))
    else:
        print("PostgreSQL: skipped (give --database or ZR_TEST_DATABASE_URL)")
    return 0 if drained else 1


if __name__ == "__main__":
    raise SystemExit(main())
