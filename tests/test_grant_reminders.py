"""Deadline reminders: due ones are queued once, whatever the sweep frequency."""

from __future__ import annotations

from datetime import UTC, datetime

from core.grants import applications as grants
from core.grants.programme import GrantProgramme
from core.grants.reminders import due_offset, sweep_grant_reminders
from tests.grant_support import SPRING, outbox, verify

PROGRAMME = GrantProgramme()


async def sweep(db, when: datetime) -> int:
    async with db.uow() as uow:
        queued = await sweep_grant_reminders(uow, when, PROGRAMME)
        await uow.commit()
    return queued


def test_due_offset_sends_only_the_most_urgent_reminder():
    deadline = datetime(2026, 9, 30).date()
    assert due_offset(datetime(2026, 9, 15).date(), deadline, (14, 3)) is None
    assert due_offset(datetime(2026, 9, 16).date(), deadline, (14, 3)) == 14
    assert due_offset(datetime(2026, 9, 28).date(), deadline, (14, 3)) == 3
    assert due_offset(datetime(2026, 9, 30).date(), deadline, (14, 3)) == 3
    assert due_offset(datetime(2026, 10, 1).date(), deadline, (14, 3)) is None


async def test_draft_reminders_before_the_application_deadline(db, clock, person):
    clock.now = SPRING
    anna = person("4711", "telegram")
    await anna.register("Anna Schmidt", "Prenzlau")
    await verify(db, "4711")
    ben = person("ben@example.org", "email")
    await ben.register("Ben Wagner", "Templin")
    await verify(db, "ben@example.org")  # verified, but without a draft
    await anna.say("/antrag")
    await anna.say("beratung")

    assert await sweep(db, datetime(2026, 9, 15, 20, 0, tzinfo=UTC)) == 0
    # 22:30 UTC on 15 September is already the 16th in Berlin: 14 days left.
    assert await sweep(db, datetime(2026, 9, 15, 22, 30, tzinfo=UTC)) == 1
    assert await sweep(db, datetime(2026, 9, 16, 9, 0, tzinfo=UTC)) == 0
    assert await sweep(db, datetime(2026, 9, 20, 9, 0, tzinfo=UTC)) == 0
    assert await sweep(db, datetime(2026, 9, 27, 9, 0, tzinfo=UTC)) == 1
    assert await sweep(db, datetime(2026, 9, 29, 9, 0, tzinfo=UTC)) == 0
    assert await sweep(db, datetime(2026, 10, 1, 9, 0, tzinfo=UTC)) == 0
    reminders = await outbox(db, kind_prefix="grant_reminder")
    assert [m.address for m in reminders] == ["4711", "4711"]
    assert "endet am 30.09.2026 – in 14 Tagen" in reminders[0].text
    assert "in 3 Tagen" in reminders[1].text


async def test_invoice_reminders_for_approved_applications_without_proof(db, clock, person):
    clock.now = SPRING
    anna = person("4711", "telegram")
    await anna.register("Anna Schmidt", "Prenzlau")
    await verify(db, "4711")
    carl = person("carl@example.org", "email")
    await carl.register("Carl Neumann", "Görlitz")
    await verify(db, "carl@example.org")
    for who in (anna, carl):
        await who.say(
            "/antrag Zweck: Vernetzung\nTitel: Besuch\nBeschreibung: Ein Besuch.\n"
            "Kosten:\nFahrt 200 €"
        )
        await who.say("ja")
    staff = grants.Actor(None, "Test")
    async with db.uow() as uow:
        for number in (1, 2):
            await grants.approve(uow, staff, number, None, PROGRAMME, SPRING)
        await uow.commit()
    await carl.say("/nachweis 2 200 € Rechnung 1")  # Carl is done, Anna is not

    before = len(await outbox(db, kind_prefix="grant_reminder"))
    assert await sweep(db, datetime(2026, 11, 16, 9, 0, tzinfo=UTC)) == 1
    assert await sweep(db, datetime(2026, 11, 16, 10, 0, tzinfo=UTC)) == 0
    reminders = (await outbox(db, kind_prefix="grant_reminder"))[before:]
    assert [m.address for m in reminders] == ["4711"]
    assert "Antrag Nr. 1" in reminders[0].text and "30.11.2026" in reminders[0].text
    assert reminders[0].choices[0]["command"] == "/nachweis 1"
