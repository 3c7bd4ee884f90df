"""Two ``zukunftsraum run`` processes on one PostgreSQL database, with the local Bot API
server, a real Dovecot and an SMTP sink; the one holding the polling and intake roles is
killed with -9 halfway. Shared by tests/telegram/test_scale_out.py (small) and
benchmarks/bench_scale_out.py (the full 2,000 messages and 200 mails).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path

import httpx
from sqlalchemy import func, select

from core.kernel.clock import system_clock
from core.kernel.replies import Reply
from core.messaging.outbox import enqueue
from core.store.models import InboundMail, Match, OutboxMessage, Post, ServiceProcess
from core.store.unit_of_work import Database
from tests.support.mailservers import free_port
from tests.support.service import ServiceUnderTest
from tests.telegram.helpers import add_telegram_member

TOWNS = ("12073452", "12073572")
POLLING = "telegram-polling"
OFFER = "Bürgerbus für ältere Menschen im ländlichen Raum: wir teilen unsere Erfahrungen"
REQUEST = "Wir suchen Erfahrungen mit einem Bürgerbus für Seniorinnen und Senioren"


@dataclass
class Outcome:
    messages: int
    mails: int
    delivered: Counter = field(default_factory=Counter)  # broadcast text -> copies at the server
    held_at_kill: int = 0  # broadcast messages leased to the killed process when it died
    unconfirmed: int = 0
    outbox_status: Counter = field(default_factory=Counter)
    inbound_rows: int = 0
    inbound_distinct: int = 0
    inbound_status: Counter = field(default_factory=Counter)
    answers: Counter = field(default_factory=Counter)  # stranger -> answers received by SMTP
    strangers: set[str] = field(default_factory=set)
    takeover_seconds: float = 0.0
    roles_before: dict[str, list[str]] = field(default_factory=dict)
    roles_after: list[str] = field(default_factory=list)
    offer_by: str = ""  # the process holding the polling role when the offer was posted
    request_by: str = ""
    matched: bool = False
    elapsed: float = 0.0
    broadcast_seconds: float = 0.0
    logs: dict[str, str] = field(default_factory=dict)
    metrics: str = ""

    @property
    def lost(self) -> int:
        return self.messages - len(self.delivered)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.delivered.values())


def service_settings(url: str, tg, dovecot, smtp, workdir: Path, port: int) -> dict[str, str]:
    return {
        "ZR_DATABASE_URL": url,
        "ZR_TELEGRAM_TOKEN": tg.token,
        "ZR_TELEGRAM_BASE_URL": tg.base_url,
        "ZR_IMAP_HOST": dovecot.host,
        "ZR_IMAP_PORT": str(dovecot.port),
        "ZR_IMAP_USERNAME": dovecot.user,
        "ZR_IMAP_PASSWORD": dovecot.password,
        "ZR_IMAP_TLS": "none",
        "ZR_SMTP_HOST": "127.0.0.1",
        "ZR_SMTP_PORT": str(smtp.port),
        "ZR_SMTP_TLS": "none",
        "ZR_MAIL_DIR": str(workdir / "mail"),
        "ZR_HTTP_PORT": str(port),
        "ZR_HTTP_LISTEN": "127.0.0.1",
    }


def stranger_mail(number: int) -> tuple[str, bytes]:
    sender = f"person{number}@gemeinde{number % 9}.example"
    raw = (
        f"From: Person {number} <{sender}>\r\nTo: assistent@zukunftsraum.localhost\r\n"
        f"Subject: HILFE\r\nMessage-ID: <scale-{number}@gemeinde.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nGuten Tag, was kann der Assistent?\r\n"
    ).encode()
    return sender, raw


async def _members(db: Database, tg, count: int, first_chat: int) -> list[int]:
    ids = []
    for number in range(count):
        chat = first_chat + number
        tg.add_user(chat, first_name=f"Person {number}")
        member = await add_telegram_member(db, f"Person {chat}", TOWNS[number % 2], chat)
        ids.append(member.id)
    return ids


async def _queue(db: Database, member_ids: list[int], messages: int) -> None:
    for start in range(0, messages, 1000):
        async with db.uow() as uow:
            members = {m: await uow.members.get(m) for m in member_ids}
            for number in range(start, min(start + 1000, messages)):
                member = members[member_ids[number % len(member_ids)]]
                enqueue(uow, member, Reply(f"Rundbrief {number}"), kind="test", now=system_clock())
            await uow.commit()


async def _scalar(db: Database, stmt):
    async with db.uow() as uow:
        return await uow.session.scalar(stmt)


async def _health(http: httpx.AsyncClient, port: int) -> dict | None:
    try:
        response = await http.get(f"http://127.0.0.1:{port}/healthz")
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


async def _until(probe, what: str, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := await probe():
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"waited {seconds:g} s in vain for {what}")


def _holds_singletons(health: dict | None) -> bool:
    roles = set(health["roles"]) if health else set()
    return POLLING in roles and any(r.startswith("imap:") for r in roles)


async def run(
    db: Database, tg, dovecot, smtp, workdir: Path, messages: int, mails: int, chats: int
) -> Outcome:
    """The scenario; returns what it saw. Raises AssertionError when a step never happens."""
    outcome = Outcome(messages, mails)
    url = db.engine.url.render_as_string(hide_password=False)
    member_ids = await _members(db, tg, chats, 10_000_000)
    poster_a, poster_b = 900_000, 900_001
    await _members(db, tg, 2, poster_a)  # in the two towns
    await _queue(db, member_ids, messages)
    strangers = [stranger_mail(n) for n in range(mails)]
    outcome.strangers = {sender for sender, _ in strangers}
    first_half = mails // 2
    await asyncio.to_thread(lambda: [dovecot.append(raw) for _, raw in strangers[:first_half]])

    ports = {"a": free_port(), "b": free_port()}
    services = {}
    for name, port in ports.items():
        (workdir / name).mkdir(parents=True, exist_ok=True)
        env = service_settings(url, tg, dovecot, smtp, workdir / name, port)
        services[name] = ServiceUnderTest(workdir / name, env)
    started = time.monotonic()
    broadcast = {f"Rundbrief {n}" for n in range(messages)}

    def delivered() -> Counter:
        return Counter(m.text for m in tg.sent_messages() if m.text in broadcast)

    async with httpx.AsyncClient(timeout=5) as http:
        try:
            await services["a"].start()
            health_a = await _until(
                lambda: _health_if(http, ports["a"], _holds_singletons), "a holding roles", 120
            )
            await services["b"].start()
            health_b = await _until(lambda: _health(http, ports["b"]), "b healthy", 120)
            outcome.roles_before = {"a": health_a["roles"], "b": health_b["roles"]}
            outcome.offer_by = "a"  # only the poller receives the update
            tg.user_sends_command(poster_a, "biete", OFFER)
            await _until(
                lambda: _scalar(db, select(func.count()).select_from(Post)), "the offer", 60
            )
            # Halfway: part of the broadcast and of the mails done, by both processes.
            await _until(
                _ready_to_kill(db, delivered, messages, first_half), "a third delivered", 600
            )
            processes = await _scalar(
                db, select(ServiceProcess.id).where(ServiceProcess.pid == services["a"].process.pid)
            )
            await services["a"].kill()
            killed_at = time.monotonic()
            async with db.uow() as uow:
                outcome.held_at_kill = await uow.session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by == processes)
                )
            await asyncio.to_thread(
                lambda: [dovecot.append(raw) for _, raw in strangers[first_half:]]
            )
            health_b = await _until(
                lambda: _health_if(http, ports["b"], _holds_singletons), "b taking over", 120
            )
            outcome.takeover_seconds = time.monotonic() - killed_at
            outcome.roles_after = health_b["roles"]
            outcome.request_by = "b"
            tg.user_sends_command(poster_b, "suche", REQUEST)
            outcome.matched = await _until(
                lambda: _offer_matched(db, poster_a, poster_b), "the request matched", 90
            )
            await _until(_all_done(db, mails), "every message and mail final", 900)
            await _until(
                lambda: _answered(smtp, outcome.strangers), "an answer to every stranger", 120
            )
            outcome.broadcast_seconds = time.monotonic() - started
            outcome.metrics = (await http.get(f"http://127.0.0.1:{ports['b']}/metrics")).text
        finally:
            for service in services.values():
                await service.stop()
    outcome.elapsed = time.monotonic() - started
    outcome.logs = {name: s.output() for name, s in services.items()}
    outcome.delivered = delivered()
    async with db.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage))).all()
        outcome.outbox_status = Counter(m.status for m in rows)
        outcome.unconfirmed = sum(m.unconfirmed for m in rows)
        inbound = (await uow.session.scalars(select(InboundMail))).all()
    outcome.inbound_rows = len(inbound)
    outcome.inbound_distinct = len({(m.folder, m.uidvalidity, m.uid) for m in inbound})
    outcome.inbound_status = Counter(m.status for m in inbound)
    outcome.answers = Counter(
        parseaddr(message_from_bytes(m.data)["To"])[1]
        for m in smtp.messages
        if parseaddr(message_from_bytes(m.data)["To"])[1] in outcome.strangers
    )
    return outcome


async def _health_if(http, port, condition):
    health = await _health(http, port)
    return health if condition(health) else None


def _ready_to_kill(db, delivered, messages, mails):
    async def probe():
        if len(delivered()) < messages // 3:
            return False
        done = await _scalar(
            db,
            select(func.count()).select_from(InboundMail).where(InboundMail.status != "new"),
        )
        return done >= mails // 3

    return probe


async def _offer_matched(db, offering_chat: int, requesting_chat: int) -> bool:
    """A match between the offer of the one poster and the request of the other."""
    async with db.uow() as uow:
        author = {
            p.id: (await uow.members.get(p.author_id)).telegram_chat_id
            for p in (await uow.session.scalars(select(Post))).all()
        }
        matches = (await uow.session.scalars(select(Match))).all()
    return any(
        author.get(m.offer_id) == offering_chat and author.get(m.request_id) == requesting_chat
        for m in matches
    )


def _all_done(db, mails):
    async def probe():
        async with db.uow() as uow:
            open_ = await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
            stored = await uow.session.scalar(select(func.count()).select_from(InboundMail))
            new = await uow.session.scalar(
                select(func.count()).select_from(InboundMail).where(InboundMail.status == "new")
            )
        return open_ == 0 and stored >= mails and new == 0

    return probe


async def _answered(smtp, strangers) -> bool:
    answered = {parseaddr(message_from_bytes(m.data)["To"])[1] for m in smtp.messages}
    return strangers <= answered
