"""Seminars link their recording and slides from the knowledge collection: members see
them in /termine and get the file; who was registered hears once when material arrives
after the event; staff link from the command line."""

from __future__ import annotations

import pytest

from core.events import material
from core.kernel.errors import UserError
from core.knowledge import entries
from tests.eventkit import BERLIN, add_event, add_people, berlin, outbox, register
from tests.knowledge_files import pdf_bytes

SLIDES = pdf_bytes("Folien Daseinsvorsorge", ["Nahversorgung im ländlichen Raum sichern."])


async def _entry(db, services, clock, **fields) -> int:
    async with db.uow() as uow:
        entry = await entries.add_entry(
            uow, services.knowledge, entries.NewEntry(**fields), clock()
        )
        return entry.id


async def _link(db, clock, event_id: int, entry_id: int) -> int:
    async with db.uow() as uow:
        _, _, told = await material.link(uow, event_id, entry_id, clock(), BERLIN)
        await uow.commit()
    return told


async def test_recording_and_slides_reach_members_and_past_participants_once(
    db, services, clock, person
):
    event_id = await add_event(
        db, clock.now, starts_at=berlin(2026, 11, 10, 10, 0), ends_at=berlin(2026, 11, 10, 12, 0)
    )
    registered = await add_people(db, clock.now, 2)
    await register(db, registered, event_id, clock.now)
    slides = await _entry(
        db, services, clock, title="Folien Daseinsvorsorge", kind="aufzeichnung",
        file_name="folien.pdf", data=SLIDES,
    )  # fmt: skip
    recording = await _entry(
        db, services, clock, title="Aufzeichnung Daseinsvorsorge", kind="aufzeichnung",
        link="https://video.example/daseinsvorsorge",
    )  # fmt: skip

    # Slides before the seminar: shown with the event, nobody is messaged.
    assert await _link(db, clock, event_id, slides) == 0
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/termine")
    assert "Aufzeichnung: „Folien Daseinsvorsorge“" in anna.text
    await anna.say(anna.choice("Aufzeichnung erhalten"))
    [file] = anna.last[0].attachments
    assert file.data == SLIDES and file.filename == "folien.pdf"
    assert not await outbox(db, "event_material")

    # After the seminar the recording is linked: both who were registered hear once.
    clock.now = berlin(2026, 11, 12, 9, 0).astimezone(clock.now.tzinfo)
    assert await _link(db, clock, event_id, recording) == 2
    told = await outbox(db, "event_material")
    assert len(told) == 2 and {m.member_id for m in told} == set(registered)
    assert (
        "Zum Termin „Online-Seminar Daseinsvorsorge“ (Di., 10.11.2026, 10:00 Uhr)" in told[0].text
    )
    assert "Aufzeichnung: „Aufzeichnung Daseinsvorsorge“ – https://video.example/" in told[0].text
    with pytest.raises(UserError, match="gehört bereits"):
        await _link(db, clock, event_id, recording)
    async with db.uow() as uow:
        await material.unlink(uow, event_id, recording)
        await uow.commit()
    assert await _link(db, clock, event_id, recording) == 0  # told before: not again
    assert len(await outbox(db, "event_material")) == 2

    # The seminar is over: /termine still shows it among the past ones with its material.
    await anna.say("/termine")
    assert "Vergangene Termine mit Aufzeichnung oder Material (1)" in anna.text
    assert "Aufzeichnung: „Aufzeichnung Daseinsvorsorge“ – https://video.example/" in anna.text
    assert "Folien Daseinsvorsorge" in anna.text


async def test_only_published_entries_and_known_events_can_be_linked(db, services, clock):
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    draft = await _entry(
        db, services, clock, title="Entwurf", link="https://example.org/e", status="draft"
    )
    with pytest.raises(UserError, match=r"nicht \(mehr\) veröffentlicht"):
        await _link(db, clock, event_id, draft)
    with pytest.raises(UserError, match="Eintrag 999"):
        await _link(db, clock, event_id, 999)
    with pytest.raises(UserError, match=r"Termin Nr\. 998"):
        await _link(db, clock, 998, draft)


def test_staff_link_from_the_command_line(cli, tmp_path):
    (tmp_path / "folien.pdf").write_bytes(SLIDES)
    added = cli("knowledge", "add", "--file", "folien.pdf", "--kind", "aufzeichnung")
    assert added.returncode == 0, added.stderr
    event = cli(
        "events", "add", "--title", "Online-Seminar Nahversorgung", "--start", "2030-03-01 10:00"
    )
    assert event.returncode == 0, event.stderr
    linked = cli("events", "link", "1", "--entry", "1")
    assert linked.returncode == 0, linked.stderr
    assert (
        "Eintrag 1 (folien) gehört jetzt zu Termin 1 (Online-Seminar Nahversorgung)."
        in linked.stdout
    )
    again = cli("events", "link", "1", "--entry", "1")
    assert again.returncode != 0 and "gehört bereits" in again.stdout + again.stderr
    assert "Traceback" not in again.stderr
    missing = cli("events", "link", "1", "--entry", "7")
    assert missing.returncode != 0 and "Eintrag 7 gibt es" in missing.stdout + missing.stderr
    unlinked = cli("events", "unlink", "1", "--entry", "1")
    assert unlinked.returncode == 0 and "gehört nicht mehr zu Termin 1" in unlinked.stdout
