"""The knowledge collection inside the assistant: entries beside new matches, in the
member digest and the staff digest; suggestions, their decision, /daten and /loeschen."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from sqlalchemy import select

from core.digests.members import sweep_member_digests
from core.digests.schedule import DigestSchedule
from core.kernel.context import Sender
from core.kernel.kept import parked_files
from core.kernel.replies import IncomingFile
from core.knowledge import entries
from core.knowledge.feature import staff_section
from core.store.models import KnowledgeEntry, OutboxMessage
from tests.eventkit import BERLIN, add_people

SCHEDULE = DigestSchedule(tz=BERLIN)
GUIDE = entries.NewEntry(
    title="Leitfaden Bürgerbus",
    summary="So gründen Sie einen Bürgerbusverein mit ehrenamtlichen Fahrerinnen und Fahrern",
    kind="leitfaden",
    topics=["Mobilität"],
    link="https://example.org/buergerbus",
)


async def _add(db, services, clock, new: entries.NewEntry) -> KnowledgeEntry:
    async with db.uow() as uow:
        return await entries.add_entry(uow, services.knowledge, new, clock())


async def _outbox(db) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_new_proposal_names_fitting_entries(db, services, clock, person):
    await _add(db, services, clock, GUIDE)
    anna, ben = person("anna@prenzlau.example"), person("ben@zschopau.example")
    await anna.register("Anna Schmidt", "Prenzlau")
    await ben.register("Ben Wagner", "Zschopau")
    await anna.say("/biete Unser Bürgerbus-Konzept für Senioren im ländlichen Raum")
    await ben.say("/suche Erfahrungen mit einem Bürgerbus für ältere Menschen")
    assert "Passende Beiträge" in ben.text or "Vielleicht passend" in ben.text
    assert "Passend dazu in der Wissenssammlung: „Leitfaden Bürgerbus“ (Leitfaden, " in ben.text
    assert "https://example.org/buergerbus" in ben.text

    await anna.say("/suche Jemand mit Erfahrung beim Glasfaserausbau im Außenbereich?")
    assert "Wissenssammlung" not in anna.text  # nothing matched, nothing named


async def test_the_other_side_of_a_proposal_also_hears_of_fitting_entries(
    db, services, clock, person
):
    await _add(db, services, clock, GUIDE)
    anna, ben = person("anna@prenzlau.example"), person("ben@zschopau.example")
    await anna.register("Anna Schmidt", "Prenzlau")
    await ben.register("Ben Wagner", "Zschopau")
    await anna.say("/biete Bürgerbus: Konzept mit ehrenamtlichen Fahrerinnen und Fahrern")
    await ben.say("/suche Bürgerbus: Konzept mit ehrenamtlichen Fahrerinnen und Fahrern gesucht")
    assert "Passende Beiträge" in ben.text
    # Anna is asked through the outbox; her proposal names the entry that fits her post.
    [asked] = [m for m in await _outbox(db) if m.kind == "match_proposal"]
    assert asked.address == "anna@prenzlau.example"
    assert "Passend dazu in der Wissenssammlung: „Leitfaden Bürgerbus“" in asked.text
    assert asked.choices  # still the proposal with its yes and no


async def test_member_digest_has_new_fitting_entries_and_staff_digest_vain_searches(
    db, services, clock, person
):
    anna = person("anna@prenzlau.example")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/suche Wie organisieren andere Gemeinden einen Bürgerbus?")
    await anna.say("/einstellungen zusammenfassung taeglich")
    clock.advance(hours=2)
    await _add(db, services, clock, GUIDE)
    await _add(
        db,
        services,
        clock,
        entries.NewEntry(
            title="Studie Glasfaser", summary="Breitband in Dörfern", link="https://example.org/g"
        ),
    )
    clock.advance(days=1)
    async with db.uow() as uow:
        _runs, queued = await sweep_member_digests(
            uow, services.index, clock(), SCHEDULE, knowledge=services.knowledge
        )
        await uow.commit()
    assert queued == 1
    digest = (await _outbox(db))[-1].text
    assert "Neu in der Wissenssammlung" in digest
    assert "Leitfaden Bürgerbus" in digest and "Glasfaser" not in digest
    assert "passt zu Ihrem Beitrag „Wie organisieren andere Gemeinden" in digest

    await anna.say("/wissen Raumfahrtbehörde")
    assert "nichts Passendes" in anna.text
    await anna.say("/wissen Bürgerbus")
    assert "1. Leitfaden Bürgerbus" in anna.text
    async with db.uow() as uow:
        section = await staff_section(
            uow, clock() - timedelta(hours=1), clock() + timedelta(1), BERLIN
        )
    assert section is not None
    assert section.lines[:2] == ["Suchen ohne gutes Ergebnis: 1", "„Raumfahrtbehörde“"]


async def test_suggestion_decision_export_and_erasure(db, services, clock, person):
    [staff_id] = await add_people(db, clock(), 1, role="network_staff")
    staff = person("p0.network_staff@example.org")
    anna = person("anna@prenzlau.example")
    await anna.register("Anna Schmidt", "Prenzlau")

    await anna.say("/wissen_vorschlagen")
    assert "So schlagen Sie einen Eintrag vor" in anna.text
    await anna.say("/wissen_vorschlagen Nur ein Titel ohne Link")
    assert "Link oder eine Datei" in anna.text
    await anna.say(
        "/wissen_vorschlagen Leitfaden Dorfladen | https://example.org/laden | "
        "Wie wir einen genossenschaftlichen Dorfladen gegründet haben"
    )
    assert "liegt jetzt der Geschäftsstelle vor" in anna.text
    await anna.say("/wissen_vorschlagen Mitfahrbank-Schilder https://example.org/schilder")
    await anna.say("/wissen Dorfladen")
    assert "nichts Passendes" in anna.text  # a draft is not found
    await anna.say("/wissen_freigeben 1")
    assert "Geschäftsstelle" in anna.text  # staff only

    await staff.say("/wissen_offen")
    assert "Offene Vorschläge für die Wissenssammlung: 2" in staff.text
    assert "Vorgeschlagen von Anna Schmidt" in staff.text
    await staff.say(staff.choice("Veröffentlichen"))
    assert "ist veröffentlicht" in staff.text
    await staff.say("/wissen_freigeben 1")
    assert "kann nicht veröffentlicht werden" in staff.text
    await staff.say("/wissen_ablehnen abc")
    assert "Nummer des Eintrags" in staff.text
    notice = (await _outbox(db))[-1]
    assert "jetzt in der Wissenssammlung veröffentlicht" in notice.text

    await anna.say("/wissen Dorfladen")
    assert "1. Leitfaden Dorfladen" in anna.text
    await anna.say("/daten")
    data = json.loads(anna.last[0].attachments[0].data)
    assert [s["title"] for s in data["knowledge_suggestions"]] == [
        "Leitfaden Dorfladen",
        "Mitfahrbank-Schilder",
    ]
    assert [s["status"] for s in data["knowledge_suggestions"]] == ["published", "draft"]

    await anna.say("/loeschen")
    await anna.say(anna.choice("endgültig"))
    assert "gelöscht" in anna.text
    async with db.uow() as uow:
        kept = {e.title: e for e in await uow.knowledge.listing()}
    assert kept["Leitfaden Dorfladen"].status == "published"
    assert kept["Leitfaden Dorfladen"].suggested_by is None
    assert kept["Mitfahrbank-Schilder"].status == "withdrawn"
    assert kept["Mitfahrbank-Schilder"].suggested_by is None
    assert staff_id


async def test_a_file_sent_before_the_guided_registration_is_suggested_after_it(
    db, assistant, services
):
    sender = Sender("terminal", "karl@example.org")
    memo = IncomingFile("notiz.txt", "text/plain", b"Wie wir den Dorfbus planen.")
    [first] = await assistant.handle(sender, "/wissen_vorschlagen Dorfbus", files=(memo,))
    assert "Wie heißen Sie" in first.text
    for line in ("Karl Huber", "Prenzlau", "volunteer"):
        await assistant.handle(sender, line)
    replies = await assistant.handle(sender, "ja")
    text = "\n".join(r.text for r in replies)
    assert "registriert" in text and "Ihr Vorschlag „Dorfbus“" in text
    async with db.uow() as uow:
        [entry] = await uow.knowledge.listing(("draft",))
    assert entry.file_name == "notiz.txt" and "Dorfbus planen" in entry.text


async def test_a_stranger_keeps_no_more_and_no_larger_files_than_a_member_may_send(
    db, assistant, services, person
):
    """Seven files, one of them too large: the stranger's five first are checked as a
    member's would be, and only the four that pass are kept for after the registration;
    the answer names the refused ones with the same lines a member gets."""
    services.knowledge.max_bytes = 2000
    store = services.knowledge.files

    def files(who: str) -> tuple[IncomingFile, ...]:
        notes = [
            IncomingFile(f"notiz{n}.txt", "text/plain", f"{who}s Notiz {n} zum Laden.".encode())
            for n in range(7)
        ]
        notes[1] = IncomingFile("gross.txt", "text/plain", who.encode() * 3000)
        return tuple(notes)

    mia = person("mia@example.org")
    await mia.register("Mia Berg", "Prenzlau")
    member_lines = await assistant.handle(
        mia.sender, "/wissen_vorschlagen Laden", files=files("Mia")
    )
    for line in (
        "Die Datei „gross.txt“ konnte ich nicht übernehmen",
        "nicht übernommen (2 Dateien)",
    ):
        assert line in member_lines[0].text
    members_files = {sha256 for sha256, _ in store.stored()}

    stranger = Sender("terminal", "lena@example.org")
    replies = await assistant.handle(stranger, "/wissen_vorschlagen Laden", files=files("Lena"))
    refused = [
        line
        for line in member_lines[0].text.split("\n\n")
        if "übernehmen" in line or "übernommen" in line
    ]
    assert replies[0].text == "\n\n".join(refused)
    assert "Wie heißen Sie" in replies[1].text
    assert len({sha256 for sha256, _ in store.stored()} - members_files) == 4
    async with db.uow() as uow:
        dialogue = await uow.dialogues.get(stranger.key)
    assert [f["name"] for f in parked_files(dialogue.data)] == [
        "notiz0.txt",
        "notiz2.txt",
        "notiz3.txt",
        "notiz4.txt",
    ]


async def test_the_scheduler_removes_files_nobody_needs_any_more(db, assistant, services, clock):
    """A file kept for a stranger's suggestion stays while the registration waits; once the
    stranger cancels, the scheduler's sweep removes it. An entry's file stays."""
    from core.runtime import sweeps

    store = services.knowledge.files
    sender = Sender("terminal", "lena@example.org")
    memo = IncomingFile("plan.txt", "text/plain", b"Unser Plan fuer den Dorfladen.")
    await assistant.handle(sender, "/wissen_vorschlagen Dorfladen", files=(memo,))
    [(parked, _)] = list(store.stored())
    guide = entries.NewEntry(
        title="Leitfaden", file_name="leitfaden.txt", data=b"Ein Leitfaden fuer Mitfahrbaenke."
    )
    kept = await _add(db, services, clock, guide)
    old = clock().timestamp() - 2 * 86400  # both files older than the grace period
    for path in (store.path(parked), store.path(kept.file_sha256)):
        os.utime(path, (old, old))
    schedule = DigestSchedule(tz=BERLIN)
    report = await sweeps.run_sweeps(db, services, schedule)
    assert report.failed == [] and report.counts["knowledge_files"] == 0  # the dialogue waits
    await assistant.handle(sender, "/abbrechen")
    report = await sweeps.run_sweeps(db, services, schedule)
    assert report.counts["knowledge_files"] == 1
    assert not store.has(parked) and store.has(kept.file_sha256)


async def test_the_file_sweep_lists_and_removes_files_off_the_event_loop(
    db, services, clock, monkeypatch
):
    """The store's files are listed and unlinked in a worker thread, not on the loop that
    answers members meanwhile; what is removed stays the same."""
    import threading

    from core.knowledge import housekeeping

    store = services.knowledge.files
    kept = await _add(
        db, services, clock, entries.NewEntry(title="Plan", file_name="p.txt", data=b"Plan A")
    )
    orphan, _ = store.put(b"Nobody refers to this file.")
    old = clock().timestamp() - 2 * 86400
    for sha256 in (orphan, kept.file_sha256):
        os.utime(store.path(sha256), (old, old))
    threads = []
    stored, remove = store.stored, store.remove

    def listing():
        threads.append(threading.current_thread())
        return stored()

    def removing(sha256, **checks):
        threads.append(threading.current_thread())
        return remove(sha256, **checks)

    monkeypatch.setattr(store, "stored", listing)
    monkeypatch.setattr(store, "remove", removing)
    async with db.uow() as uow:
        assert await housekeeping.remove_unused_files(uow, services.knowledge, clock()) == 1
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert not store.has(orphan) and store.has(kept.file_sha256)


async def test_hundreds_of_long_file_names_are_not_all_repeated_to_a_stranger(assistant):
    """300 attachments with 200-character names: the answer names five of them, each
    shortened, and counts the rest."""
    files = tuple(
        IncomingFile(f"{n:03}-" + "x" * 192 + ".txt", "text/plain", b"Notiz") for n in range(300)
    )
    stranger = Sender("terminal", "lena@example.org")
    replies = await assistant.handle(stranger, "/wissen_vorschlagen Laden", files=files)
    text = replies[0].text
    assert "nicht übernommen (295 Dateien)" in text and "und 290 weitere" in text
    assert "„005-" in text and "„009-" in text and "010-" not in text
    assert len(text) < 1000, len(text)


async def test_a_file_reused_after_the_sweep_listed_it_is_not_removed(db, services, monkeypatch):
    """The sweep lists an old orphan; before it removes it, a new suggestion stores the
    same bytes (its entry not yet committed). ``put`` refreshes the write time, and the
    sweep checks it again right before removing, so the file stays."""
    from datetime import UTC, datetime

    from core.knowledge import housekeeping

    store = services.knowledge.files
    data = b"Der alte Plan, neu vorgeschlagen."
    orphan, _ = store.put(data)
    old = datetime.now(UTC).timestamp() - 2 * 86400
    os.utime(store.path(orphan), (old, old))
    stored = store.stored

    def listing_then_reused():
        listed = list(stored())
        assert store.put(data) == (orphan, False)  # reused between listing and removing
        return listed

    monkeypatch.setattr(store, "stored", listing_then_reused)
    async with db.uow() as uow:
        removed = await housekeeping.remove_unused_files(uow, services.knowledge, datetime.now(UTC))
    assert removed == 0 and store.has(orphan)
