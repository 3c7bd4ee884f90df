"""Events through the command grammar: listing, registration, waiting list, staff actions."""

from __future__ import annotations

from datetime import UTC

import pytest

from core.events import calendar as events
from core.events.ics import read_calendar
from core.kernel.context import Sender
from core.kernel.errors import ImportFileError, UserError
from tests.eventkit import BERLIN, DEFAULTS, add_event, add_people, berlin, outbox


async def test_register_through_termine_choice_and_unregister(assistant, person, clock, db):
    event_id = await add_event(
        db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0), url="https://konf.example/ds"
    )
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/termine")
    assert (
        "Online-Seminar Daseinsvorsorge" in anna.text and "Do., 03.12.2026, 10:00 Uhr" in anna.text
    )
    assert anna.last[1].ref == f"event:{event_id}"
    await anna.say(anna.choice("Anmelden"))
    assert "Sie sind angemeldet" in anna.text
    assert anna.last[0].attachments == []  # the terminal is not email
    await anna.say(f"/anmelden {event_id}")
    assert "bereits angemeldet" in anna.text
    await anna.say("/termine")
    assert "Sie sind angemeldet." in anna.text
    await anna.say(anna.choice("Abmelden"))
    assert "abgemeldet" in anna.text


async def test_email_reply_ref_and_number_forms_register(assistant, clock, db):
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    [member_id] = await add_people(db, clock.now, 1)
    async with db.uow() as uow:
        email = (await uow.members.get(member_id)).email
    replies = await assistant.handle(Sender("email", email), f"/anmelden event:{event_id}")
    assert "Sie sind angemeldet" in replies[0].text
    # By email the confirmation carries the calendar file.
    [calendar] = replies[0].attachments
    assert calendar.content_type == "text/calendar" and b"UID:" in calendar.data


async def test_waiting_list_promotion_with_notice(assistant, clock, db):
    event_id = await add_event(
        db, clock.now, kind="meeting", capacity=2, starts_at=berlin(2026, 12, 3, 10, 0)
    )
    people = await add_people(db, clock.now, 4)
    senders = []
    async with db.uow() as uow:
        for member_id in people:
            senders.append(Sender("email", (await uow.members.get(member_id)).email))
    texts = []
    for sender in senders:
        texts.append((await assistant.handle(sender, f"/anmelden {event_id}"))[0].text)
        clock.advance(minutes=1)
    assert ["Warteliste" in text for text in texts] == [False, False, True, True]

    await assistant.handle(senders[0], f"/abmelden {event_id}")
    [notice] = await outbox(db, "event_promoted")
    assert notice.member_id == people[2]  # first come, first served
    assert "Ein Platz ist frei geworden" in notice.text and notice.attachments
    async with db.uow() as uow:
        assert (await events.counts(uow, [event_id]))[event_id] == {"registered": 2, "waiting": 1}
    # Leaving the waiting list promotes nobody.
    await assistant.handle(senders[3], f"/abmelden {event_id}")
    assert len(await outbox(db, "event_promoted")) == 1


async def test_staff_cancel_command_is_staff_only(assistant, clock, db):
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    [member] = await add_people(db, clock.now, 1)
    [staff] = await add_people(db, clock.now, 1, role="network_staff")
    async with db.uow() as uow:
        member_email = (await uow.members.get(member)).email
        staff_email = (await uow.members.get(staff)).email
    await assistant.handle(Sender("email", member_email), f"/anmelden {event_id}")
    refused = await assistant.handle(Sender("email", member_email), f"/absagen {event_id}")
    assert "Geschäftsstelle vorbehalten" in refused[0].text
    done = await assistant.handle(Sender("email", staff_email), f"/absagen {event_id}")
    assert "abgesagt" in done[0].text
    [notice] = await outbox(db, "event_cancelled")
    assert notice.member_id == member
    listing = await assistant.handle(Sender("email", member_email), "/termine")
    assert "keine Termine" in listing[0].text


CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//DE
BEGIN:VEVENT
UID:kurs-2026@zukunftsraum.test
DTSTART;TZID=Europe/Berlin:20261201T090000
DTEND;TZID=Europe/Berlin:20261215T170000
SUMMARY:E-Learning: Demografiefeste Kommune
X-ZR-KIND:course
X-ZR-CAPACITY:30
END:VEVENT
BEGIN:VEVENT
UID:kurs-2026-modul-1@zukunftsraum.test
RELATED-TO:kurs-2026@zukunftsraum.test
DTSTART;TZID=Europe/Berlin:20261203T140000
DTEND;TZID=Europe/Berlin:20261203T153000
SUMMARY:Modul 1: Daten lesen
URL:https://lernen.example/modul-1
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT30M
END:VALARM
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-P2D
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:treffen-2027@zukunftsraum.test
DTSTART:20270610T080000Z
SUMMARY:Jahrestreffen des Netzwerks
LOCATION:Görlitz, Rathaus
X-ZR-KIND:meeting
END:VEVENT
END:VCALENDAR
""".encode()


async def test_calendar_import_reads_kinds_capacity_alarms_and_modules(db, clock):
    items = read_calendar(CALENDAR, BERLIN)
    assert [i.uid for i in items][-1] == "kurs-2026-modul-1@zukunftsraum.test"  # module last
    async with db.uow() as uow:
        for item in items:
            await events.create(uow, item, clock.now, DEFAULTS)
        await uow.commit()
        course = await events.by_uid(uow, "kurs-2026@zukunftsraum.test")
        module = await events.by_uid(uow, "kurs-2026-modul-1@zukunftsraum.test")
        meeting = await events.by_uid(uow, "treffen-2027@zukunftsraum.test")
    assert (course.kind, course.capacity, course.reminder_offsets) == (
        "course",
        30,
        ["P1D", "PT1H"],
    )
    assert module.parent_id == course.id and module.reminder_offsets == ["P2D", "PT30M"]
    assert module.starts_at.replace(tzinfo=UTC) == berlin(2026, 12, 3, 14, 0)
    assert (meeting.kind, meeting.location) == ("meeting", "Görlitz, Rathaus")
    assert meeting.reminder_offsets == ["P7D", "P1D", "PT1H"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"kein Kalender", "lässt sich nicht lesen"),
        (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "keinen Termin"),
        (CALENDAR.replace(b"X-ZR-CAPACITY:30", b"X-ZR-CAPACITY:viele"), "keine ganze Zahl"),
        (CALENDAR.replace(b"SUMMARY:Jahrestreffen des Netzwerks\n", b""), "SUMMARY fehlt"),
    ],
)
def test_bad_calendars_give_one_clear_line(data, message):
    with pytest.raises(ImportFileError, match=message):
        read_calendar(data, BERLIN)


async def test_registration_closes_when_event_started(assistant, clock, db):
    event_id = await add_event(db, clock.now, starts_at=clock.now.astimezone(BERLIN))
    [member] = await add_people(db, clock.now, 1)
    async with db.uow() as uow:
        with pytest.raises(UserError, match="keine Anmeldung"):
            await events.register(uow, await uow.members.get(member), event_id, clock.now, BERLIN)
