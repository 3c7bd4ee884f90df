"""/loeschen always asks: the erasure is a second step bound to the question just asked,
in the chat and by mail (tests/telegram/test_telegram_erasure.py: on Telegram)."""

from __future__ import annotations

import pytest

from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

ANNA = "anna.schmidt@prenzlau.example"


async def _exists(db, email: str) -> bool:
    async with db.uow() as uow:
        return await uow.members.by_email(email) is not None


async def test_typed_confirmation_asks_instead_of_erasing(person, db):
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/loeschen bestaetigen")
    assert "wirklich" in anna.text and await _exists(db, "anna@example.org")
    await anna.say("/loeschen bestaetigen 0000")  # a guessed token
    assert "wirklich" in anna.text and await _exists(db, "anna@example.org")
    await anna.say("ja")  # free text answers nothing: the question stands
    assert "wirklich" in anna.text and await _exists(db, "anna@example.org")
    await anna.say(anna.choice("endgültig"))
    assert "gelöscht" in anna.text and not await _exists(db, "anna@example.org")


async def test_an_old_question_no_longer_erases(person, db):
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/loeschen")
    old_yes = anna.choice("endgültig")
    await anna.say(anna.choice("Abbrechen"))
    await anna.say(old_yes)
    assert "wirklich" in anna.text and await _exists(db, "anna@example.org")
    await anna.say("/loeschen")
    first = anna.choice("endgültig")
    await anna.say("/meine")  # another command in between leaves the question
    await anna.say(first)
    assert "wirklich" in anna.text and await _exists(db, "anna@example.org")


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def test_by_mail_the_typed_words_ask_and_the_reply_erases(world, db):
    await world.member("Anna Schmidt", ANNA)
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "Daten", "LÖSCHEN BESTÄTIGEN"))
    await world.round()
    [question] = world.new_mail_for(ANNA)
    assert "wirklich löschen" in plain_text(question) and await _exists(db, ANNA)
    world.drop(mailclients.apple(question, ANNA, "LÖSCHEN"))
    await world.round()
    [done] = world.new_mail_for(ANNA)
    assert "gelöscht" in plain_text(done) and not await _exists(db, ANNA)
