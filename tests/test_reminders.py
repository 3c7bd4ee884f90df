"""Reminders: due exactly once, in local time across DST changes, never for an old time."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from core.events import calendar as events
from core.events.ics import EventData
from core.events.reminders import sweep_reminders
from core.kernel.replies import Choice, Reply
from core.messaging.outbox import message_fields
from core.store.models import OutboxMessage
from core.store.unit_of_work import insert_ignoring_duplicates
from tests.conftest import FakeClock
from tests.eventkit import BERLIN, DEFAULTS, add_event, add_people, berlin, outbox, register

STEP = timedelta(minutes=5)


async def tick_until(db, clock: FakeClock, until: datetime, step: timedelta = STEP) -> int:
    """Sweep like the scheduler would, every ``step``; each sweep is a fresh instance."""
    queued = 0
    while clock.now < until:
        clock.advance(seconds=step.total_seconds())
        async with db.uow() as uow:
            queued += await sweep_reminders(uow, clock.now, BERLIN)
            await uow.commit()
    return queued


def sent_at(messages) -> list[datetime]:
    return sorted({m.created_at.replace(tzinfo=UTC) for m in messages})


async def test_each_reminder_is_queued_once_at_its_due_time(db):
    clock = FakeClock(berlin(2026, 12, 2, 8, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 3)
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, clock.now)

    assert await tick_until(db, clock, berlin(2026, 12, 3, 11, 0)) == 6
    reminders = await outbox(db, "event_reminder")
    assert sent_at(reminders) == [berlin(2026, 12, 2, 10, 0), berlin(2026, 12, 3, 9, 0)]
    assert {m.member_id for m in reminders} == set(people)
    assert all(m.ref == f"event:{event_id}" and m.channel == "email" for m in reminders)
    calendar = base64.b64decode(reminders[0].attachments[0]["data"]).decode()
    assert "METHOD:PUBLISH" in calendar and "SEQUENCE:0" in calendar
    assert "DTSTART:20261203T090000Z" in calendar


async def test_a_restarted_sweep_queues_nothing_twice(db):
    clock = FakeClock(berlin(2026, 12, 3, 8, 59).astimezone(UTC))
    people = await add_people(db, clock.now, 2)
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, berlin(2026, 12, 1, 8, 0))
    clock.advance(minutes=1)
    for _ in range(3):  # three "processes" sweeping at the same moment, one after another
        async with db.uow() as uow:
            await sweep_reminders(uow, clock.now, BERLIN)
            await uow.commit()
    assert len(await outbox(db, "event_reminder")) == 2


async def test_spring_dst_change_keeps_local_wall_clock_for_days(db):
    # Clocks jump 02:00 -> 03:00 on 29 March 2026.
    clock = FakeClock(berlin(2026, 3, 20, 9, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 1)
    seminar = await add_event(db, clock.now, starts_at=berlin(2026, 3, 29, 10, 0))
    meeting = await add_event(
        db, clock.now, title="Netzwerktreffen", kind="meeting", starts_at=berlin(2026, 4, 1, 10, 0)
    )
    await register(db, people, seminar, clock.now)
    await register(db, people, meeting, clock.now)

    await tick_until(db, clock, berlin(2026, 4, 1, 10, 0), timedelta(minutes=15))
    by_event = {}
    for m in await outbox(db, "event_reminder"):
        by_event.setdefault(m.ref, []).append(m)
    # "1 day before" 10:00 CEST is 10:00 CET the day before: only 23 real hours earlier.
    assert sent_at(by_event[f"event:{seminar}"]) == [
        datetime(2026, 3, 28, 9, 0, tzinfo=UTC),  # Sat 10:00 CET
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),  # Sun 09:00 CEST = 60 minutes before
    ]
    assert sent_at(by_event[f"event:{meeting}"]) == [
        datetime(2026, 3, 25, 9, 0, tzinfo=UTC),  # 7 days before, 10:00 CET
        datetime(2026, 3, 31, 8, 0, tzinfo=UTC),  # 1 day before, 10:00 CEST
        datetime(2026, 4, 1, 7, 0, tzinfo=UTC),  # 1 hour before
    ]


async def test_autumn_dst_change_keeps_local_wall_clock_for_days(db):
    # Clocks go back 03:00 -> 02:00 on 25 October 2026.
    clock = FakeClock(berlin(2026, 10, 23, 9, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 1)
    seminar = await add_event(db, clock.now, starts_at=berlin(2026, 10, 25, 10, 0))
    early = await add_event(
        db, clock.now, title="Frühschoppen", starts_at=berlin(2026, 10, 25, 2, 30)
    )
    await register(db, people, seminar, clock.now)
    await register(db, people, early, clock.now)

    await tick_until(db, clock, berlin(2026, 10, 25, 11, 0))
    by_event = {}
    for m in await outbox(db, "event_reminder"):
        by_event.setdefault(m.ref, []).append(m)
    assert sent_at(by_event[f"event:{seminar}"]) == [
        datetime(2026, 10, 24, 8, 0, tzinfo=UTC),  # Sat 10:00 CEST: 25 real hours before
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),  # Sun 09:00 CET: 60 minutes before
    ]
    # 02:30 on the night of the change is read as its first occurrence (CEST, 00:30 UTC).
    assert sent_at(by_event[f"event:{early}"]) == [
        datetime(2026, 10, 24, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
    ]


async def test_changed_time_withdraws_old_reminders_and_sends_new_ones(db):
    clock = FakeClock(berlin(2026, 12, 1, 8, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 2)
    event_id = await add_event(
        db, clock.now, uid="seminar-1@test", starts_at=berlin(2026, 12, 3, 10, 0)
    )
    await register(db, people, event_id, clock.now)
    await tick_until(db, clock, berlin(2026, 12, 2, 12, 0))
    assert len(await outbox(db, "event_reminder")) == 2  # the "1 day" ones, not delivered yet

    async with db.uow() as uow:
        event = await events.get(uow, event_id)
        new = EventData(
            title=event.title, uid=event.uid, starts_at=berlin(2026, 12, 4, 15, 0).astimezone(UTC)
        )
        assert await events.update_event(uow, event, new, clock.now, DEFAULTS, BERLIN)
        await uow.commit()

    old = await outbox(db, "event_reminder")
    assert {m.status for m in old} == {"withdrawn"}
    changed = await outbox(db, "event_changed")
    assert len(changed) == 2 and "Fr., 04.12.2026, 15:00 Uhr" in changed[0].text
    calendar = base64.b64decode(changed[0].attachments[0]["data"]).decode()
    assert "SEQUENCE:1" in calendar and "UID:seminar-1@test" in calendar

    await tick_until(db, clock, berlin(2026, 12, 4, 16, 0))
    fresh = [m for m in await outbox(db, "event_reminder") if m.status == "pending"]
    # Nothing at the old time (3 Dec 09:00); the new time's two reminders for both people.
    assert sent_at(fresh) == [berlin(2026, 12, 3, 15, 0), berlin(2026, 12, 4, 14, 0)]
    assert len(fresh) == 4


async def test_cancelled_event_sends_notice_and_no_reminders(db):
    clock = FakeClock(berlin(2026, 12, 1, 8, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 2)
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, clock.now)
    async with db.uow() as uow:
        await events.cancel(uow, await events.get(uow, event_id), clock.now, BERLIN)
        await uow.commit()
    await tick_until(db, clock, berlin(2026, 12, 3, 11, 0), timedelta(minutes=15))
    assert await outbox(db, "event_reminder") == []
    notices = await outbox(db, "event_cancelled")
    assert len(notices) == 2 and "abgesagt" in notices[0].text
    calendar = base64.b64decode(notices[0].attachments[0]["data"]).decode()
    assert "STATUS:CANCELLED" in calendar and "SEQUENCE:1" in calendar


async def test_reminders_long_overdue_are_skipped_not_sent_late(db):
    clock = FakeClock(berlin(2026, 12, 1, 8, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 1)
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, clock.now)
    # Down from before the "1 day" reminder until 20 minutes after the "1 hour" one was due:
    # the day reminder is 23 h late (grace 6 h), the hour reminder 20 min (grace 15 min).
    clock.now = berlin(2026, 12, 3, 9, 20).astimezone(UTC)
    assert await tick_until(db, clock, berlin(2026, 12, 3, 10, 0)) == 0
    # Within the grace window it is still sent.
    clock.now = berlin(2026, 12, 3, 9, 10).astimezone(UTC)
    async with db.uow() as uow:
        assert await sweep_reminders(uow, clock.now, BERLIN) == 1
        await uow.commit()


async def test_late_registration_gets_only_reminders_due_after_it(db):
    clock = FakeClock(berlin(2026, 12, 2, 12, 0).astimezone(UTC))
    people = await add_people(db, clock.now, 1)
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, clock.now)  # after the 1-day reminder was due
    await tick_until(db, clock, berlin(2026, 12, 3, 10, 0))
    assert sent_at(await outbox(db, "event_reminder")) == [berlin(2026, 12, 3, 9, 0)]


async def test_telegram_members_get_reminders_without_calendar_file(db):
    clock = FakeClock(berlin(2026, 12, 3, 8, 55).astimezone(UTC))
    people = await add_people(db, clock.now, 1, channel="telegram")
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    await register(db, people, event_id, berlin(2026, 11, 30, 8, 0))
    await tick_until(db, clock, berlin(2026, 12, 3, 9, 5))
    [reminder] = await outbox(db, "event_reminder")
    assert reminder.channel == "telegram" and reminder.attachments == []
    assert "in einer Stunde" in reminder.text
    assert reminder.choices == [{"label": "Abmelden", "command": f"/abmelden {event_id}"}]


async def test_bulk_insert_skips_taken_dedupe_keys_and_stores_encoded_json(db):
    """What makes overlapping sweeps safe: a key another sweep took in the meantime is
    skipped by the insert itself, and the other rows still go in."""
    now = berlin(2026, 12, 1, 9, 0).astimezone(UTC)
    [member_id] = await add_people(db, now, 1)
    async with db.uow() as uow:
        member = await uow.members.get(member_id)
        reply = Reply("Erinnerung", [Choice("Abmelden", "/abmelden 1")], ref="event:1")
        rows = [
            message_fields(member, reply, kind="event_reminder", now=now, dedupe_key=key)
            for key in ("reminder:a", "reminder:b", "reminder:c")
        ]
        await insert_ignoring_duplicates(uow, OutboxMessage, rows[1:2])
        assert await uow.outbox.existing_keys(["reminder:a", "reminder:b"]) == {"reminder:b"}
        for row in rows:
            row["choices"] = json.dumps(row["choices"])
            row["attachments"] = json.dumps([{"filename": "a.ics", "data": "QkVHSU4="}])
        await insert_ignoring_duplicates(
            uow, OutboxMessage, rows, encoded_json=("choices", "attachments")
        )
        await uow.commit()
    stored = {m.dedupe_key: m for m in await outbox(db, "event_reminder")}
    assert sorted(stored) == ["reminder:a", "reminder:b", "reminder:c"]
    assert stored["reminder:b"].attachments == []  # the first writer's row stays
    assert stored["reminder:a"].choices == [{"label": "Abmelden", "command": "/abmelden 1"}]
    assert stored["reminder:c"].attachments == [{"filename": "a.ics", "data": "QkVHSU4="}]


async def test_one_broken_event_neither_stops_the_others_nor_floods_the_log(
    db, monkeypatch, caplog
):
    from core.events import reminders

    clock = FakeClock(berlin(2026, 12, 3, 8, 59).astimezone(UTC))
    people = await add_people(db, clock.now, 2)
    broken = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    fine = await add_event(db, clock.now, starts_at=berlin(2026, 12, 3, 10, 0))
    for event_id in (broken, fine):
        await register(db, people, event_id, berlin(2026, 12, 1, 8, 0))
    real = reminders.reminder_reply

    def reply(event, *args):
        if event.id == broken:
            raise ValueError("a broken event")
        return real(event, *args)

    monkeypatch.setattr(reminders, "reminder_reply", reply)
    for _ in range(3):  # three ticks
        clock.advance(minutes=1)
        async with db.uow() as uow:
            await sweep_reminders(uow, clock.now, BERLIN)
            await uow.commit()
    queued = await outbox(db, "event_reminder")
    assert {m.ref for m in queued} == {f"event:{fine}"} and len(queued) == 2
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "a broken event" in skipped[0].getMessage()
