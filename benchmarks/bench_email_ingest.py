"""Email ingest figures: throughput of the real pipeline, and APPEND-to-answer latency.

1. Ingest throughput on SQLite (a file, as ``zukunftsraum run`` uses): store + parse + extract +
   core use case + queued answer, for a mix of realistic mails (Outlook and Gmail replies with
   quoted history, commands, auto-replies), in batches as the IMAP inbox fetches them.
   Baselines: the same mails one per transaction, and parsing and extracting alone.
   Target: >= 500 messages/s.
2. Latency from APPEND into Dovecot until the answer arrives in the SMTP server (aiosmtpd),
   with the inbox on IDLE. Baseline: the same with polling only. Target: p95 <= 2 s with IDLE.
   Needs the ``dovecot`` binary (apt-get install dovecot-imapd); skipped without it.

Usage: python benchmarks/bench_email_ingest.py [--messages 2000] [--latency-runs 40]
       [--database postgresql://…]  (throughput on PostgreSQL as well; its tables are replaced)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.conversation.assistant import Assistant
from core.exchange.match_index import MatchIndex
from core.feature_set import all_features, make_services
from core.members import accounts as members
from core.municipalities.directory import MunicipalityIndex, bundled_index
from core.municipalities.reference import _row
from core.store.unit_of_work import Database
from mail.inbox import ImapInbox
from mail.incoming import BATCH_SIZE, InboundPipeline, batches, read_mail
from mail.outgoing import EmailDispatcher, SmtpTransport
from tests.support import mailclients
from tests.support.mailservers import SmtpSink, dovecot_root, start_dovecot

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

MAIL_FROM = "assistent@zukunftsraum.example"
TOWNS = ("12073452", "12073572", "14626110", "08311000")


async def _world(
    directory: Path, count_members: int, database: str = ""
) -> tuple[Database, Assistant, list[str]]:
    index = bundled_index()
    towns = [index.get(ags) for ags in TOWNS]
    db = Database(database or f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await db.drop_all()  # a PostgreSQL database given for the benchmark starts empty
    await db.create_all()
    async with db.uow() as uow:
        await uow.municipalities.upsert_many(_row(t) for t in towns)
        await uow.commit()
    services = make_services(index=MatchIndex(), municipalities=MunicipalityIndex(towns))
    addresses = [f"mitglied{i}@gemeinde{i % 50}.example" for i in range(count_members)]
    async with db.uow() as uow:
        for i, address in enumerate(addresses):
            new = members.NewMember(
                f"Mitglied {i}", "volunteer", TOWNS[i % 4], email=address, consent=True
            )
            await members.add_member(uow, new, services.clock())
        await uow.commit()
    return db, Assistant(db, services), addresses


def _original(address: str):
    raw = mailclients.new_mail(
        mailclients.address("Zukunftsraum-Assistent", MAIL_FROM),
        address,
        "Ein passender Kontakt für Sie",
        "Passendes Angebot zu Ihrem Gesuch „Bürgerbus“:\n\n„Unser Rufbus-Konzept“ – Templin\n\n"
        "Warum: Mobilität · ländlicher Raum\n\n1. Ja, gern (Antwort: JA)\n"
        "2. Nein, danke (Antwort: NEIN)\n\nAntworten Sie mit JA oder NEIN.",
    )
    return mailclients.parse(raw)


def _mails(addresses: list[str], count: int) -> list[bytes]:
    mails = []
    for i in range(count):
        address = addresses[i % len(addresses)]
        kind = i % 3
        if kind == 0:
            mails.append(mailclients.outlook(_original(address), address, "MEINE"))
        elif kind == 1:
            mails.append(mailclients.gmail(_original(address), address, "Treffer\n\nDanke!"))
        else:
            mails.append(
                mailclients.new_mail(
                    address,
                    MAIL_FROM,
                    "Automatische Antwort: Ein passender Kontakt für Sie",
                    "Ich bin bis zum 14. November nicht im Büro.",
                    Auto_Submitted="auto-replied",
                )
            )
    return mails


async def _ingest(
    pipeline: InboundPipeline, mails: list[bytes], first_uid: int, *, one_by_one: bool = False
) -> dict[str, int]:
    """Feed the mails as the IMAP inbox does: fetched, stored and processed in batches
    (or, for the baseline, each mail in transactions of its own)."""
    statuses: dict[str, int] = {}
    by_uid = dict(enumerate(mails, start=first_uid))
    sizes = [(uid, len(raw)) for uid, raw in by_uid.items()]
    groups = [[uid] for uid, _ in sizes] if one_by_one else batches(sizes)
    for group in groups:
        for _, status in await pipeline.take_many(
            "INBOX", 1, [(uid, by_uid[uid]) for uid in group]
        ):
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


async def _rate(pipeline: InboundPipeline, mails: list[bytes], first_uid: int, **kw) -> float:
    started = time.perf_counter()
    await _ingest(pipeline, mails, first_uid, **kw)
    return len(mails) / (time.perf_counter() - started)


async def throughput(count: int, database: str = "") -> None:
    directory = Path(tempfile.mkdtemp(prefix="zr-bench-"))
    try:
        db, assistant, addresses = await _world(directory, 200, database)
        mails = _mails(addresses, count)
        words = GRAMMAR.words()
        started = time.perf_counter()
        for raw in mails:
            read_mail(raw, mail_from=MAIL_FROM, words=words)
        parse_rate = count / (time.perf_counter() - started)

        pipeline = InboundPipeline(assistant, mail_from=MAIL_FROM)
        started = time.perf_counter()
        statuses = await _ingest(pipeline, mails, first_uid=1)
        rate = count / (time.perf_counter() - started)
        # Baseline: the same mix, one mail per transaction (a quarter of the mails suffices).
        fresh = _mails(addresses, count)[: max(count // 4, 3)]
        single_rate = await _rate(pipeline, fresh, 100 * count, one_by_one=True)
        # Each kind alone (fresh mails, so none is a duplicate), to show what each costs.
        per_kind = []
        for kind in range(3):
            alone = _mails(addresses, count)[kind::3]
            per_kind.append(await _rate(pipeline, alone, (kind + 1) * 10 * count))
        await db.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    where = "PostgreSQL" if database.startswith("postgres") else "SQLite file"
    print(f"ingest throughput ({where}, {count} mails {statuses}):")
    print(f"  full pipeline (store+parse+extract+apply+answer) {rate:6.0f} msg/s  (target >= 500)")
    print(f"    in batches of up to {BATCH_SIZE} mails, as the IMAP inbox fetches them")
    print(f"  baseline: one mail per transaction               {single_rate:6.0f} msg/s")
    print(f"  baseline: parse+extract only                     {parse_rate:6.0f} msg/s")
    print("  each kind alone (in batches):")
    labels = ("Outlook reply MEINE (command)", "Gmail reply Treffer (command)", "auto-reply")
    for label, kind_rate in zip(labels, per_kind, strict=True):
        print(f"    {label:34s}             {kind_rate:6.0f} msg/s")


async def latency(runs: int, *, idle: bool, poll_seconds: float = 5.0) -> list[float]:
    directory = Path(tempfile.mkdtemp(prefix="zr-bench-"))
    root = dovecot_root()
    dovecot = start_dovecot(root)
    sink = SmtpSink().start()
    stop = asyncio.Event()
    try:
        db, assistant, addresses = await _world(directory, 1)
        dispatcher = EmailDispatcher(
            db,
            SmtpTransport("127.0.0.1", sink.port, tls="none"),
            mail_from=MAIL_FROM,
            grammar=GRAMMAR,
            clock=assistant.services.clock,
        )
        pipeline = InboundPipeline(assistant, mail_from=MAIL_FROM, on_answer=dispatcher.wake.set)
        inbox = ImapInbox(
            pipeline,
            host=dovecot.host,
            port=dovecot.port,
            username=dovecot.user,
            password=dovecot.password,
            tls="none",
            idle=idle,
            poll_seconds=poll_seconds,
        )
        tasks = [asyncio.create_task(c.run(stop)) for c in (inbox, dispatcher)]
        while inbox.connections == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        timings = []
        for run in range(runs):
            before = len(sink.messages)
            raw = mailclients.new_mail(addresses[0], MAIL_FROM, "MEINE", f"Lauf {run}")
            started = time.perf_counter()
            await asyncio.to_thread(dovecot.append, raw)
            while len(sink.messages) == before:
                await asyncio.sleep(0.002)
            timings.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        await db.dispose()
        return timings
    finally:
        stop.set()
        sink.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)


def _report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"  {label:34s} n={len(ordered):3d}  p50 {statistics.median(ordered):6.3f} s  "
        f"p95 {p95:6.3f} s  max {ordered[-1]:6.3f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-runs", type=int, default=40)
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument(
        "--database",
        default=os.environ.get("ZR_TEST_DATABASE_URL", ""),
        help="a PostgreSQL URL to measure the throughput there too (its tables are replaced)",
    )
    args = parser.parse_args()
    asyncio.run(throughput(args.messages))
    if args.database.startswith("postgres"):
        asyncio.run(throughput(args.messages, args.database))
    else:
        print("PostgreSQL: skipped (give --database or ZR_TEST_DATABASE_URL)")
    if not shutil.which("dovecot") and not Path("/usr/sbin/dovecot").exists():
        print("latency: skipped – dovecot is not installed (apt-get install dovecot-imapd)")
        return 0
    print("APPEND in Dovecot -> answer in the SMTP server:")
    _report("IDLE (target p95 <= 2 s)", asyncio.run(latency(args.latency_runs, idle=True)))
    polling = asyncio.run(
        latency(max(args.latency_runs // 4, 5), idle=False, poll_seconds=args.poll_seconds)
    )
    _report(f"baseline: polling every {args.poll_seconds:g} s", polling)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
