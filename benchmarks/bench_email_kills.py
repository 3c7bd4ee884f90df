"""Email delivery through kill -9: lost mails, duplicates and the restart, over real SMTP.

``zukunftsraum run`` runs as a separate process with its SMTP dispatcher pointed at a local
aiosmtpd server that records every message it accepts by Message-ID. The outbox holds
``--messages`` mails to members with an email address (queued through
``core.messaging.outbox``, as a
newsletter is). The process is killed with -9 when 30 % and when 70 % of them have arrived
(plus a seeded 0-19, so that a kill can land inside one of the dispatcher's batches of 20)
and is started again at once, until every mail is sent.

Printed: mails lost (never arrived), duplicates (a Message-ID received twice), at each kill
the mails in flight (leased by the killed process and not recorded as sent) and how many of
them had already arrived, restart -> first mail received, and throughput. The run fails
(exit 1) when a mail is lost or there are more duplicates than mails were in flight.

Usage: python benchmarks/bench_email_kills.py [--messages 2000] [--members 2000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.service_kills import (
    TOWNS,
    kill_during_delivery,
    leases_taken_back,
    print_kills,
    queue_broadcast,
    setup_database,
    sustained_rate,
    until_all_final,
)
from core.kernel.clock import system_clock
from core.members.accounts import NewMember, add_member
from core.store.models import OutboxMessage
from core.store.unit_of_work import Database
from tests.support.mailservers import SmtpSink
from tests.support.service import ServiceUnderTest

MAIL_FROM = "Zukunftsraum Assistent <assistent@zukunftsraum.example>"
BATCH = 20  # the email dispatcher's batch: each kill lands at a seeded point inside one
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]+)>", re.IGNORECASE | re.MULTILINE)


class MailReceived:
    """What the SMTP server accepted, by Message-ID (the ``Receiver`` of service_kills)."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.cursor = 0
        self.copies: Counter[str] = Counter()
        self.arrivals: list[float] = []  # monotonic, one per accepted message

    def update(self) -> int:
        received = self.sink.handler.messages  # appended to by the server's thread
        end = len(received)
        for mail in received[self.cursor : end]:
            head = mail.data.split(b"\r\n\r\n", 1)[0]
            found = _MESSAGE_ID.search(head)
            self.copies[found.group(1).decode() if found else "(none)"] += 1
            self.arrivals.append(mail.at)
        self.cursor = end
        return len(self.copies)

    def has(self, row: OutboxMessage) -> bool:
        return self.copies[(row.meta or {}).get("message_id", "")] > 0

    def mark(self) -> int:
        return len(self.sink.handler.messages)

    def first_after(self, mark: int) -> float | None:
        received = self.sink.handler.messages
        return received[mark].at if len(received) > mark else None


async def add_email_members(db: Database, count: int) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for number in range(count):
            new = NewMember(
                f"Person {number}",
                "volunteer",
                TOWNS[number % len(TOWNS)],
                email=f"person{number}@gemeinde{number % 40}.example",
                consent=True,
            )
            ids.append((await add_member(uow, new, system_clock())).id)
        await uow.commit()
    return ids


def service_env(url: str, sink: SmtpSink, workdir: Path) -> dict[str, str]:
    return {
        "ZR_DATABASE_URL": url,
        "ZR_SMTP_HOST": "127.0.0.1",
        "ZR_SMTP_PORT": str(sink.port),
        "ZR_SMTP_TLS": "none",
        "ZR_MAIL_FROM": MAIL_FROM,
        "ZR_MAIL_DIR": str(workdir / "mail"),  # the inbox: nothing arrives there
    }


async def run(workdir: Path, messages: int, members: int) -> bool:
    db = await setup_database(workdir / "email-kills.db")
    url = db.engine.url.render_as_string(hide_password=False)
    member_ids = await add_email_members(db, members)
    await queue_broadcast(db, member_ids, messages, subject="Neues aus dem Netzwerk")
    sink = SmtpSink().start()
    try:
        received = MailReceived(sink)
        service = ServiceUnderTest(workdir, service_env(url, sink, workdir))
        started = time.monotonic()
        await service.start()
        kills = await kill_during_delivery(service, db, received, messages, jitter=BATCH - 1)
        rows = await until_all_final(db, received)
        elapsed = time.monotonic() - started
        await service.stop()
        received.update()
    finally:
        sink.stop()
    await db.dispose()

    ours = {(m.meta or {}).get("message_id") for m in rows if m.kind == "bench"}
    lost = sum(1 for message_id in ours if received.copies[message_id] == 0)
    duplicates = sum(n - 1 for message_id, n in received.copies.items() if message_id in ours)
    in_flight = sum(k.held for k in kills)
    unrecorded = sum(k.unrecorded for k in kills)
    others = sum(n for message_id, n in received.copies.items() if message_id not in ours)
    sustained, overall = sustained_rate(received.arrivals, kills)
    print(
        f"Email kills: {messages} mails to {members} members over SMTP (aiosmtpd), "
        f"zukunftsraum run killed with -9 at 30 % and 70 %, {elapsed:.0f} s:"
    )
    print(
        f"  lost: {lost}; duplicates (same Message-ID received twice): {duplicates}; "
        f"in flight at the kills: {in_flight} (delivered but not recorded: {unrecorded}); "
        f"other mails received: {others}"
    )
    print_kills(kills)
    taken_back = leases_taken_back(service)
    print(f"  leases taken back at restart (from the service's output): {taken_back}")
    outputs = [service.output(start) for start in range(1, service.starts + 1)]
    handed = [
        int(n) for text in outputs for n in re.findall(r"(\d+) claimed messages handed", text)
    ]
    errors = sum(text.count("email dispatcher:") for text in outputs) - len(handed)
    print(
        f"  claimed mails handed back unsent by a live process (stale heartbeat, or an error "
        f"while recording): {handed or 'none'}; other dispatcher errors: {errors}"
    )
    print(
        f"  counted as unconfirmed: {sum(m.unconfirmed for m in rows)}; "
        f"outbox: {dict(Counter(m.status for m in rows))}"
    )
    print(
        f"  throughput {sustained:.1f} mails/s while a process ran "
        f"(overall {overall:.1f}/s with the restarts)"
    )
    ok = lost == 0 and duplicates <= in_flight
    print(
        f"  check: lost 0 and duplicates {duplicates} <= in flight {in_flight}: "
        f"{'ok' if ok else 'FAILED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="400 mails to 400 members")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.members = 400, 400
    os.environ.pop("ZR_TEST_DATABASE_URL", None)  # a SQLite file, as the service uses
    with tempfile.TemporaryDirectory() as tmp:
        ok = asyncio.run(run(Path(tmp), args.messages, args.members))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
