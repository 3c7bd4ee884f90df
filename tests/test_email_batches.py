"""Mails fetched together are processed together: one transaction for the batch, split
when one mail must not share it (bad input, an error, a race with another worker).

Whatever the batching does, each mail must end as if it had been processed on its own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.conversation import inbound_mail
from core.exchange import posts as exchange
from core.store.models import InboundMail, OutboxMessage, Post, ProcessedEvent
from mail.incoming import BATCH_BYTES, BATCH_SIZE, MAX_MAIL_BYTES, batches
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

ANNA = "anna.schmidt@prenzlau.example"
BEA = "bea.berg@templin.example"


@pytest.fixture
async def world(db, assistant, clock, tmp_path):
    world = MailWorld(db, assistant, clock, tmp_path)
    await world.member("Anna Schmidt", ANNA)
    await world.member("Bea Berg", BEA, ags="12073572")
    return world


def _mail(sender: str, subject: str, body: str = "", **headers) -> bytes:
    return mailclients.new_mail(sender, MAIL_FROM, subject, body, **headers)


async def _statuses(db) -> list[str]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(InboundMail.status).order_by(InboundMail.id)))


async def _count(db, model, *where) -> int:
    async with db.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model).where(*where))


async def _answers(db) -> list[tuple[str, str]]:
    """(answered Message-ID, text) of every answer queued, to see none is given twice."""
    async with db.uow() as uow:
        answers = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == inbound_mail.ANSWER_KIND)
        )
        return [(answer.meta["in_reply_to"], answer.text) for answer in answers]


def _answered_once(answers: list[tuple[str, str]], mails: int) -> bool:
    return len(set(answers)) == len(answers) and len({key for key, _ in answers}) == mails


async def test_bad_input_in_the_middle_keeps_the_other_mails_effects(world, db):
    world.drop(_mail(ANNA, "BIETE Unser Bürgerbus-Konzept für Senioren"))
    world.drop(_mail(ANNA, "AENDERN 999 Ein neuer Text"))  # no such post: bad input
    world.drop(_mail(BEA, "SUCHE Erfahrungen mit Mitfahrbänken"))
    world.drop(_mail(ANNA, "MEINE"))
    await world.round()

    assert await _statuses(db) == ["done"] * 4
    assert await _count(db, Post) == 2
    assert _answered_once(await _answers(db), 4)
    to_anna = [plain_text(m) for m in world.new_mail_for(ANNA)]
    assert any("999" in text for text in to_anna)  # the bad input is explained
    assert any("Bürgerbus" in text and "Ihre" in text for text in to_anna)  # MEINE saw the post


async def test_an_error_fails_only_that_mail(world, db, monkeypatch):
    await world.say(ANNA, "/biete Unser Bürgerbus-Konzept für Senioren")

    def broken(*args, **kwargs):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(exchange, "post_line", broken)  # MEINE of a member with posts breaks
    world.drop(_mail(BEA, "SUCHE Erfahrungen mit Mitfahrbänken"))
    world.drop(_mail(ANNA, "MEINE"))
    world.drop(_mail(BEA, "TREFFER"))
    await world.round()

    # The mails around it are done; it waits for a retry, and is set aside after the last.
    assert await _statuses(db) == ["done", "new", "done"]
    assert await _count(db, Post, Post.author_id.is_not(None)) == 2
    assert len(world.new_mail_for(BEA)) >= 2
    assert not [m for m in world.new_mail_for(ANNA) if "Entschuldigung" in plain_text(m)]
    for _ in range(inbound_mail.MAX_ATTEMPTS - 1):
        world.clock.advance(hours=2)
        world.drop(_mail(BEA, f"SUCHE Erfahrungen mit Mitfahrbänken {_}"))  # never blocked
        await world.round()
    assert await _statuses(db) == ["done", "failed", "done"] + ["done"] * 4
    async with db.uow() as uow:
        (failed,) = await inbound_mail.failed_mails(uow)
    assert failed.attempts == inbound_mail.MAX_ATTEMPTS
    assert failed.error == "RuntimeError: broken on purpose"
    assert [m for m in world.new_mail_for(ANNA) if "Entschuldigung" in plain_text(m)]


async def test_the_same_mail_twice_in_one_batch_acts_once(world, db):
    raw = _mail(ANNA, "BIETE Unser Bürgerbus-Konzept für Senioren")
    world.drop(raw)
    world.drop(raw)
    await world.round()
    assert await _statuses(db) == ["done", "duplicate"]
    assert await _count(db, Post) == 1
    assert _answered_once(await _answers(db), 1)


async def test_a_post_is_matched_by_the_next_mail_of_the_same_batch(world, db):
    world.drop(_mail(ANNA, "BIETE Unser Bürgerbus-Konzept für Senioren im ländlichen Raum"))
    world.drop(_mail(BEA, "SUCHE Erfahrungen mit Bürgerbus und Mobilität für Senioren"))
    world.drop(_mail(BEA, "TREFFER"))
    await world.round()
    assert await _statuses(db) == ["done"] * 3
    async with db.uow() as uow:
        assert len(await uow.matches.all()) == 1
    assert any("JA oder NEIN" in plain_text(m) for m in world.new_mail_for(ANNA))


async def test_a_dialogue_goes_on_within_one_batch(world, db):
    world.drop(_mail(ANNA, "BIETE"))  # asks for the title
    world.drop(_mail(ANNA, "Neuer Beitrag", "Unser Dorfladen-Konzept mit Ehrenamtlichen"))
    world.drop(_mail(ANNA, "Beschreibung", "-"))  # no description
    await world.round()
    assert await _statuses(db) == ["done"] * 3
    async with db.uow() as uow:
        (post,) = (await uow.session.scalars(select(Post))).all()
    assert post.title.startswith("Unser Dorfladen-Konzept") and post.kind == "offer"


async def test_a_mail_another_worker_took_meanwhile_is_not_acted_on_twice(world, db, monkeypatch):
    raws = [_mail(ANNA, f"BIETE Konzept Nummer {n} für den ländlichen Raum") for n in (1, 2, 3)]
    taken_by_other = mailclients.parse(raws[1])["Message-ID"].strip("<>")
    load = inbound_mail._Known.load

    async def load_then_race(uow, mails):
        known = await load(uow, mails)
        # After this batch looked, another worker records the second mail and commits.
        async with db.uow() as other:
            other.add(
                ProcessedEvent(source=inbound_mail.SOURCE, key=taken_by_other, processed_at=now)
            )
            await other.commit()
        monkeypatch.setattr(inbound_mail._Known, "load", load)  # once
        return known

    now = world.clock()
    monkeypatch.setattr(inbound_mail._Known, "load", staticmethod(load_then_race))
    for raw in raws:
        world.drop(raw)
    await world.round()
    assert await _statuses(db) == ["done", "duplicate", "done"]
    async with db.uow() as uow:
        titles = sorted(p.title for p in (await uow.session.scalars(select(Post))).all())
    assert [t[:18] for t in titles] == ["Konzept Nummer 1 f", "Konzept Nummer 3 f"]


async def test_mails_stored_but_not_processed_are_taken_up_in_batches(world, db, monkeypatch):
    for n in range(3):
        await world.pipeline.store("INBOX", 1, n, _mail(BEA, "TREFFER", f"Lauf {n}"))
    calls = []
    receive_many = inbound_mail.receive_many

    async def counted(assistant, mails):
        calls.append(len(mails))
        return await receive_many(assistant, mails)

    monkeypatch.setattr(inbound_mail, "receive_many", counted)
    assert await world.pipeline.process_pending() == 3
    assert calls == [3] and await _statuses(db) == ["done"] * 3


def test_batches_are_bounded_in_number_and_bytes():
    assert batches([]) == []
    small = [(n, 1000) for n in range(BATCH_SIZE * 2 + 1)]
    assert [len(b) for b in batches(small)] == [BATCH_SIZE, BATCH_SIZE, 1]
    big = [(n, MAX_MAIL_BYTES) for n in range(5)]
    per_batch = BATCH_BYTES // MAX_MAIL_BYTES
    grouped = batches(big)
    assert all(len(b) <= per_batch for b in grouped)
    assert [key for batch in grouped for key in batch] == list(range(5))
    oversized = [(0, 10), (1, 10 * BATCH_BYTES), (2, 10)]  # cut to MAX_MAIL_BYTES when read
    assert [key for batch in batches(oversized) for key in batch] == [0, 1, 2]
    assert BATCH_BYTES >= MAX_MAIL_BYTES  # one mail of the largest size always fits
