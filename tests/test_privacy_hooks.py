"""/daten and /loeschen reach every feature's records through the declared privacy hooks."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from core.store.models import Interest, Registration
from tests.eventkit import add_event


async def test_export_and_erasure_cover_interests_and_event_registrations(person, db, clock):
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    ben = person("ben@example.org")
    await ben.register("Ben Wagner", "Zschopau")
    event_id = await add_event(db, clock.now, starts_at=clock.now + timedelta(days=5), capacity=1)
    await anna.say(f"/anmelden {event_id}")
    await ben.say(f"/anmelden {event_id}")
    assert "Warteliste" in ben.text
    await anna.say("/interessen Bürgerbus, Mitfahrbank")

    await anna.say("/daten")
    data = json.loads(anna.last[0].attachments[0].data)
    assert data["interests"]["keywords"] == "Bürgerbus, Mitfahrbank"
    [registration] = data["events"]
    assert (registration["event"], registration["status"]) == (event_id, "registered")
    assert data["grants"] == []

    await anna.say("/loeschen")
    await anna.say(anna.choice("endgültig"))
    assert "gelöscht" in anna.text
    async with db.uow() as uow:
        assert await uow.session.get(Interest, anna_id := data["member"]["id"]) is None
        rows = (await uow.session.scalars(select(Registration))).all()
        assert [r.member_id for r in rows if r.member_id == anna_id] == []
        # Her place went to the waiting list, as if she had unregistered.
        assert [(r.status) for r in rows] == ["registered"]
