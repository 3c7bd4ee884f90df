"""What a member asks for before registering or consenting is carried out afterwards."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.members import accounts as members
from core.store.models import Post
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

OFFER = "Wir teilen unser Bürgerbus-Konzept"


async def _imported(db, clock, email: str) -> None:
    """A member as `import members` or `members invite` leaves them: no consent yet."""
    async with db.uow() as uow:
        await members.add_member(
            uow, members.NewMember("Anna Schmidt", "mayor", "12073452", email=email), clock()
        )
        await uow.commit()


async def _posts(db) -> list[tuple[str, str]]:
    async with db.uow() as uow:
        return [(p.kind, p.title) for p in (await uow.session.scalars(select(Post))).all()]


async def _up_to_consent(eva) -> None:
    """Eva Roth from Templin, registering in the chat, up to the consent question."""
    await eva.say("/start")
    for step in ("Eva Roth", "Templin", "mayor"):
        await eva.say(step)


async def _register_after(eva) -> None:
    """The registration's answers after what Eva asked for first, consent included."""
    for step in ("Eva Roth", "Templin", "mayor", "ja"):
        await eva.say(step)


async def test_imported_member_offer_is_posted_after_consent_in_the_chat(person, db, clock):
    await _imported(db, clock, "anna@example.org")
    anna = person("anna@example.org")
    await anna.say(f"/biete {OFFER}")
    assert "Datenschutz" in anna.text and "sobald Sie zugestimmt haben" in anna.text
    assert await _posts(db) == []
    await anna.say(anna.choice("stimme zu"))
    assert "Ich erledige jetzt, worum Sie gebeten haben" in anna.text
    assert OFFER in anna.text
    await anna.say("/meine")
    assert OFFER in anna.text
    assert await _posts(db) == [("offer", OFFER)]


async def test_newcomer_search_is_posted_after_registration_in_the_chat(person, db):
    eva = person("eva@example.org")
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    assert "merke ich mir" in eva.text
    await _register_after(eva)
    assert "registriert" in eva.text and "Ich erledige jetzt" in eva.text
    assert await _posts(db) == [("request", "Erfahrungen mit einem Dorfladen")]


async def test_command_in_the_middle_of_registration_keeps_the_answers_given(person, db):
    eva = person("eva@example.org")
    await eva.say("/start")
    await eva.say("Eva Roth")
    await eva.say("Templin")
    assert "in welcher Funktion" in eva.text
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    # Kept for later, and the registration goes on at the question it was at.
    assert "merke ich mir" in eva.text and "Templin" in eva.text
    assert "Wie heißen Sie" not in eva.text
    await eva.say("/biete Unser Bürgerbus-Konzept")  # kept too
    await eva.say("/suche Erfahrungen mit einem Dorfladen")  # the same again: kept once
    await eva.say(eva.choice("Bürgermeister"))
    await eva.say(eva.choice("stimme zu"))
    assert "Willkommen, Eva Roth" in eva.text and "Ich erledige jetzt" in eva.text
    assert sorted(await _posts(db)) == [
        ("offer", "Unser Bürgerbus-Konzept"),
        ("request", "Erfahrungen mit einem Dorfladen"),
    ]


async def test_help_in_the_middle_of_registration_leaves_it_running(person, db):
    eva = person("eva@example.org")
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    await eva.say("Eva Roth")
    await eva.say("/hilfe")
    assert "/biete" in eva.text
    assert "Für welche Kommune" in eva.last[-1].text  # and the question it was at
    await eva.say("Templin")
    assert "in welcher Funktion" in eva.text


async def test_invited_member_s_second_command_before_consent_asks_for_consent_again(
    person, db, clock
):
    await _imported(db, clock, "anna@example.org")
    anna = person("anna@example.org")
    await anna.say("/suche Erfahrungen mit einem Dorfladen")
    await anna.say(f"/biete {OFFER}")
    assert "sobald Sie zugestimmt haben" in anna.text and "Stimmen Sie zu?" in anna.text
    await anna.say(anna.choice("stimme zu"))
    assert await _posts(db) == [("request", "Erfahrungen mit einem Dorfladen"), ("offer", OFFER)]


async def test_refused_consent_drops_the_pending_offer(person, db, clock):
    await _imported(db, clock, "anna@example.org")
    anna = person("anna@example.org")
    await anna.say(f"/biete {OFFER}")
    await anna.say("nein")
    assert "Ohne Ihre Zustimmung" in anna.text
    await anna.say("ja")  # no dialogue any more: a lone "ja" posts nothing
    assert await _posts(db) == []


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def test_imported_member_offer_by_mail_is_posted_after_the_yes(world, db, clock):
    anna = "anna.schmidt@prenzlau.example"
    await _imported(db, clock, anna)
    world.drop(mailclients.new_mail(anna, MAIL_FROM, f"BIETE {OFFER}", ""))
    await world.round()
    (privacy,) = world.new_mail_for(anna)
    assert "Datenschutz" in plain_text(privacy)
    world.drop(mailclients.gmail(privacy, anna, "Ja"))
    await world.round()
    answers = world.new_mail_for(anna)
    text = "\n".join(plain_text(m) for m in answers)
    assert "Ich erledige jetzt, worum Sie gebeten haben" in text and OFFER in text
    assert await _posts(db) == [("offer", OFFER)]


async def test_mistyped_command_offers_the_close_one_with_the_same_text(person, db):
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/bite Unser Dorfladen als Genossenschaft")
    assert "Meinten Sie /biete?" in anna.text
    await anna.say(anna.choice("/biete"))
    assert await _posts(db) == [("offer", "Unser Dorfladen als Genossenschaft")]
    await anna.say("/xyzzy")
    assert "kenne ich nicht" in anna.text and "Meinten" not in anna.text


async def test_staff_verification_tells_the_member(person, db, clock, world):
    anna = "anna.schmidt@prenzlau.example"
    await world.member("Anna Schmidt", anna)
    async with db.uow() as uow:
        member = await uow.members.by_email(anna)
        await members.verify(uow, member.id, None, clock())
        await members.verify(uow, member.id, None, clock())  # twice: told once
        await uow.commit()
    await world.round()
    (notice,) = world.new_mail_for(anna)
    assert "Registrierung bestätigt" in plain_text(notice)
    assert "ANTRAG" in plain_text(notice)


async def test_an_answer_to_another_question_is_not_taken_as_the_name(person, db):
    eva = person("eva@example.org")
    await eva.say("/start")
    await eva.say("Ja")  # as if agreeing to the welcome
    assert "„Ja“ halte ich nicht für einen Namen" in eva.text
    await eva.say("12")  # the number of a choice
    assert "Wie heißen Sie" in eva.text
    await eva.say("Eva Roth")
    assert "Danke, Eva Roth" in eva.text


async def test_a_kept_request_that_fails_does_not_undo_the_registration(person, db):
    eva = person("eva@example.org")
    await eva.say("/suche " + "Dorfladen " * 450)  # longer than a post may be
    await _register_after(eva)
    assert "registriert" in eva.text and "zu lang" in eva.text
    async with db.uow() as uow:
        member = await uow.members.by_email("eva@example.org")
        assert member is not None and member.consent_at is not None
    assert await _posts(db) == []
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    assert await _posts(db) == [("request", "Erfahrungen mit einem Dorfladen")]


async def test_data_export_asked_before_registration_is_given_after_it(person, db):
    eva = person("eva@example.org")
    await eva.say("/daten")
    await _register_after(eva)
    (attachment,) = [a for reply in eva.last for a in reply.attachments]
    data = json.loads(attachment.data)
    assert data["member"]["municipality"]["name"].startswith("Templin"), data["member"]


@pytest.mark.parametrize("answer", ["Ja, ich stimme zu", "Ja, gern", "JA!", "Einverstanden."])
async def test_consent_is_read_as_people_write_it(person, db, answer):
    eva = person("eva@example.org")
    await _up_to_consent(eva)
    await eva.say(answer)
    assert "Sie sind registriert" in eva.text, eva.text


async def test_an_unclear_consent_is_asked_again(person, db):
    eva = person("eva@example.org")
    await _up_to_consent(eva)
    await eva.say("Ich stimme nicht zu")
    assert "nicht verstanden" in eva.text
    async with db.uow() as uow:
        assert await uow.members.by_email("eva@example.org") is None


@pytest.mark.parametrize("answer", ["Ja, gern", "Nein danke", "Guten Tag", "1.", "ok"])
async def test_other_answers_are_not_taken_as_the_name(person, db, answer):
    eva = person("eva@example.org")
    await eva.say("/start")
    await eva.say(answer)
    assert "nicht für einen Namen" in eva.text, eva.text


async def test_start_or_a_new_chat_in_the_middle_goes_on_where_the_registration_was(
    person, db, assistant
):
    eva = person("eva@example.org")
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    await eva.say("Eva Roth")
    await eva.say("/start")
    assert "läuft bereits" in eva.text and "Für welche Kommune" in eva.text
    await eva.say("/verknuepfen")
    assert "läuft bereits" in eva.text
    await eva.say("/loeschen")
    assert "läuft bereits" in eva.text
    (greeting,) = await assistant.greet(eva.sender)  # the terminal chat opened again
    assert "Für welche Kommune" in greeting.text
    await eva.say("Templin")
    await eva.say(eva.choice("Bürgermeister"))
    await eva.say(eva.choice("stimme zu"))
    assert await _posts(db) == [("request", "Erfahrungen mit einem Dorfladen")]


async def test_invited_member_s_start_asks_for_consent(person, db, clock):
    await _imported(db, clock, "anna@example.org")
    anna = person("anna@example.org")
    await anna.say("/start")
    assert "Stimmen Sie zu?" in anna.text


async def test_a_mistyped_command_before_registering_is_taken_as_the_close_one(person, db):
    eva = person("eva@example.org")
    await _up_to_consent(eva)
    await eva.say("/suhce Erfahrungen mit einem Dorfladen")  # at the consent question
    assert "Sie meinten /suche" in eva.text and "merke ich mir" in eva.text
    assert "Stimmen Sie zu?" in eva.text
    await eva.say("Ja")
    assert await _posts(db) == [("request", "Erfahrungen mit einem Dorfladen")]
