"""The email channel end to end in its embedded mode: Maildir in, Maildir out.

Mails go through the real pipeline (parse, extract, core use case, outbox, dispatcher,
templates); only the transport is files instead of servers (see test_email_servers.py).
"""

from __future__ import annotations

from email.policy import SMTP
from email.utils import parseaddr

import pytest
from sqlalchemy import select

from core.kernel.replies import Reply
from core.messaging import outbox
from core.store.models import InboundMail, Member, OutboxMessage, Post
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

ANNA = "anna.schmidt@prenzlau.example"
BEA = "bea.berg@templin.example"


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def _statuses(db) -> list[str]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(InboundMail.status).order_by(InboundMail.id)))


def _proposal(mails):
    return next(m for m in mails if "JA oder NEIN" in plain_text(m))


async def test_post_by_mail_proposal_and_yes_introduce_both(world):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.say(BEA, "/suche Wir suchen ein Bürgerbus-Konzept für Senioren im ländlichen Raum")

    world.drop(
        mailclients.new_mail(
            mailclients.address("Anna Schmidt", ANNA),
            MAIL_FROM,
            "BIETE Unser Bürgerbus-Konzept für Senioren im ländlichen Raum",
            "Wir fahren seit 2019 mit ehrenamtlichen Fahrerinnen und Fahrern.\n\n"
            "Viele Grüße\nAnna Schmidt",
        )
    )
    await world.round()
    to_anna = world.new_mail_for(ANNA)
    assert "Angebot" in plain_text(to_anna[0]) and "Bürgerbus" in plain_text(to_anna[0])
    anna_proposal = _proposal(to_anna)
    assert anna_proposal["Auto-Submitted"] == "auto-replied"
    assert anna_proposal["In-Reply-To"]  # answers Anna's mail, in her thread
    bea_proposal = _proposal(world.new_mail_for(BEA))
    assert bea_proposal["Auto-Submitted"] == "auto-generated"
    assert "+" in str(bea_proposal["From"]) and "ABBESTELLEN" in str(
        bea_proposal["List-Unsubscribe"]
    )
    assert bea_proposal.get_body(preferencelist=("html",)) is not None

    world.drop(mailclients.gmail(anna_proposal, ANNA, "Ja"))
    await world.round()
    assert "Sobald die andere Seite" in plain_text(world.new_mail_for(ANNA)[0])

    world.drop(mailclients.outlook(bea_proposal, BEA, "Ja, gerne!"))
    await world.round()
    to_bea = world.new_mail_for(BEA)
    to_anna = world.new_mail_for(ANNA)
    assert "verbunden" in plain_text(to_bea[0]) and ANNA in plain_text(to_bea[0])
    assert "verbunden" in plain_text(to_anna[0]) and BEA in plain_text(to_anna[0])
    assert to_bea[0]["In-Reply-To"].strip("<>") in str(to_bea[0]["References"])
    assert await _statuses(world.db) == ["done", "done", "done"]
    # Maildir: processed mails moved from new/ to cur/ with the seen flag.
    assert not list((world.directory / "inbox" / "new").iterdir())
    assert all(p.name.endswith(":2,S") for p in (world.directory / "inbox" / "cur").iterdir())


@pytest.mark.parametrize(
    "client",
    [mailclients.gmail, mailclients.outlook, mailclients.apple, "outlook_classic"],
)
async def test_no_from_every_client_declines(world, client):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(BEA, "/suche Erfahrungen mit Bürgerbus und Mobilität für Senioren")
    await world.dispatcher.drain()
    proposal = _proposal(world.new_mail_for(ANNA))
    if client == "outlook_classic":
        raw = mailclients.outlook(proposal, ANNA, "Nein danke", classic=True)
    else:
        raw = client(proposal, ANNA, "Nein danke")
    world.drop(raw)
    await world.round()
    assert "nicht wieder vor" in plain_text(world.new_mail_for(ANNA)[0])


async def test_number_picks_the_numbered_choice(world):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(BEA, "/suche Erfahrungen mit Bürgerbus und Mobilität für Senioren")
    await world.dispatcher.drain()
    proposal = _proposal(world.new_mail_for(ANNA))
    assert "1. Ja, gern (Antwort: JA)" in plain_text(proposal)
    world.drop(mailclients.apple(proposal, ANNA, "1"))
    await world.round()
    assert "Sobald die andere Seite" in plain_text(world.new_mail_for(ANNA)[0])


async def test_sender_other_than_token_owner_gets_one_rejection(world, db):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(BEA, "/suche Erfahrungen mit Bürgerbus und Mobilität für Senioren")
    await world.dispatcher.drain()
    proposal = _proposal(world.new_mail_for(ANNA))
    intruder = "mallory@elsewhere.example"
    world.drop(mailclients.gmail(proposal, intruder, "Ja"))
    world.drop(mailclients.gmail(proposal, intruder, "Ja bitte"))
    await world.round()
    replies = world.new_mail_for(intruder)
    assert len(replies) == 1 and "nicht zuordnen" in plain_text(replies[0])
    assert await _statuses(db) == ["rejected", "rejected"]
    async with db.uow() as uow:
        assert all(m.offer_answer is None for m in await uow.matches.all())


async def test_automatic_mail_is_never_answered(world, db):
    await world.member("Anna Schmidt", ANNA)
    for headers, subject in (
        ({"Auto-Submitted": "auto-replied"}, "Re: Ein passender Kontakt"),
        ({"Precedence": "bulk"}, "Newsletter"),
        ({}, "Abwesenheitsnotiz: Ein passender Kontakt für Sie"),
        ({}, "Automatische Antwort: Ein passender Kontakt für Sie"),
    ):
        world.drop(
            mailclients.new_mail(ANNA, MAIL_FROM, subject, "Ich bin bis Montag weg.", **headers)
        )
    world.drop(mailclients.new_mail("MAILER-DAEMON@mx.example", MAIL_FROM, "Hallo", "x"))
    await world.round()
    assert world.sent() == []
    assert await _statuses(db) == ["ignored"] * 5


def _bounce(failed: str, status: str = "5.1.1", to: str = MAIL_FROM) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.templin.example>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"Message-ID: <bounce-{failed}-{status}-{{n}}@mx.templin.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.templin.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{failed}>: Recipient address rejected: "
        "User unknown\r\n--b1--\r\n"
    ).encode()


async def _envelope_senders(world, member, count: int) -> list[str]:
    """Send ``count`` mails to ``member``; the envelope sender (VERP address) of each."""
    async with world.db.uow() as uow:
        for n in range(count):
            outbox.enqueue(uow, member, Reply(f"Nachricht {n}"), kind="test", now=world.clock())
        await uow.commit()
    await world.dispatcher.drain()
    return [parseaddr(str(m["Return-Path"]))[1] for m in world.new_mail_for(member.email)]


async def test_hard_bounces_count_and_suspend_soft_ones_only_log(world, db):
    bea = await world.member("Bea Berg", BEA, ags="12073572")
    verp = await _envelope_senders(world, bea, 4)
    assert all(v.startswith("assistent+b-") and v != verp[0] for v in verp[1:])
    for n in range(2):
        world.drop(_bounce(BEA, to=verp[n]).replace(b"{n}", str(n).encode()))
    world.drop(_bounce(BEA, "4.2.2", to=verp[2]).replace(b"{n}", b"soft"))
    await world.round()
    async with db.uow() as uow:
        bea = await uow.members.by_email(BEA)
        assert (bea.email_hard_bounces, bea.email_suspended_at) == (2, None)
    world.drop(_bounce(BEA, to=verp[3]).replace(b"{n}", b"3"))
    await world.round()
    async with db.uow() as uow:
        bea = await uow.members.by_email(BEA)
        assert bea.email_hard_bounces == 3 and bea.email_suspended_at is not None
    assert world.new_mail_for(BEA) == []
    assert await _statuses(db) == ["bounce"] * 4


async def test_forged_bounces_to_the_plain_address_change_nothing(world, db):
    bea = await world.member("Bea Berg", BEA, ags="12073572")
    anna = await world.member("Anna Schmidt", ANNA)
    (to_bea,) = await _envelope_senders(world, bea, 1)
    (to_anna,) = await _envelope_senders(world, anna, 1)
    for n in range(5):  # five forged reports to the plain address, naming Bea
        world.drop(_bounce(BEA).replace(b"{n}", f"plain{n}".encode()))
    # Anna's envelope sender naming Bea: a report that address was not issued for.
    world.drop(_bounce(BEA, to=to_anna).replace(b"{n}", b"other"))
    # A guessed token with the right form.
    world.drop(
        _bounce(BEA, to="assistent+b-" + "A" * 22 + "@zukunftsraum.example").replace(b"{n}", b"g")
    )
    await world.round()
    async with db.uow() as uow:
        assert (await uow.members.by_email(BEA)).email_hard_bounces == 0
        reasons = list(
            await uow.session.scalars(select(InboundMail.error).order_by(InboundMail.id))
        )
    assert reasons == ["bounce not through VERP"] * 5 + [
        "bounce names another recipient",
        "bounce token unknown",
    ]
    # One report through Bea's own envelope sender counts, and only once.
    world.drop(_bounce(BEA, to=to_bea).replace(b"{n}", b"real"))
    world.drop(_bounce(BEA, to=to_bea).replace(b"{n}", b"again"))
    await world.round()
    async with db.uow() as uow:
        assert (await uow.members.by_email(BEA)).email_hard_bounces == 1
    assert world.sent_files() and world.new_mail_for(BEA) == []


async def test_same_mail_twice_is_processed_once(world, db):
    await world.member("Anna Schmidt", ANNA)
    raw = mailclients.new_mail(ANNA, MAIL_FROM, "SUCHE Ideen für Jugendbeteiligung", "Danke!")
    world.drop(raw)
    world.drop(raw)  # delivered twice (e.g. to two folders, or resent by a client)
    await world.round()
    async with db.uow() as uow:
        posts = (await uow.session.scalars(select(Post))).all()
    assert len(posts) == 1
    assert await _statuses(db) == ["done", "duplicate"]
    assert len(world.new_mail_for(ANNA)) == 1


async def test_unknown_input_gets_help_once_a_day(world, clock):
    await world.member("Anna Schmidt", ANNA)
    for text in ("Wie geht das hier?", "Hallo?"):
        world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "Frage", text))
    await world.round()
    help_mails = world.new_mail_for(ANNA)
    assert len(help_mails) == 1
    body = plain_text(help_mails[0])
    assert "nicht verstanden" in body and "BIETE [Text]" in body and "ABBESTELLEN" in body
    clock.advance(days=1)
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "Frage", "Und jetzt?"))
    await world.round()
    assert len(world.new_mail_for(ANNA)) == 1


async def test_unknown_sender_registers_by_mail(world, db):
    carla = "carla@goerlitz.example"
    world.drop(mailclients.new_mail(carla, MAIL_FROM, "Mitmachen", "Hallo, ich möchte mitmachen."))
    await world.round()
    (form,) = world.new_mail_for(carla)
    assert "Kommune: Görlitz" in plain_text(form)  # proposed from the domain
    answer = "Name: Carla Neumann\nRolle: Ehrenamtlich engagiert\nEinverstanden: Ja"
    world.drop(mailclients.outlook(form, carla, answer))
    await world.round()
    (done,) = world.new_mail_for(carla)
    assert "registriert" in plain_text(done)
    async with db.uow() as uow:
        member = await uow.members.by_email(carla)
        assert member.role == "volunteer" and member.consent_at is not None
        assert member.municipality_ags == "14626110"


async def test_commands_in_subject_and_first_line(world, db):
    await world.member("Anna Schmidt", ANNA)
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "AW: meine", ""))
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "Hallo", "Löschen\n\nGruß Anna"))
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "x", "DATEN"))
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "ABBESTELLEN", ""))
    await world.round()
    mine, erase, export, unsubscribed = world.new_mail_for(ANNA)
    assert "keine" in plain_text(mine).lower()
    assert "wirklich löschen" in plain_text(erase)
    attachment = next(export.iter_attachments())
    assert attachment.get_filename() == "zukunftsraum-daten-2026-11-02.json"  # the clock's day
    assert b'"email"' in attachment.get_content()
    assert "keine Zusammenfassungen mehr" in plain_text(unsubscribed)
    async with db.uow() as uow:
        assert (await uow.members.by_email(ANNA)).digest == "none"


async def test_bad_mails_never_stop_the_inbox(world, db):
    await world.member("Anna Schmidt", ANNA)
    html_only = (
        f"From: {ANNA}\r\nTo: {MAIL_FROM}\r\nSubject: Frage\r\nMessage-ID: <h1@x.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><p>SUCHE Mitfahrbänke für Dörfer</p></body></html>\r\n"
    ).encode()
    unknown_charset = (
        f"From: {ANNA}\r\nTo: {MAIL_FROM}\r\nSubject: =?x-unknown?q?Hallo?=\r\n"
        "Message-ID: <c1@x.example>\r\nContent-Type: text/plain; charset=x-unknown-42\r\n\r\n"
        "TREFFER\r\n"
    ).encode()
    broken_mime = (
        f"From: {ANNA}\r\nTo: {MAIL_FROM}\r\nSubject: kaputt\r\nMessage-ID: <b1@x.example>\r\n"
        'Content-Type: multipart/mixed; boundary="nie"\r\n\r\n--anders\r\n\r\nHILFE\r\n'
    ).encode()
    huge = mailclients.new_mail(ANNA, MAIL_FROM, "Lang", "BIETE " + "Bürgerbus " * 300_000)
    for raw in (b"\x00\x01 not a mail", html_only, unknown_charset, broken_mime, huge):
        world.drop(raw)
    msg = mailclients.parse(mailclients.new_mail(ANNA, MAIL_FROM, "Anhang", "MEINE"))
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="flyer.pdf")
    world.drop(msg.as_bytes(policy=SMTP))
    await world.round()
    statuses = await _statuses(db)
    assert statuses[0] == "failed" and statuses[1:] == ["done"] * 5
    replies = [plain_text(m) for m in world.new_mail_for(ANNA)]
    assert any("Mitfahrbänke" in r for r in replies)  # the HTML-only post was created
    assert any("Anhänge kann ich nicht verarbeiten" in r for r in replies)
    assert any("zu lang" in r for r in replies)


async def test_stored_before_processing_and_reprocessed_after_a_crash(world, db):
    await world.member("Anna Schmidt", ANNA)
    raw = mailclients.new_mail(ANNA, MAIL_FROM, "SUCHE Dorfladen-Konzepte", "")
    inbound_id, status = await world.pipeline.store("INBOX", 7, 1, raw)
    assert status == "new"  # stored (committed), then the process stopped
    assert await world.pipeline.take("INBOX", 7, 1, raw) == "done"  # same server message
    assert await world.pipeline.take("INBOX", 7, 1, raw) == "done"  # only the flag was missing
    async with db.uow() as uow:
        assert len((await uow.session.scalars(select(Post))).all()) == 1
        assert (await uow.session.get(InboundMail, inbound_id)).message_id


async def test_outgoing_mail_layout(world, db):
    await world.member("Anna Schmidt", ANNA)
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.say(BEA, "/suche Erfahrungen mit Bürgerbus und Mobilität für Senioren")
    await world.dispatcher.drain()
    (mail,) = world.new_mail_for(ANNA)
    text = plain_text(mail)
    assert "1. Ja, gern (Antwort: JA)" in text and "2. Nein, danke (Antwort: NEIN)" in text
    assert "Antworten Sie mit JA oder NEIN" in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<ol" in html and "„" in html
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Clients read the header raw: it must stay a plain <mailto:...> URI, never RFC 2047.
    raw = b"".join(path.read_bytes() for path in world.sent_files())
    assert (
        b"List-Unsubscribe: <mailto:assistent+" in raw
        and b"=?utf-8?" not in raw.split(b"List-Unsubscribe:", 1)[1].split(b"\n", 1)[0]
    )
    async with db.uow() as uow:
        anna = (await uow.session.scalars(select(Member).where(Member.email == ANNA))).one()
        row = (await uow.outbox.for_member(anna.id))[0]
    assert row.status == "sent" and f"<{row.external_id}>" == mail["Message-ID"]
    assert row.meta["reply_token"] in str(mail["From"])


async def test_a_stale_heartbeat_hands_claimed_mails_back_at_once(world, db, clock):
    """A live process that stops sending mid-batch does not leave mails on its lease."""
    import time

    from core.runtime import processes
    from core.runtime.processes import LeaseOwner
    from core.store.models import OutboxMessage

    anna = await world.member("Anna Schmidt", ANNA)
    async with db.uow() as uow:
        me = await processes.register(uow, "run", "host-a", 111, clock())
        member = await uow.members.get(anna.id)
        for n in range(5):
            outbox.enqueue(uow, member, Reply(f"Nachricht {n}"), kind="test", now=clock())
        await uow.commit()
    owner = world.dispatcher.owner = LeaseOwner(id=me.id)
    send = world.transport.send

    async def send_then_stall(msg, sender, recipient):
        await send(msg, sender, recipient)
        owner.last_beat -= 3600  # the heartbeat was not recorded in time

    world.transport.send = send_then_stall
    assert await world.dispatcher.drain_once() == 5
    async with db.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [m.status for m in rows] == ["sent"] + ["pending"] * 4  # not "sending" for 2 min
        assert all(m.claimed_by is None and m.unconfirmed == 0 for m in rows[1:])
    assert await world.dispatcher.drain_once() == 0  # nothing claimed while the beat is stale
    owner.last_beat = time.monotonic()
    world.transport.send = send
    assert await world.dispatcher.drain() == 4
    assert len(world.sent_files()) == 5


async def _queued_proposal(db, member_id: int) -> OutboxMessage:
    async with db.uow() as uow:
        rows = await uow.outbox.for_member(member_id)
        return next(m for m in rows if m.kind == "match_proposal")


async def test_a_proposal_settled_before_its_mail_left_is_not_sent(world, db):
    """The pair was answered on another channel while the proposal mail still queued: the
    dispatcher drops it with the reason, and it does not count as a delivery failure."""
    bea = await world.member("Bea Berg", BEA, ags="12073572")
    await world.member("Anna Schmidt", ANNA)
    await world.say(BEA, "/suche Wir suchen ein Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    queued = await _queued_proposal(db, bea.id)  # Anna read hers in the answer
    match_id = int(queued.ref.removeprefix("match:"))
    answer = await world.say(ANNA, f"/ablehnen {match_id}")  # any channel
    assert "nicht wieder vor" in answer[0].text

    await world.dispatcher.drain()

    assert world.new_mail_for(BEA) == []
    async with db.uow() as uow:
        dropped = (await uow.outbox.many([queued.id]))[0]
    assert dropped.status == "obsolete" and dropped.meta["obsolete"] == "match declined"
    assert dropped.attempts == 0 and dropped.last_error is None and dropped.sent_at is None


async def test_a_proposal_its_reader_answered_elsewhere_is_not_sent(world, db):
    bea = await world.member("Bea Berg", BEA, ags="12073572")
    await world.member("Anna Schmidt", ANNA)
    await world.say(BEA, "/suche Wir suchen ein Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    queued = await _queued_proposal(db, bea.id)
    match_id = int(queued.ref.removeprefix("match:"))
    # Bea saw the pair under /treffer and said yes before the mail went out.
    await world.say(BEA, f"/annehmen {match_id}")

    await world.dispatcher.drain()

    assert not [m for m in world.new_mail_for(BEA) if "JA oder NEIN" in plain_text(m)]
    async with db.uow() as uow:
        dropped = (await uow.outbox.many([queued.id]))[0]
        match = await uow.matches.get(match_id)
    assert dropped.status == "obsolete" and dropped.meta["obsolete"] == "member answered already"
    assert match.status == "proposed" and match.request_answer == "yes"


async def test_a_proposal_still_waiting_is_sent(world, db):
    bea = await world.member("Bea Berg", BEA, ags="12073572")
    await world.member("Anna Schmidt", ANNA)
    await world.say(BEA, "/suche Wir suchen ein Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    queued = await _queued_proposal(db, bea.id)

    await world.dispatcher.drain()

    assert _proposal(world.new_mail_for(BEA))
    async with db.uow() as uow:
        assert (await uow.outbox.many([queued.id]))[0].status == "sent"


async def test_suggestions_by_mail_stay_under_their_heading(world):
    """The answer to a search by mail numbers the suggestions under "Vielleicht passend" and
    its explanation, not below every heading of the answer."""
    from tests.test_matching_tiers import DRIVING_SERVICE, MITFAHRBANK, RURAL_NO_BUS

    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="14521690")  # Zschopau, far from Prenzlau
    await world.say(ANNA, f"/biete {MITFAHRBANK}")
    await world.say(ANNA, f"/biete {DRIVING_SERVICE}")
    world.drop(
        mailclients.new_mail(
            mailclients.address("Bea Berg", BEA), MAIL_FROM, f"SUCHE {RURAL_NO_BUS}", ""
        )
    )
    await world.round()
    text = plain_text(world.new_mail_for(BEA)[0])
    heading = text.index("Vielleicht passend – nur für Sie sichtbar (2)")
    explained = text.index("die andere Seite noch nicht gefragt")
    assert text.index("ist veröffentlicht") < heading < explained < text.index("1) „"), text
    # The offer to keep watching (no Vorschlag) comes after the suggestions.
    assert text.index("1) „") < text.index("2) „") < text.index("Mit „Weiter beobachten“"), text
