"""Long lists page: five items, then "Weitere anzeigen", in the chat and by mail."""

from __future__ import annotations

import pytest

from core.exchange import posts as exchange
from core.kernel import paging
from core.kernel.errors import UserError
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

ANNA = "anna.schmidt@prenzlau.example"
TOPICS = [
    "Bürgerbus", "Dorfladen", "Mitfahrbank", "Pflegestützpunkt", "Jugendbeteiligung",
    "Leerstandskataster", "Ärztehaus", "Coworking", "Nachbarschaftshilfe", "Glasfaser",
    "Schulweg", "Repair-Café",
]  # fmt: skip


async def _many_posts(world) -> None:
    await world.member("Anna Schmidt", ANNA)
    async with world.db.uow() as uow:
        member = await uow.members.by_email(ANNA)
        for topic in TOPICS:
            await exchange.create_post(
                uow,
                world.assistant.services.index,
                member,
                exchange.NewPost(kind="offer", title=f"Unser Konzept: {topic}", body=""),
                world.clock(),
            )
        await uow.commit()


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def test_meine_in_the_chat_pages_by_five(world, person):
    await _many_posts(world)
    anna = person(ANNA)
    await anna.say("/meine")
    items = [r for r in anna.last if r.ref]
    assert len(items) == 5 and "Ihre Beiträge (12)" in anna.text
    assert "7 weitere Einträge" in anna.text
    await anna.say(anna.choice("Weitere anzeigen"))
    assert len([r for r in anna.last if r.ref]) == 5 and "Seite 2" in anna.text
    await anna.say(anna.choice("Weitere anzeigen"))
    assert len([r for r in anna.last if r.ref]) == 2 and "Weitere anzeigen" not in anna.text
    await anna.say("/meine zwei")
    assert "keine Seitenzahl" in anna.text


async def test_meine_by_mail_lists_five_and_the_reply_word_shows_more(world):
    await _many_posts(world)
    world.drop(mailclients.new_mail(ANNA, MAIL_FROM, "MEINE", ""))
    await world.round()
    (first,) = world.new_mail_for(ANNA)
    text = plain_text(first)
    assert "5) " in text and "6) " not in text  # never "[1984] Ändern"
    assert "Weitere anzeigen (Antwort: MEINE)" in text
    world.drop(mailclients.gmail(first, ANNA, "MEINE"))
    await world.round()
    (second,) = world.new_mail_for(ANNA)
    assert "Seite 2" in plain_text(second) and "Unser Konzept: Leerstandskataster" in plain_text(
        second
    )


def test_pages_and_page_numbers():
    shown = paging.page(list(range(12)), 3)
    assert (list(shown.items), shown.remaining) == ([10, 11], 0)
    assert paging.page(list(range(12)), 99).number == 3  # past the end: the last page
    assert paging.page([], 1).items == [] and paging.page([], 1).more("meine") is None
    assert paging.page_number("") == 1 and paging.page_number(" 2 ") == 2
    for bad in ("0", "-1", "x", "99999999999"):
        with pytest.raises(UserError):
            paging.page_number(bad)


async def test_treffer_pages_the_proposals(world, person):
    anna = person(ANNA)
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/suche Erfahrungen mit einem Bürgerbus im ländlichen Raum")
    ben = person("ben@goerlitz.example")
    await ben.register("Ben Wagner", "Görlitz")
    for n in range(1, 8):
        await ben.say(f"/biete Bürgerbus im ländlichen Raum: unsere Erfahrungen, Teil {n}")
    await anna.say("/treffer")
    first = [r for r in anna.last if r.ref]
    assert len(first) == 5 and "Weitere anzeigen" in [c.label for r in anna.last for c in r.choices]
    await anna.say(anna.choice("Weitere anzeigen"))
    second = [r for r in anna.last if r.ref]
    assert second and "Seite 2" in anna.text
    assert not {r.ref for r in first} & {r.ref for r in second}
