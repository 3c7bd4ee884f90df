"""Posts: a renewal question a week before they lapse (once), then they expire."""

from __future__ import annotations

from datetime import timedelta

from core.exchange.expiry import sweep_expiry
from tests.eventkit import BERLIN, outbox


async def sweep(db, now):
    async with db.uow() as uow:
        result = await sweep_expiry(uow, now, BERLIN)
        await uow.commit()
    return result


async def test_renewal_question_then_expiry(assistant, person, clock, db):
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/biete Unser Bürgerbus-Konzept")
    ben = person("ben@example.org")
    await ben.register("Ben Wagner", "Görlitz")
    await ben.say("/suche Erfahrungen mit einem Bürgerbus")
    assert "Passende" in ben.text

    clock.advance(days=82)
    assert await sweep(db, clock.now) == (0, 0)
    clock.advance(days=1, hours=1)  # within the last week
    assert await sweep(db, clock.now) == (2, 0)
    assert await sweep(db, clock.now + timedelta(hours=1)) == (0, 0)
    questions = await outbox(db, "post_renewal")
    anna_question = next(q for q in questions if q.address == "anna@example.org")
    assert anna_question.choices[0]["command"].startswith("/verlaengern ")
    await anna.say(anna_question.choices[0]["command"])  # Anna renews, Ben does not
    assert "verlängert" in anna.text

    clock.advance(days=8)
    assert await sweep(db, clock.now) == (0, 1)
    await ben.say("/meine")
    assert "abgelaufen" in ben.text
    await anna.say("/treffer")
    assert "keine Treffervorschläge" in anna.text  # the proposal went stale
