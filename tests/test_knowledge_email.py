"""The knowledge collection by email: WISSEN … is answered with the entries and the best
one's file attached; a file over the mail limit is offered as its link instead."""

from __future__ import annotations

from tests.email_world import MAIL_FROM, MailWorld
from tests.knowledge_files import GUIDES, import_collection
from tests.support import mailclients
from tests.support.mailclients import plain_text

ANNA = "anna.schmidt@prenzlau.example"


def _attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


async def test_wissen_mitfahrbank_is_answered_with_the_entry_and_its_file(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await import_collection(db, services.knowledge, tmp_path / "docs", clock)
    await world.member("Anna Schmidt", ANNA)
    world.drop(
        mailclients.new_mail(
            mailclients.address("Anna Schmidt", ANNA), MAIL_FROM, "WISSEN Mitfahrbank", ""
        )
    )
    await world.round()
    [answer] = world.new_mail_for(ANNA)
    text = plain_text(answer)
    assert "zu „Mitfahrbank“ gefunden" in text
    assert text.index("Checkliste Mitfahrbank") < text.index("Leitfaden Bürgerbus")
    assert "Link: https://example.org/mitfahrbank" in text
    assert "Checkliste, 01.03.2026" in text
    files = _attachments(answer)
    assert files == {"mitfahrbank.pdf": (tmp_path / "docs" / "mitfahrbank.pdf").read_bytes()}
    assert set(GUIDES) >= set(files)
    # The mail numbers its items once ("1) Checkliste …", not "1) 1. Checkliste …"), and the
    # file attached to this very mail is not offered again; the others' files are.
    assert "1) Checkliste Mitfahrbank" in text and "1) 1." not in text
    assert "Datei zu 1 senden" not in text and "Datei zu 2 senden" in text


async def test_empty_and_vain_searches_by_mail_and_the_mail_size_limit(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await import_collection(db, services.knowledge, tmp_path / "docs", clock)
    await world.member("Anna Schmidt", ANNA)
    sender = mailclients.address("Anna Schmidt", ANNA)
    world.drop(mailclients.new_mail(sender, MAIL_FROM, "WISSEN", ""))
    await world.round()
    assert "Wonach möchten Sie suchen?" in plain_text(world.new_mail_for(ANNA)[0])

    services.knowledge.mail_attachment_bytes = 1_000  # smaller than every guide
    world.drop(mailclients.new_mail(sender, MAIL_FROM, "WISSEN Mitfahrbank", ""))
    await world.round()
    [answer] = world.new_mail_for(ANNA)
    assert not _attachments(answer)
    entry_id = next(e.id for e in await _entries(db) if e.file_name == "mitfahrbank.pdf")
    world.drop(mailclients.new_mail(sender, MAIL_FROM, f"WISSEN_DATEI {entry_id}", ""))
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "zu groß für diesen Weg" in text and "https://example.org/mitfahrbank" in text


async def _entries(db):
    async with db.uow() as uow:
        return await uow.knowledge.listing()
