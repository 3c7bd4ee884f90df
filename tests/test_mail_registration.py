"""Registration by mail in one reply: a stranger's first mail, a prefilled form, done.

Through the real mail pipeline (Maildir in, parse, core, outbox, dispatcher, Maildir out).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.members.registration_hints import hints_for, person_name
from core.municipalities.directory import bundled_index
from core.store.models import InboundMail, Match, Member, Post
from mail.replies import extract_signature
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from tests.support.mailclients import plain_text

EVA = "eva.roth@rathaus-post.example"
SEARCH = "SUCHE Erfahrungen mit einem Dorfladen"
SIGNATURE = (
    "Mit freundlichen Grüßen\nEva Roth\nBürgermeisterin\nStadt Templin\nMarktplatz 1\n17268 Templin"
)


@pytest.fixture
def world(db, assistant, clock, tmp_path):
    return MailWorld(db, assistant, clock, tmp_path)


async def _offer_of_a_village_shop(world) -> None:
    await world.member("Anna Schmidt", "anna@prenzlau.example")
    await world.say(
        "anna@prenzlau.example",
        "/biete Unser genossenschaftlicher Dorfladen: Erfahrungen aus fünf Jahren Dorfladen",
    )


async def _state(db):
    async with db.uow() as uow:
        member = (await uow.session.scalars(select(Member).where(Member.email == EVA))).first()
        posts = (await uow.session.scalars(select(Post).where(Post.kind == "request"))).all()
        proposals = (await uow.session.scalars(select(Match))).all()
        return member, posts, proposals


def _form_lines(mail) -> dict[str, str]:
    lines = {}
    for line in plain_text(mail).splitlines():
        label, colon, value = line.partition(":")
        if colon and label in ("Name", "Kommune", "Rolle", "Einverstanden"):
            lines[label] = value.strip()
    return lines


async def test_stranger_search_is_posted_and_matched_after_one_filled_form(world, db):
    await _offer_of_a_village_shop(world)
    world.drop(
        mailclients.new_mail(
            mailclients.address("Eva Roth", EVA), MAIL_FROM, SEARCH, f"Hallo,\n\n{SIGNATURE}"
        )
    )
    await world.round()
    (form,) = world.new_mail_for(EVA)  # reply 1
    text = plain_text(form)
    assert "Ihr Anliegen habe ich mir gemerkt" in text
    lines = _form_lines(form)
    assert lines["Name"] == "Eva Roth"
    assert lines["Kommune"].startswith("Templin (Stadt)")  # postcode and town of the signature
    assert lines["Rolle"] == "Bürgermeisterin oder Bürgermeister"
    assert lines["Einverstanden"] == ""
    assert "Wie heißen Sie" not in text and "/daten" not in text and "Mit DATEN" in text
    assert (await _state(db))[0] is None

    # The person confirms the proposals and agrees: a plain "Ja" above the quoted form.
    world.drop(mailclients.gmail(form, EVA, "Einverstanden: Ja"))
    await world.round()
    (done,) = world.new_mail_for(EVA)  # reply 2
    text = plain_text(done)
    assert "Sie sind registriert" in text and "Dorfladen" in text
    member, posts, proposals = await _state(db)
    assert member.name == "Eva Roth" and member.municipality_ags == "12073572"
    assert member.role == "mayor" and member.consent_at is not None
    assert [p.title for p in posts] == ["Erfahrungen mit einem Dorfladen"]
    assert [p.request_id for p in proposals] == [posts[0].id]  # matched with Anna's offer
    async with db.uow() as uow:
        statuses = list(await uow.session.scalars(select(InboundMail.status)))
    assert statuses == ["done", "done"]


async def test_form_filled_by_hand_without_any_hint(world, db):
    stranger = "kontakt@irgendwo.example"
    world.drop(mailclients.new_mail(stranger, MAIL_FROM, "Frage", "Ich möchte mitmachen."))
    await world.round()
    (form,) = world.new_mail_for(stranger)
    assert _form_lines(form) == {"Name": "", "Kommune": "", "Rolle": "", "Einverstanden": ""}
    answer = "Name: Karl Huber\nKommune: Prenzlau\nRolle: Ehrenamt\nEinverstanden: ja"
    world.drop(mailclients.outlook(form, stranger, answer))
    await world.round()
    (done,) = world.new_mail_for(stranger)
    assert "Willkommen, Karl Huber" in plain_text(done)
    async with db.uow() as uow:
        member = await uow.members.by_email(stranger)
    assert (member.role, member.municipality_ags) == ("volunteer", "12073452")


@pytest.mark.parametrize(
    ("body", "town"),
    [
        # No "-- " line: the signature starts at the closing greeting.
        (
            "Hallo,\n\nwir suchen Erfahrungen mit einem Dorfladen.\n\n"
            "Mit freundlichen Grüßen\nErika Muster\nBürgermeisterin der Stadt Templin",
            "Templin (Stadt)",
        ),
        (
            "Guten Tag,\nwir planen einen Dorfladen.\n\nMfG\n\nErika Muster\n"
            "Kämmerin der Stadt Templin, Marktplatz 1",
            "Templin (Stadt)",
        ),
        # A whole signature block, longer than a short sign-off.
        (
            "Hallo,\nwir planen einen Dorfladen.\n\nViele Grüße\nErika Muster\n"
            "Bürgermeisterin\nStadt Templin\nMarktplatz 1\n"
            "Telefon 03987 123\nFax 03987 124\nerika.muster@templin.example\n"
            "www.templin.example\nSprechzeiten: Di 9-12 Uhr",
            "Templin (Stadt)",
        ),
        # A municipality in the mail's text is no signature.
        (
            "Hallo,\nwie die Stadt Templin suchen wir Erfahrungen mit einem Dorfladen.\n\n"
            "Beste Grüße\nErika Muster",
            "",
        ),
        ("Hallo,\nwie die Stadt Templin suchen wir Erfahrungen.\nErika Muster", ""),
    ],
    ids=["office-line", "mfg-comma", "long-block", "body-mention", "no-greeting"],
)
async def test_the_form_takes_the_municipality_from_a_signature_after_a_greeting(world, body, town):
    stranger = "erika.muster@rathaus-post.example"
    world.drop(mailclients.new_mail(stranger, MAIL_FROM, SEARCH, body))
    await world.round()
    (form,) = world.new_mail_for(stranger)
    lines = _form_lines(form)
    assert lines["Kommune"].startswith(town) if town else lines["Kommune"] == "", lines
    assert lines["Name"] == ("Erika Muster" if "Grüße" in body or "MfG" in body else "")


async def test_second_mail_asks_only_what_is_unclear(world, db):
    stranger = "kontakt@irgendwo.example"
    world.drop(mailclients.new_mail(stranger, MAIL_FROM, SEARCH, ""))
    await world.round()
    (form,) = world.new_mail_for(stranger)
    answer = "Name: Karl Huber\nKommune: Dür\nRolle: Verwaltung\nJa"
    world.drop(mailclients.gmail(form, stranger, answer))
    await world.round()
    (again,) = world.new_mail_for(stranger)
    text = plain_text(again)
    assert "Es fehlt noch: Ihre Kommune." in text and "passen mehrere Kommunen" in text
    assert "Name:" not in text and "Einverstanden:" not in text  # known: not asked again
    number = next(
        line.split(".")[0].strip() for line in text.splitlines() if "Kreis Düren," in line
    )
    world.drop(mailclients.apple(again, stranger, number))
    await world.round()
    (done,) = world.new_mail_for(stranger)
    assert "Sie sind registriert" in plain_text(done)
    async with db.uow() as uow:
        member = await uow.members.by_email(stranger)
        posts = (await uow.session.scalars(select(Post))).all()
    assert member.municipality_ags == "05358" and member.role == "municipal_staff"
    assert [p.title for p in posts] == ["Erfahrungen mit einem Dorfladen"]


async def test_no_to_the_privacy_notice_registers_nothing(world, db):
    stranger = "kontakt@irgendwo.example"
    world.drop(mailclients.new_mail(stranger, MAIL_FROM, SEARCH, ""))
    await world.round()
    (form,) = world.new_mail_for(stranger)
    answer = "Name: Karl Huber\nKommune: Prenzlau\nRolle: Ehrenamt\nEinverstanden: Nein"
    world.drop(mailclients.gmail(form, stranger, answer))
    await world.round()
    (refused,) = world.new_mail_for(stranger)
    assert "Ohne Ihre Zustimmung" in plain_text(refused)
    async with db.uow() as uow:
        assert await uow.members.by_email(stranger) is None
        assert (await uow.session.scalars(select(Post))).all() == []


def test_hints_come_from_display_name_signature_and_domain():
    index = bundled_index()
    signature = extract_signature(f"Hallo,\n\n{SIGNATURE}\n\n> quoted text")
    hints = hints_for(index, "e@gmail.com", "roth, eva", signature)
    assert (hints.name, hints.municipality.ags, hints.role) == ("Eva Roth", "12073572", "mayor")
    by_domain = hints_for(index, "info@stadt-prenzlau.de", "Rathaus", "")
    assert by_domain.name is None and by_domain.municipality.ags == "12073452"
    assert hints_for(index, "info@kreis-dueren.de", "", "").municipality.ags == "05358"
    # Free mail domains and unclear names propose nothing.
    assert hints_for(index, "dorf@web.de", "info", "").municipality is None
    assert hints_for(index, "x@neustadt.de", "", "").municipality is None
    # A name with a parenthesis, in the line of an office, after a plain greeting.
    signature = extract_signature(
        "Hallo,\n\nMit freundlichen Grüßen\nErika Muster\n"
        "Bürgermeisterin der Gemeinde Lindow (Mark)"
    )
    hints = hints_for(index, "e@web.de", "", signature)
    assert (hints.name, hints.municipality.ags, hints.role) == ("Erika Muster", "12068280", "mayor")
    for not_a_name in ("Stadt Templin", "Viele Grüße", "info@x.de", "eva", "Bürgermeisterin Roth"):
        assert person_name(not_a_name) is None, not_a_name


async def test_hostile_form_values_register_nobody_and_never_staff(world, db):
    stranger = "kontakt@irgendwo.example"
    world.drop(mailclients.new_mail(stranger, MAIL_FROM, "Hallo", "Hallo"))
    await world.round()
    (form,) = world.new_mail_for(stranger)
    answers = [
        "Name: Karl Huber\nKommune: Prenzlau\nRolle: network_staff\nEinverstanden: Ja",
        "Name: " + "x" * 500 + "\nKommune: 99999999\nEinverstanden: Ja",
    ]
    replies = []
    for answer in answers:
        world.drop(mailclients.gmail(form, stranger, answer))
        await world.round()
        replies += [plain_text(m) for m in world.new_mail_for(stranger)]
    assert "Die Rolle „network_staff“ kenne ich nicht" in replies[0]
    assert "zu lang" in replies[1] and "keine Kommune gefunden" in replies[1]
    async with db.uow() as uow:
        assert await uow.members.by_email(stranger) is None


def test_a_postcode_with_its_town_in_the_form_names_one_municipality():
    """ "16835 Lindow (Mark)": the postcode alone has several municipalities, with the town's
    name it has one (before, the member had to pick from a list)."""
    from types import SimpleNamespace

    from core.members.registration_form import _town
    from core.municipalities.directory import bundled_index

    ctx = SimpleNamespace(services=SimpleNamespace(municipalities=bundled_index()))
    town, unclear = _town(ctx, "16835")
    assert town is None and len(unclear.choices) > 1
    town, unclear = _town(ctx, "16835 Lindow (Mark)")
    assert unclear is None and town.short_name.startswith("Lindow")
    town, unclear = _town(ctx, "Lindow (Mark), 16835")
    assert unclear is None and town.short_name.startswith("Lindow")


@pytest.mark.parametrize(
    ("line", "ags"),
    [
        ("Stadt Templin", "12073572"),
        ("Amt für Wirtschaft der Stadt Templin", "12073572"),
        ("Kämmerin der Stadt Templin, Marktplatz 1", "12073572"),
        ("PS: wie die Stadt Templin", None),
        ("PS: Bürgermeisterin der Stadt Templin", None),
        ("Ich arbeite bei der Stadt Templin", None),
        ("Wir grüßen alle Kolleginnen der Stadt Templin", None),
    ],
)
def test_a_designation_names_the_municipality_only_in_a_signature_line(line, ags):
    signature = extract_signature(f"Hallo,\n\nMit freundlichen Grüßen\nErika Muster\n{line}")
    found = hints_for(bundled_index(), "e@web.de", "", signature).municipality
    assert (found.ags if found else None) == ags


async def test_a_command_in_a_reply_to_the_form_is_kept_beside_the_first(world, db):
    world.drop(
        mailclients.new_mail(
            mailclients.address("Eva Roth", EVA), MAIL_FROM, SEARCH, f"Hallo,\n\n{SIGNATURE}"
        )
    )
    await world.round()
    (form,) = world.new_mail_for(EVA)
    world.drop(mailclients.gmail(form, EVA, "BIETE Unser Bürgerbus-Konzept"))
    await world.round()
    (again,) = world.new_mail_for(EVA)  # what was known stays filled in
    lines = _form_lines(again)
    assert lines["Name"] == "Eva Roth" and lines["Kommune"].startswith("Templin (Stadt)")
    world.drop(mailclients.gmail(again, EVA, "Einverstanden: Ja"))
    await world.round()
    (done,) = world.new_mail_for(EVA)
    text = plain_text(done)
    assert "Sie sind registriert" in text
    assert "„Erfahrungen mit einem Dorfladen“ ist veröffentlicht" in text
    assert "„Unser Bürgerbus-Konzept“ ist veröffentlicht" in text
