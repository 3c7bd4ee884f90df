"""The email channel against real servers: Dovecot (IMAP, started here) and aiosmtpd (SMTP).

Members write by appending mails to the assistant's Dovecot inbox, exactly where their mail
server would deliver them; the assistant's answers arrive in the SMTP server. The inbox
watcher and the dispatcher run as they do in ``zukunftsraum run``.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.utils import parseaddr

import pytest
from sqlalchemy import select

from core.kernel.replies import Reply
from core.messaging.outbox import enqueue
from core.store.models import InboundMail, OutboxMessage, Post
from mail.inbox import DONE_KEYWORD, ImapInbox
from mail.outgoing import SmtpTransport
from tests.conftest import database_url, prepared_database
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import parse, plain_text
from tests.support.mailservers import SmtpSink, start_dovecot
from tests.support.waiting import eventually

ANNA = "anna.schmidt@prenzlau.example"
BEA = "bea.berg@templin.example"
CARLA = "carla.neumann@goerlitz.example"
DEADLINE = 30.0  # seconds to wait for something that normally takes milliseconds


@pytest.fixture
async def db(test_municipalities, tmp_path):
    """The inbox and the dispatcher run concurrently, each with its own transactions.

    An in-memory SQLite database has only one connection, which concurrent transactions
    would share; on SQLite these tests use a file, as ``zukunftsraum run`` does.
    """
    url = database_url()
    if url.startswith("sqlite") and url.rstrip("/").endswith(":"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'zukunftsraum.db'}"
    async with prepared_database(url, test_municipalities) as database:
        yield database


@pytest.fixture
def world(db, assistant, clock, tmp_path, smtp):
    transport = SmtpTransport("127.0.0.1", smtp.port, tls="none")
    world = MailWorld(db, assistant, clock, tmp_path, transport=transport)
    world.pipeline.on_answer = world.dispatcher.wake.set
    return world


def imap_inbox(world, dovecot, **options) -> ImapInbox:
    return ImapInbox(
        world.pipeline,
        host=dovecot.host,
        port=dovecot.port,
        username=dovecot.user,
        password=dovecot.password,
        tls="none",
        **{"idle_renew_seconds": 2, **options},  # see IDLE_RENEW_SECONDS
    )


@contextlib.asynccontextmanager
async def running(*components):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in components]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def mail_to(smtp: SmtpSink, address: str, start: int = 0):
    return [
        parse(m.data) for m in smtp.messages[start:] if address in [r.lower() for r in m.recipients]
    ]


def proposals(mails):
    return [m for m in mails if "JA oder NEIN" in plain_text(m)]


async def test_post_by_mail_then_yes_from_gmail_outlook_and_apple(world, dovecot, smtp):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.member("Carla Neumann", CARLA, ags="14626110")
    await world.say(BEA, "/suche Bürgerbus für Senioren im ländlichen Raum")
    await world.say(CARLA, "/suche Bürgerbus für Senioren im ländlichen Raum")
    inbox = imap_inbox(world, dovecot)
    async with running(inbox, world.dispatcher):
        dovecot.append(
            mailclients.new_mail(
                mailclients.address("Anna Schmidt", ANNA),
                MAIL_FROM,
                "Biete: Unser Bürgerbus-Konzept für Senioren im ländlichen Raum",
                "Seit 2019 fahren bei uns Ehrenamtliche.\n\nViele Grüße\nAnna Schmidt",
            )
        )
        # One answer to one mail: the post and both proposals, numbered.
        (to_anna,) = await eventually(lambda: mail_to(smtp, ANNA), DEADLINE, "Anna's answer")
        bea_proposal = (
            await eventually(lambda: proposals(mail_to(smtp, BEA)), DEADLINE, "Bea's proposal")
        )[0]
        carla_proposal = (
            await eventually(lambda: proposals(mail_to(smtp, CARLA)), DEADLINE, "Carla's")
        )[0]
        text = plain_text(to_anna)
        assert "Bürgerbus" in text and "„1 JA“" in text and "„2 JA“" in text

        for number in (1, 2):
            dovecot.append(mailclients.gmail(to_anna, ANNA, f"{number} JA"))
        await eventually(
            lambda: (
                sum("Sobald die andere Seite" in plain_text(m) for m in mail_to(smtp, ANNA)) == 2
            ),
            DEADLINE,
            "Anna's two confirmations",
        )
        dovecot.append(mailclients.outlook(bea_proposal, BEA, "Ja, gerne!"))
        dovecot.append(mailclients.apple(carla_proposal, CARLA, "JA"))

        def introduced(address: str, other: str) -> bool:
            return any(
                "verbunden" in plain_text(m) and other in plain_text(m)
                for m in mail_to(smtp, address)
            )

        await eventually(lambda: introduced(BEA, ANNA), DEADLINE, "Bea's introduction")
        await eventually(lambda: introduced(CARLA, ANNA), DEADLINE, "Carla's introduction")
        await eventually(
            lambda: introduced(ANNA, BEA) and introduced(ANNA, CARLA), DEADLINE, "Anna's two"
        )

    flags = dovecot.flags()
    assert len(flags) == 5 and all(DONE_KEYWORD.encode() in f for f in flags.values())
    async with world.db.uow() as uow:
        matches = await uow.matches.all()
        assert sorted(m.status for m in matches) == ["accepted", "accepted"]
    # One thread: every answer refers to the mail it answers.
    bea_intro = next(m for m in mail_to(smtp, BEA) if "verbunden" in plain_text(m))
    assert bea_intro["Auto-Submitted"] == "auto-replied" and bea_intro["In-Reply-To"]
    assert bea_proposal["Message-ID"] in str(bea_intro["References"])


def _bounce_for(address: str, to: str = MAIL_FROM) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.templin.example>\r\n"
        f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.templin.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.templin.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: User unknown\r\n--b--\r\n"
    ).encode()


async def test_robots_wrong_senders_and_duplicates(world, dovecot, smtp, db):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    async with db.uow() as uow:
        anna = await uow.members.by_email(ANNA)
        enqueue(uow, anna, Reply("Hallo Anna", ref="post:1"), kind="test", now=world.clock())
        bea = await uow.members.by_email(BEA)
        enqueue(uow, bea, Reply("Hallo Bea"), kind="test", now=world.clock())
        await uow.commit()
    inbox = imap_inbox(world, dovecot)
    async with running(inbox, world.dispatcher):
        (to_anna,) = await eventually(lambda: mail_to(smtp, ANNA), DEADLINE, "the mail to Anna")
        await eventually(lambda: mail_to(smtp, BEA), DEADLINE, "the mail to Bea")
        # Each mail has its own envelope sender (VERP); Bea's bounce comes back to hers.
        envelope = next(m.sender for m in smtp.messages if BEA in m.recipients)
        assert envelope.startswith("assistent+b-") and envelope.endswith("@zukunftsraum.example")
        start = len(smtp.messages)
        post = mailclients.new_mail(ANNA, MAIL_FROM, "SUCHE Ideen für Dorfläden", "")
        for raw in (
            mailclients.gmail(to_anna, "mallory@elsewhere.example", "Ja"),
            mailclients.gmail(to_anna, "mallory@elsewhere.example", "Ja!!"),
            mailclients.new_mail(
                BEA,
                MAIL_FROM,
                "Automatische Antwort: Hallo",
                "Ich bin im Urlaub.",
                Auto_Submitted="auto-replied",
            ),
            _bounce_for(BEA, envelope),
            _bounce_for(BEA).replace(b"bounce-1@", b"forged-1@"),  # to the plain address
            # Anna's address where lenient parsers look, Mallory's where the standard is.
            mailclients.gmail(to_anna, f"{ANNA} <mallory@elsewhere.example>", "Ja"),
            mailclients.new_mail(MAIL_FROM.upper(), MAIL_FROM, "HILFE", ""),  # ourselves
            post,
            post,
        ):
            dovecot.append(raw)
        await eventually(
            lambda: (
                all(DONE_KEYWORD.encode() in f for f in dovecot.flags().values())
                and len(dovecot.flags()) == 9
            ),
            DEADLINE,
            "all nine mails flagged",
        )
        await eventually(lambda: len(smtp.messages) - start == 2, DEADLINE, "two answers")
        await asyncio.sleep(0.3)  # nothing else may follow
    answers = smtp.messages[start:]
    assert sorted(parseaddr(a.recipients[0])[1] for a in answers) == sorted(
        [ANNA, "mallory@elsewhere.example"]
    )
    async with db.uow() as uow:
        statuses = list(await uow.session.scalars(select(InboundMail.status)))
        expected = ["rejected", "rejected", "ignored", "bounce", "bounce", "ignored", "ignored"]
        assert sorted(statuses) == sorted([*expected, "done", "duplicate"])
        assert (await uow.members.by_email(BEA)).email_hard_bounces == 1
        assert len((await uow.session.scalars(select(Post))).all()) == 1


async def test_server_flag_only_after_the_mail_is_committed(world, dovecot, db):
    await world.member("Anna Schmidt", ANNA)
    dovecot.append(mailclients.new_mail(ANNA, MAIL_FROM, "SUCHE Ideen für Dorfläden", ""))
    inbox = imap_inbox(world, dovecot)
    client, uidvalidity, keywords = await asyncio.to_thread(inbox._connect)
    try:
        async with db.engine.begin() as conn:  # the database cannot store the mail
            await conn.run_sync(InboundMail.__table__.drop)
        with pytest.raises(Exception):  # noqa: B017 - any database error will do
            await inbox.sync(client, uidvalidity, keywords)
        assert list(dovecot.flags().values()) == [()]  # still unread, not lost
        async with db.engine.begin() as conn:
            await conn.run_sync(InboundMail.__table__.create)
        assert await inbox.sync(client, uidvalidity, keywords) == 1
    finally:
        await asyncio.to_thread(client.logout)
    (flags,) = dovecot.flags().values()
    assert DONE_KEYWORD.encode() in flags and b"\\Seen" in flags
    async with db.uow() as uow:
        assert len((await uow.session.scalars(select(Post))).all()) == 1


async def test_polling_fallback_without_idle(world, dovecot, smtp):
    await world.member("Anna Schmidt", ANNA)
    inbox = imap_inbox(world, dovecot, idle=False, poll_seconds=0.2)
    async with running(inbox, world.dispatcher):
        dovecot.append(mailclients.new_mail(ANNA, MAIL_FROM, "MEINE", ""))
        (answer,) = await eventually(lambda: mail_to(smtp, ANNA), DEADLINE, "the answer")
    assert "noch keine" in plain_text(answer) or "keine" in plain_text(answer).lower()


async def test_imap_reconnects_after_a_server_restart(world, dovecot, smtp, tmp_path):
    await world.member("Anna Schmidt", ANNA)
    inbox = imap_inbox(world, dovecot)
    async with running(inbox, world.dispatcher):
        await eventually(lambda: inbox.connections == 1, DEADLINE, "the first connection")
        dovecot.stop()
        restarted = start_dovecot(dovecot.root, port=dovecot.port)
        try:
            restarted.append(mailclients.new_mail(ANNA, MAIL_FROM, "HILFE", ""))
            await eventually(lambda: mail_to(smtp, ANNA), DEADLINE, "the answer after the restart")
        finally:
            restarted.stop()
    assert inbox.connections >= 2


async def test_one_smtp_connection_permanent_refusal_and_reconnect(world, smtp, db):
    for index, name in enumerate(("Anna Schmidt", "Bea Berg", "Carla Neumann")):
        await world.member(name, (ANNA, BEA, CARLA)[index])
    smtp.handler.refused.add(CARLA)
    async with db.uow() as uow:
        for address in (ANNA, BEA, CARLA):
            member = await uow.members.by_email(address)
            enqueue(uow, member, Reply(f"Hallo {member.name}"), kind="test", now=world.clock())
        await uow.commit()
    assert await world.dispatcher.drain() == 3
    assert len(smtp.messages) == 2 and world.transport.connections == 1
    async with db.uow() as uow:
        carla = await uow.members.by_email(CARLA)
        assert carla.email_suspended_at is not None  # mark_unreachable
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        # No other channel: left for the staff digest to name.
        assert [r.status for r in rows] == ["sent", "sent", "unrouted"]
        assert rows[2].last_error.startswith("550")
    smtp.restart()  # the server drops the connection the dispatcher keeps open
    async with db.uow() as uow:
        anna = await uow.members.by_email(ANNA)
        enqueue(uow, anna, Reply("Noch einmal hallo"), kind="test", now=world.clock())
        await uow.commit()
    assert await world.dispatcher.drain() == 1
    assert len(smtp.messages) == 3 and world.transport.connections == 2
    await world.transport.close()
