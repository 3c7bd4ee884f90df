"""The email channel against what attackers and careless clients send, end to end.

Every mail goes through the real pipeline (Maildir in, parse, core, outbox, dispatcher,
templates, Maildir out), as ``zukunftsraum run`` does it without servers.
"""

from __future__ import annotations

from email.utils import parseaddr

import pytest
from sqlalchemy import select

from core.store.models import InboundMail, Post
from mail.compose import serialise
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

ANNA = "anna.schmidt@prenzlau.example"
BEA = "bea.berg@templin.example"
MALLORY = "mallory@evil.test"
TRUSTED = "mx.zukunftsraum.example"


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def _statuses(db) -> list[tuple[str, str | None]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(InboundMail.status, InboundMail.error).order_by(InboundMail.id)
        )
        return [tuple(r) for r in rows.all()]


def _raw(head: bytes, body: bytes = b"Hallo\r\n") -> bytes:
    return head.replace(b"\n", b"\r\n") + b"\r\n" + body


# -- 8-bit headers and control characters -----------------------------------------------------


async def test_8bit_subject_and_from_do_not_stop_the_inbox(world, db):
    await world.member("Anna Schmidt", ANNA)
    to = MAIL_FROM.encode()
    # Raw UTF-8 and raw Latin-1 in the Subject, an 8-bit local part, NUL in the Subject.
    world.drop(
        _raw(
            b"From: "
            + ANNA.encode()
            + b"\nTo: "
            + to
            + b"\nSubject: MEINE Gr\xc3\xbc\xc3\x9fe\nMessage-ID: <u8@x>\n"
        )
    )
    world.drop(
        _raw(
            b"From: "
            + ANNA.encode()
            + b"\nTo: "
            + to
            + b"\nSubject: MEINE Gr\xfc\xdfe\nMessage-ID: <l1@x>\n"
        )
    )
    world.drop(
        _raw(
            b"From: m\xfcller@prenzlau.example\nTo: "
            + to
            + b"\nSubject: HILFE\nMessage-ID: <lp@x>\n"
        )
    )
    world.drop(
        _raw(
            b"From: "
            + ANNA.encode()
            + b"\nTo: "
            + to
            + b"\nSubject: Re: MEI\x00NE\x07\nMessage-ID: <nul@x>\n"
        )
    )
    world.drop(
        mailclients.new_mail(ANNA, MAIL_FROM, "BIETE Lastenrad-Verleih im Dorf", "Seit 2021.")
    )
    await world.round()
    statuses = await _statuses(db)
    assert [s for s, _ in statuses] == ["done", "done", "ignored", "done", "done"]
    assert "NonASCIILocalPartDefect" in statuses[2][1]
    answers = world.new_mail_for(ANNA)
    subjects = [str(m["Subject"]) for m in answers]
    assert "Re: MEINE Grüße" in subjects  # UTF-8, and Latin-1 as Latin-1
    assert subjects.count("Re: MEINE Grüße") == 2
    assert "Re: Re: MEINE" in subjects or "Re: MEINE" in subjects
    for path in world.sent_files():
        data = path.read_bytes()
        head = data.split(b"\r\n\r\n", 1)[0]
        assert b"\x00" not in head and b"\x07" not in head and head.isascii()
    async with db.uow() as uow:
        assert len((await uow.session.scalars(select(Post))).all()) == 1


# -- one sender, strictly ------------------------------------------------------------------------

FORGED_FROMS = [
    f"{ANNA} <{MALLORY}>",
    f"{ANNA})<{MALLORY}>",  # CVE-2023-27043
    f"{ANNA}, {MALLORY}",
    f"{MALLORY}, {ANNA}",
    f"Gemeinde: {ANNA};",  # group syntax
    f"Gemeinde: {ANNA}, {MALLORY};",
    f"<{ANNA}> <{MALLORY}>",
    f"{ANNA} ({MALLORY}",
    f'"{ANNA}" {ANNA}@evil.test',
]


async def _proposal_to_anna(world):
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await world.say(BEA, "/suche Erfahrungen mit Bürgerbus und Mobilität für Senioren")
    await world.dispatcher.drain()
    return next(m for m in world.new_mail_for(ANNA) if "JA oder NEIN" in plain_text(m))


async def _anna_answer(db):
    async with db.uow() as uow:
        (match,) = await uow.matches.all()
        return match.offer_answer


def _forged_yes(proposal, from_value: str, n: int, extra: str = "") -> bytes:
    reply = mailclients.gmail(proposal, ANNA, "Ja")
    head, body = reply.split(b"\r\n\r\n", 1)
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"from:")]
    lines = [line for line in lines if not line.lower().startswith(b"message-id:")]
    lines.append(b"From: " + from_value.encode())
    lines.append(f"Message-ID: <forged-{n}@evil.test>".encode())
    if extra:
        lines.insert(0, extra.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.mark.parametrize("from_value", FORGED_FROMS)
async def test_a_malformed_from_never_acts_as_the_member(world, db, from_value):
    proposal = await _proposal_to_anna(world)
    world.drop(_forged_yes(proposal, from_value, 1))
    await world.round()
    assert await _anna_answer(db) is None
    ((status, reason),) = await _statuses(db)
    assert status == "ignored" and reason.startswith("From")
    assert world.new_mail_for(ANNA) == [] and world.new_mail_for(MALLORY) == []


async def test_two_from_headers_never_act_as_the_member(world, db):
    proposal = await _proposal_to_anna(world)
    world.drop(_forged_yes(proposal, ANNA, 1, extra=f"From: {MALLORY}"))
    world.drop(_forged_yes(proposal, MALLORY, 2, extra=f"From: {ANNA}"))
    await world.round()
    assert await _anna_answer(db) is None
    assert await _statuses(db) == [("ignored", "2 From headers")] * 2
    assert world.new_mail_for(ANNA) == []


@pytest.mark.parametrize(
    "results",
    [
        "dmarc=pass header.from=evil.test",  # a pass for the attacker's own domain
        "dmarc=pass header.from=prenzlau.example.evil.test",
        "dmarc=fail header.from=prenzlau.example",
        "spf=fail smtp.mailfrom=prenzlau.example; dkim=fail header.d=prenzlau.example",
        "dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=evil.test",
    ],
)
async def test_forged_authentication_results_do_not_act_as_the_member(
    db, assistant, clock, tmp_path, results
):
    world = MailWorld(db, assistant, clock, tmp_path, authserv_ids=(TRUSTED,))
    proposal = await _proposal_to_anna(world)
    reply = mailclients.gmail(proposal, ANNA, "Ja")
    world.drop(f"Authentication-Results: {TRUSTED}; {results}\r\n".encode() + reply)
    await world.round()
    assert await _anna_answer(db) is None
    ((status, _),) = await _statuses(db)
    assert status == "auth_failed"
    assert world.new_mail_for(ANNA) == []


async def test_dmarc_pass_for_the_from_domain_acts(db, assistant, clock, tmp_path):
    world = MailWorld(db, assistant, clock, tmp_path, authserv_ids=(TRUSTED,))
    proposal = await _proposal_to_anna(world)
    reply = mailclients.gmail(proposal, ANNA, "Ja")
    header = f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=prenzlau.example\r\n"
    world.drop(header.encode() + reply)
    await world.round()
    assert await _anna_answer(db) is not None


async def test_tokens_are_case_sensitive_and_refusals_tell_nothing(world, db):
    proposal = await _proposal_to_anna(world)
    address = parseaddr(str(proposal["From"]))[1]
    local, domain = address.split("@")
    token = local.split("+", 1)[1]
    variants = [
        token.swapcase(),  # the same token in another case is another token
        "Zz" + token[2:],  # a near miss
        "q" * 22,  # a token that never existed
    ]
    for n, variant in enumerate(variants):
        raw = mailclients.new_mail(ANNA, f"assistent+{variant}@{domain}", "Ja", "Ja")
        world.drop(raw.replace(b"Message-ID: <", f"Message-ID: <v{n}".encode()))
    await world.round()
    assert await _anna_answer(db) is None
    assert [s for s, _ in await _statuses(db)] == ["rejected"] * 3
    (refusal,) = world.new_mail_for(ANNA)  # one a day
    # Mallory holds Anna's real token: the same words as for a token that never existed.
    world.clock.advance(days=1)
    world.drop(mailclients.gmail(proposal, MALLORY, "Ja"))
    world.drop(mailclients.new_mail(MALLORY, f"assistent+{'q' * 22}@{domain}", "Ja", "Ja"))
    world.clock.advance(days=1)
    await world.round()
    world.clock.advance(days=1)
    world.drop(mailclients.new_mail(MALLORY, f"assistent+{'q' * 22}@{domain}", "Ja", "Ja"))
    await world.round()
    texts = [plain_text(m) for m in world.new_mail_for(MALLORY)]
    assert len(texts) == 2 and texts[0] == texts[1] == plain_text(refusal)
    assert await _anna_answer(db) is None
    # The real token, from Anna, acts.
    world.drop(mailclients.gmail(proposal, ANNA, "Ja"))
    await world.round()
    assert await _anna_answer(db) is not None


# -- loops and amplification -----------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        MAIL_FROM,
        MAIL_FROM.upper(),
        "assistent+abcdefgh123@zukunftsraum.example",
        "ASSISTENT+b-XyZ123456789@ZUKUNFTSRAUM.EXAMPLE",
        f"Zukunftsraum Assistent <{MAIL_FROM}>",
        '"Irgendwer" <Assistent@Zukunftsraum.Example>',
    ],
)
async def test_mail_from_our_own_address_gets_no_answer(world, db, sender):
    for n, subject in enumerate(("HILFE", "Hallo", "BIETE Ein Konzept für alle Gemeinden")):
        raw = mailclients.new_mail(sender, MAIL_FROM, subject, "Hallo")
        world.drop(raw.replace(b"Message-ID: <", f"Message-ID: <own{n}".encode()))
    await world.round()
    assert world.sent_files() == []
    assert [s for s, _ in await _statuses(db)] == ["ignored"] * 3
    async with db.uow() as uow:
        assert await uow.members.by_email(MAIL_FROM) is None


async def test_an_unknown_sender_gets_at_most_one_answer_a_day(world, db):
    stranger = "victim@forged.example"
    texts = ["Hallo", "HILFE", "MEINE", "Gewinnspiel!!!", "Ja", "1", "Prenzlau", "BIETE x"]
    for n in range(20):
        raw = mailclients.new_mail(stranger, MAIL_FROM, texts[n % len(texts)], texts[n % 3])
        world.drop(raw.replace(b"Message-ID: <", f"Message-ID: <s{n}".encode()))
    await world.round()
    assert len(world.new_mail_for(stranger)) == 1
    statuses = [s for s, _ in await _statuses(db)]
    assert statuses[0] == "done" and set(statuses[1:]) == {"limited"}
    # Known members too hear about mails they were not understood in once a day.
    await world.member("Anna Schmidt", ANNA)
    for n in range(5):
        raw = mailclients.new_mail(ANNA, MAIL_FROM, "Kauderwelsch", "Blabla")
        world.drop(raw.replace(b"Message-ID: <", f"Message-ID: <k{n}".encode()))
    await world.round()
    assert len(world.new_mail_for(ANNA)) == 1
    # The next day, one answer again.
    world.clock.advance(days=1)
    raw = mailclients.new_mail(stranger, MAIL_FROM, "Hallo", "Hallo")
    world.drop(raw.replace(b"Message-ID: <", b"Message-ID: <nextday"))
    await world.round()
    assert len(world.new_mail_for(stranger)) == 1


async def test_registration_by_mail_stops_after_two_unparseable_replies(world, db):
    stranger = "neu@irgendwo.example"
    world.drop(mailclients.new_mail(stranger, MAIL_FROM, "Hallo", "Ich möchte mitmachen."))
    await world.round()
    (form,) = world.new_mail_for(stranger)
    reply = mailclients.gmail(form, stranger, "Name: Anna Neumann\nRolle: Ehrenamt\nJa")
    world.drop(reply)
    await world.round()
    (ask_town,) = world.new_mail_for(stranger)
    assert "Es fehlt noch: Ihre Kommune." in plain_text(ask_town)
    for n in range(6):  # no such municipality, again and again
        world.drop(mailclients.gmail(ask_town, stranger, f"Xyzzyhausen{n}"))
    await world.round()
    assert len(world.new_mail_for(stranger)) == 2  # two explanations, then silence
    assert [s for s, _ in await _statuses(db)][-4:] == ["limited"] * 4
    world.clock.advance(days=1)
    world.drop(mailclients.gmail(ask_town, stranger, "Prenzlau"))
    await world.round()
    assert len(world.new_mail_for(stranger)) == 1  # the dialogue goes on the next day


# -- one answer per command ---------------------------------------------------------------------


async def test_meine_lists_every_post_in_one_mail_and_a_numbered_answer_acts_on_it(world, db):
    await world.member("Anna Schmidt", ANNA)
    titles = ["Bürgerbus für Senioren", "Lastenrad-Verleih im Dorf", "Dorfladen als Genossenschaft"]
    for title in titles:
        await world.say(ANNA, f"/biete {title} mit Erfahrungen aus drei Jahren")
    await world.dispatcher.drain()
    world.new_mail_for(ANNA)
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "MEINE", ""))
    await world.round()
    (listing,) = world.new_mail_for(ANNA)
    text = plain_text(listing)
    for number, title in enumerate(titles, start=1):
        assert f"{number}) " in text and title in text
    assert "„2 PAUSIEREN“" in text
    world.drop(mailclients.gmail(listing, ANNA, "2 PAUSIEREN"))
    await world.round()
    async with db.uow() as uow:
        posts = {p.title: p.status for p in (await uow.session.scalars(select(Post))).all()}
    paused = [title for title, status in posts.items() if status == "paused"]
    assert len(paused) == 1 and titles[1] in paused[0]
    assert len(world.new_mail_for(ANNA)) == 1


async def test_mail_from_with_a_display_name(db, assistant, clock, tmp_path):
    named = f"Zukunftsraum Assistent <{MAIL_FROM}>"
    world = MailWorld(db, assistant, clock, tmp_path, mail_from=named)
    proposal = await _proposal_to_anna(world)
    name, address = parseaddr(str(proposal["From"]))
    assert name == "Zukunftsraum Assistent"
    assert address.startswith("assistent+") and address.endswith("@zukunftsraum.example")
    assert parseaddr(str(proposal["Return-Path"]))[1].startswith("assistent+b-")
    world.drop(mailclients.gmail(proposal, ANNA, "Ja"))
    await world.round()
    assert await _anna_answer(db) is not None
    for path in world.sent_files():
        serialise(mailclients.parse(path.read_bytes()))


async def test_mails_set_aside_are_counted_in_the_staff_digest(world, db, services):
    from datetime import timedelta

    from core.digests import staff as staff_digest

    world.drop(b"\x00\x01 no mail at all")
    world.drop(b"From: nobody\r\n")  # a header without a body is still read
    await world.round()
    assert [s for s, _ in await _statuses(db)] == ["failed", "ignored"]
    now = world.clock()
    async with db.uow() as uow:
        since = now - timedelta(days=1)
        sections = services.features.staff_digest
        digest = await staff_digest.build(uow, since, now, services.tz, sections, weekly=False)
    text = digest.text(services.tz)
    assert "nicht verarbeiten ließen: 1" in text and "mail failed" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("anna@x.example", "anna@x.example"),
        ('"Müller, Anna" <Anna.Mueller@Gemeinde-Beispiel.de>', "anna.mueller@gemeinde-beispiel.de"),
        ("Dr. Anna Müller <a@x.example>", "a@x.example"),
        ("=?utf-8?q?M=C3=BCller?= <a@x.example>", "a@x.example"),
        (f'"{ANNA}" <{MALLORY}>', MALLORY),  # the name is only a name
        (f"=?utf-8?q?{ANNA}?= <{MALLORY}>", MALLORY),
        *[(value, None) for value in FORGED_FROMS],
        ("x" * 480 + f" <{ANNA}>", None),
    ],
)
def test_strict_sender_reads_one_address_or_none(value, expected):
    from mail.parsing import strict_sender

    assert strict_sender([value])[0] == expected
