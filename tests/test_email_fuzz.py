"""Thousands of hostile mails through the real pipeline: the inbox drains, nothing leaks.

The mails (``tests/hostile_mail.py``, seeded) are dropped into the Maildir inbox and taken by
the inbox watcher as ``zukunftsraum run`` does it: stored, then processed in batches; the
answers go through the dispatcher into files, each written as the SMTP sender writes it.
Runs on SQLite and, with ZR_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from core.conversation import inbound_mail
from core.store.models import InboundMail, Member, OutboxMessage
from mail.addresses import is_own
from mail.compose import serialise
from tests.email_world import MAIL_FROM, MailWorld
from tests.hostile_mail import HostileMails
from tests.support import mailclients
from tests.support.mailclients import plain_text

MAILS = 2000
SEED = 20261204
MEMBERS = [f"mitglied{i}@gemeinde{i}.example" for i in range(8)]
_UNSAFE_HEAD = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff]")
_TO = re.compile(rb"^To: (?:.*<)?([^<>\s]+@[^<>\s]+?)>?\r?$", re.MULTILINE)


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def _drain(world) -> None:
    """Rounds as the running service makes them, until nothing is waiting any more."""
    for _ in range(inbound_mail.MAX_ATTEMPTS + 2):
        await world.round()
        async with world.db.uow() as uow:
            waiting = await inbound_mail.status_counts(uow)
        if not waiting.get("new") and not list((world.directory / "inbox" / "new").iterdir()):
            return
        world.clock.advance(hours=3)  # past any retry pause
    raise AssertionError(f"inbox did not drain: {waiting}")


async def test_hostile_mails_drain_and_every_answer_is_clean(world, db):
    for n, address in enumerate(MEMBERS):
        await world.member(f"Mitglied {n}", address, ags=("12073452", "12073572")[n % 2])
    await world.member("Lea Legitim", "lea@prenzlau.example")
    mails = HostileMails(SEED, MAIL_FROM, MEMBERS, big_every=700).take(MAILS)
    for mail in mails:
        world.drop(mail.raw)
    await _drain(world)

    async with db.uow() as uow:
        rows = (await uow.session.execute(select(InboundMail.status, InboundMail.error))).all()
        failed_out = (
            await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        ).all()
        bounced = (await uow.session.scalars(select(Member.email_hard_bounces))).all()
    statuses = Counter(status for status, _ in rows)
    # Identical raw mails are stored once per file; every file became a row.
    assert sum(statuses.values()) == MAILS
    assert set(statuses) <= set(inbound_mail.FINAL_STATUSES), statuses
    assert all(error for status, error in rows if status != "done"), statuses
    assert statuses["done"] > 100 and statuses["ignored"] > 100  # the mix did reach the core
    assert failed_out == []  # no answer was unencodable
    assert set(bounced) == {0}  # no report through a real envelope sender: nobody muted

    # Every answer was written by the dispatcher as the SMTP sender writes it (serialise
    # under policy.SMTP raises for anything unencodable); the files are those bytes.
    answers_to = Counter()
    files = world.sent_files()
    for path in files:
        data = path.read_bytes()
        head = data.split(b"\r\n\r\n", 1)[0]
        assert not _UNSAFE_HEAD.search(head), head[:300]
        (to,) = _TO.findall(head)
        assert not is_own(to.decode(), MAIL_FROM)
        answers_to[to.decode().lower()] += 1
    for path in files[:: max(len(files) // 50, 1)]:  # and they read back as mail
        serialise(mailclients.parse(path.read_bytes()))
    strangers = {a: n for a, n in answers_to.items() if a.startswith("fremd")}
    assert strangers and max(strangers.values()) == 1  # one answer a day, however many mails

    # A legitimate mail afterwards is answered.
    world.drop(mailclients.new_mail("lea@prenzlau.example", MAIL_FROM, "MEINE", ""))
    world.drop(mailclients.new_mail(MEMBERS[0], MAIL_FROM, "SUCHE Ideen für Dorfläden", "x"))
    await world.round()
    fresh = [mailclients.parse(p.read_bytes()) for p in world.sent_files()[len(files) :]]
    assert [m for m in fresh if "lea@prenzlau.example" in str(m["To"])]
    assert any(MEMBERS[0] in str(m["To"]) and "Dorfläden" in plain_text(m) for m in fresh)
