"""The knowledge collection by email: WISSEN … is answered with the entries and the best
one's file attached; a file over the mail limit is offered as its link instead."""

from __future__ import annotations

from datetime import timedelta

from core.kernel.context import Sender
from core.knowledge.feature import staff_section
from core.knowledge.files import content_hash
from tests.email_world import MAIL_FROM, MailWorld
from tests.knowledge_files import GUIDES, import_collection, pdf_bytes
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


def _with_files(subject: str, body: str, files: list[tuple[str, str, bytes]]) -> bytes:
    """A new mail from Anna with attachments (name, media type, bytes)."""
    message = mailclients.parse(
        mailclients.new_mail(mailclients.address("Anna Schmidt", ANNA), MAIL_FROM, subject, body)
    )
    for name, media_type, data in files:
        main, sub = media_type.split("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return message.as_bytes()


async def test_a_suggestion_by_mail_with_its_file_waits_for_the_staff(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await world.member("Anna Schmidt", ANNA)
    await world.member("Greta Stab", "greta@zukunftsraum.example", role="network_staff")
    guide = pdf_bytes(
        "Leitfaden Dorfladen",
        ["Wie unsere Gemeinde einen genossenschaftlichen Dorfladen gegründet hat."],
    )
    world.drop(
        _with_files(
            "WISSEN_VORSCHLAGEN Leitfaden Dorfladen",
            "So haben wir es gemacht.",
            [("dorfladen.pdf", "application/pdf", guide)],
        )
    )
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert (
        "Ihr Vorschlag „Leitfaden Dorfladen“" in text
        and "liegt jetzt der Geschäftsstelle vor" in text
    )
    assert "Anhänge kann ich nicht verarbeiten" not in text
    [entry] = [e for e in await _entries(db) if e.file_name == "dorfladen.pdf"]
    assert entry.status == "draft" and entry.suggested_by is not None
    assert (
        entry.file_sha256 == content_hash(guide) and "genossenschaftlichen Dorfladen" in entry.text
    )
    assert services.knowledge.files.read(entry.file_sha256) == guide
    assert entry.summary == "So haben wir es gemacht."

    # The staff see it waiting, in the chat and in their digest, and can open the file.
    staff = Sender("terminal", "greta@zukunftsraum.example")
    shown = "\n".join(r.text for r in await assistant.handle(staff, "/wissen_offen"))
    assert "Leitfaden Dorfladen" in shown and "Datei: dorfladen.pdf" in shown
    [sent] = await assistant.handle(staff, f"/wissen_datei {entry.id}")
    assert sent.attachments[0].data == guide
    async with db.uow() as uow:
        section = await staff_section(uow, clock() - timedelta(days=1), clock(), services.tz)
    assert "Offene Vorschläge von Mitgliedern: 1" in "\n".join(section.lines)
    # Members do not get a file that is not published.
    [refused] = await assistant.handle(Sender("email", ANNA), f"/wissen_datei {entry.id}")
    assert "nicht (mehr) veröffentlicht" in refused.text and not refused.attachments


async def test_suggested_files_that_cannot_be_taken_are_answered_in_german(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await world.member("Anna Schmidt", ANNA)
    guide = pdf_bytes("Checkliste Bürgerbus", ["Fahrerinnen und Fahrer gewinnen."])
    world.drop(
        _with_files(
            "Vorschlag",
            "wissen_vorschlagen",
            [
                ("programm.exe", "application/octet-stream", b"MZ\x90\x00binary"),
                ("kaputt.pdf", "application/pdf", b"%PDF-1.4 nothing more"),
                ("buergerbus.pdf", "application/pdf", guide),
            ],
        )
    )
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "„programm.exe“ konnte ich nicht übernehmen: Das Format „.exe“" in text
    assert "„kaputt.pdf“ konnte ich nicht übernehmen: Die Datei ist kein lesbares PDF" in text
    assert "Ihr Vorschlag „buergerbus“" in text
    assert [e.file_name for e in await _entries(db)] == ["buergerbus.pdf"]

    # The same file again, and a file over the mail limit: nothing is stored.
    services.knowledge.mail_attachment_bytes = 1_000
    big = pdf_bytes("Studie Nahversorgung", ["Läden im ländlichen Raum. " * 200])
    assert len(big) > 1_000
    world.drop(
        _with_files(
            "WISSEN_VORSCHLAGEN",
            "",
            [("studie.pdf", "application/pdf", big)],
        )
    )
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "„studie.pdf“ konnte ich nicht übernehmen: Die Datei ist" in text
    assert "höchstens 0,0 MB" in text and "So schlagen Sie einen Eintrag vor" in text
    services.knowledge.mail_attachment_bytes = 10 * 1024 * 1024
    world.drop(_with_files("WISSEN_VORSCHLAGEN", "", [("again.pdf", "application/pdf", guide)]))
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "schon in der Wissenssammlung" in text
    assert [e.file_name for e in await _entries(db)] == ["buergerbus.pdf"]


async def test_attachments_of_other_commands_are_still_not_taken(db, assistant, clock, tmp_path):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await world.member("Anna Schmidt", ANNA)
    world.drop(_with_files("MEINE", "", [("notiz.txt", "text/plain", b"Notiz")]))
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "Anhänge kann ich nicht verarbeiten" in text
    assert not await _entries(db)


async def test_a_strangers_suggestion_keeps_its_file_through_the_registration(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    stranger = "kontakt@irgendwo.example"
    guide = pdf_bytes("Dorfgemeinschaftshaus", ["Wie wir unser Dorfgemeinschaftshaus betreiben."])
    message = mailclients.parse(
        mailclients.new_mail(stranger, MAIL_FROM, "WISSEN_VORSCHLAGEN Dorfgemeinschaftshaus", "")
    )
    message.add_attachment(guide, maintype="application", subtype="pdf", filename="haus.pdf")
    world.drop(message.as_bytes())
    await world.round()
    (form,) = world.new_mail_for(stranger)
    text = plain_text(form)
    assert "Ihr Anliegen habe ich mir gemerkt" in text
    assert "Anhänge kann ich nicht verarbeiten" not in text
    assert await _entries(db) == []

    answer = "Name: Karl Huber\nKommune: Prenzlau\nRolle: Ehrenamt\nEinverstanden: ja"
    world.drop(mailclients.outlook(form, stranger, answer))
    await world.round()
    (done,) = world.new_mail_for(stranger)
    text = plain_text(done)
    assert "Willkommen, Karl Huber" in text
    assert "Ihr Vorschlag „Dorfgemeinschaftshaus“" in text
    assert "braucht einen Link oder eine Datei" not in text
    [entry] = await _entries(db)
    assert entry.status == "draft" and entry.file_name == "haus.pdf"
    assert entry.file_sha256 == content_hash(guide) and "Dorfgemeinschaftshaus" in entry.text
    assert services.knowledge.files.read(entry.file_sha256) == guide


async def test_attachment_names_are_cleaned_of_folders_and_undecodable_bytes(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await world.member("Anna Schmidt", ANNA)
    guide = pdf_bytes("Dorfladen", ["Wie wir den Dorfladen gegründet haben."])
    raw = _with_files("WISSEN_VORSCHLAGEN", "", [("PLATZHALTER.pdf", "application/pdf", guide)])
    assert raw.count(b"PLATZHALTER.pdf") == 1
    world.drop(raw.replace(b"PLATZHALTER.pdf", b"..\\..\\x\xe4\xff.pdf"))
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "Ihr Vorschlag „x“" in text
    assert "\\" not in text and "\ufffd" not in text
    [entry] = await _entries(db)
    assert (entry.title, entry.file_name) == ("x", "x.pdf")


async def test_many_attachments_give_at_most_five_suggestions_and_one_answer(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await world.member("Anna Schmidt", ANNA)
    files = [
        (f"bericht-{n:02}.txt", "text/plain", f"Bericht {n} über die Dorfentwicklung.".encode())
        for n in range(1, 21)
    ]
    world.drop(_with_files("WISSEN_VORSCHLAGEN Dorfentwicklung", "Unsere Berichte.", files))
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    stored = await _entries(db)
    assert sorted(e.title for e in stored) == [
        f"Dorfentwicklung (bericht-{n:02})" for n in range(1, 6)
    ]
    assert text.count("Vielen Dank") == 1 and "Ihre 5 Vorschläge liegen" in text
    assert all(f"„Dorfentwicklung (bericht-{n:02})“ (Nr. " in text for n in range(1, 6))
    assert "nicht übernommen (15 Dateien): „bericht-06.txt“" in text
    assert "„bericht-10.txt“ und 10 weitere." in text and "bericht-11" not in text


async def test_a_single_attachment_takes_the_subjects_title(
    db, assistant, services, clock, tmp_path
):
    world = MailWorld(db, assistant, clock, tmp_path / "mail")
    await world.member("Anna Schmidt", ANNA)
    world.drop(
        _with_files(
            "WISSEN_VORSCHLAGEN Bericht Dorfentwicklung",
            "",
            [("scan_0001.txt", "text/plain", b"Bericht zur Dorfentwicklung.")],
        )
    )
    await world.round()
    text = plain_text(world.new_mail_for(ANNA)[0])
    assert "Ihr Vorschlag „Bericht Dorfentwicklung“" in text
    [entry] = await _entries(db)
    assert (entry.title, entry.file_name) == ("Bericht Dorfentwicklung", "scan_0001.txt")
