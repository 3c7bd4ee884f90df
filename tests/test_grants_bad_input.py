"""Bad input on the grant path: each gets a clear German answer and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.store.models import GrantApplication, GrantLedgerEntry, GrantTransition, OutboxMessage
from tests.grant_support import SPRING, add_staff, assert_balanced, verify

PRENZLAU = "12073452"


async def snapshot(db) -> tuple:
    """Everything a wrong input must leave alone."""
    async with db.uow() as uow:
        states = (
            await uow.session.execute(
                select(
                    GrantApplication.id,
                    GrantApplication.state,
                    GrantApplication.requested_cents,
                    GrantApplication.approved_cents,
                    GrantApplication.cost_lines,
                ).order_by(GrantApplication.id)
            )
        ).all()
        counts = []
        for model in (GrantTransition, GrantLedgerEntry, OutboxMessage):
            counts.append(await uow.session.scalar(select(func.count()).select_from(model)))
        budget = await uow.grants.budget(PRENZLAU, 2026)
        return (
            [tuple(map(str, row)) for row in states],
            counts,
            budget.committed_cents if budget else 0,
        )


@pytest.fixture
async def anna(db, clock, person):
    clock.now = SPRING
    await add_staff(db, email="gs@example.org", telegram=9001)
    anna = person("4711", "telegram")
    await anna.register("Anna Schmidt", "Prenzlau")
    await verify(db, "4711")
    return anna


async def fill(anna, *costs: str, submit: bool = True) -> None:
    await anna.say("/antrag")
    await anna.say("vernetzung")
    await anna.say("Besuch in Görlitz")
    await anna.say("Wir besuchen das Görlitzer Projekt Probewohnen.")
    await anna.say("fertig")
    for line in costs:
        await anna.say(line)
    if submit:
        await anna.say("fertig")
        await anna.say("ja")
        assert "eingereicht" in anna.text, anna.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Fahrt Prenzlau–Görlitz 1.200 €", "übersteigt das verbleibende Budget"),
        ("Fahrt -50 €", "negativer Betrag"),
        ("Fahrt 0 €", "größer als 0 €"),
        ("Sonstiges 99.999.999 €", "kein realistischer Betrag"),
        ("Beratung 2 Tage à 900 €", "Tagessatz von 900,00 € liegt über dem förderfähigen"),
        ("Beratung 1.600 €", "als Tage mal Tagessatz"),
        ("Fahrt 12,345 €", "mehr als zwei Nachkommastellen"),
        ("Fahrt nach Görlitz", "fehlt der Betrag"),
    ],
)
async def test_bad_cost_lines_change_nothing(db, anna, line, expected):
    await fill(anna, "Fahrt Prenzlau–Görlitz 4.000 €")  # 1.000 € left this year
    await fill(anna, submit=False)
    assert "noch 1.000,00 € verfügbar" in anna.text
    before = await snapshot(db)
    await anna.say(line)
    assert expected in anna.text
    assert await snapshot(db) == before
    await anna.say("Fahrt Prenzlau–Görlitz 1.000 €")  # the dialogue goes on
    assert "Summe: 1.000,00 €" in anna.text


async def test_unverified_member_cannot_apply(db, clock, person):
    clock.now = SPRING
    ben = person("ben@example.org", "email")
    await ben.register("Ben Wagner", "Templin")
    before = await snapshot(db)
    await ben.say("/antrag")
    assert "nur verifizierte Mitglieder" in ben.text
    await ben.say("Zweck: Beratung\nTitel: Test")
    assert await snapshot(db) == before


async def test_application_deadline_is_end_of_30_september_in_berlin(db, clock, anna):
    clock.now = datetime(2026, 9, 30, 21, 30, tzinfo=UTC)  # 23:30 in Berlin
    await fill(anna, "Fahrt 100 €", submit=False)
    await anna.say("fertig")
    clock.now = datetime(2026, 9, 30, 22, 30, tzinfo=UTC)  # 00:30 on 1 October in Berlin
    before = await snapshot(db)
    await anna.say("ja")
    assert "Antragsfrist für dieses Jahr ist am 30.09.2026 abgelaufen" in anna.text
    assert "1. Januar 2027" in anna.text
    await anna.say("/antrag")
    assert "abgelaufen" in anna.text
    assert await snapshot(db) == before


async def test_second_decision_is_refused(db, anna, person):
    await fill(anna, "Fahrt 300 €")
    staff = person("9001", "telegram")
    await staff.say("/bewilligen 1 250")
    before = await snapshot(db)
    for command in ("/bewilligen 1", "/ablehnen_antrag 1 zu spät", "/rueckfrage 1 Warum?"):
        await staff.say(command)
        assert "Über Antrag Nr. 1 ist bereits entschieden (Status: bewilligt)" in staff.text
    await anna.say("/zurueckziehen 1")
    assert "nicht möglich" in anna.text
    assert await snapshot(db) == before
    assert await assert_balanced(db, PRENZLAU) == 25000


async def test_wrong_amounts_and_numbers_from_staff(db, anna, person):
    await fill(anna, "Fahrt 300 €")
    staff = person("9001", "telegram")
    before = await snapshot(db)
    cases = {
        "/bewilligen 1 400": "höchstens der beantragte Betrag (300,00 €)",
        "/bewilligen 1 -5": "negativer Betrag",
        "/bewilligen 1 zwei": "nicht als Betrag lesen",
        "/bewilligen 99": "Antrag Nr. 99 gibt es nicht",
        "/bewilligen": "Nummer des Antrags",
        "/auszahlen 1": "Status „eingereicht“ nicht möglich",
    }
    for command, expected in cases.items():
        await staff.say(command)
        assert expected in staff.text, (command, staff.text)
    await anna.say("/bewilligen 1")
    assert "Geschäftsstelle vorbehalten" in anna.text
    assert await snapshot(db) == before


async def test_others_cannot_touch_an_application(db, anna, person):
    await fill(anna, "Fahrt 300 €")
    carl = person("carl@example.org", "terminal")
    await carl.register("Carl Neumann", "Prenzlau")
    await verify(db, "carl@example.org")
    before = await snapshot(db)
    for command in ("/zurueckziehen 1", "/nachweis 1 100 € Rechnung", "/ergaenzen 1 Hallo"):
        await carl.say(command)
        assert "Antrag Nr. 1 gibt es nicht" in carl.text
    assert await snapshot(db) == before


async def test_proof_after_invoice_deadline_is_refused(db, clock, anna, person):
    await fill(anna, "Fahrt 300 €")
    await person("9001", "telegram").say("/bewilligen 1")
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    before = await snapshot(db)
    await anna.say("/nachweis 1 290 € Rechnung 17")
    assert "Frist für den Verwendungsnachweis ist am 30.11.2026 abgelaufen" in anna.text
    assert await snapshot(db) == before


async def test_form_with_mistakes_keeps_nothing(db, clock, person):
    clock.now = SPRING
    bea = person("bea@example.org", "email")
    await bea.register("Bea Krüger", "Prenzlau", "volunteer")
    await verify(db, "bea@example.org")
    await bea.say("/antrag")
    before = await snapshot(db)
    broken = {
        "Zweck: Urlaub\nTitel: Reise\nBeschreibung: Eine schöne Reise.\nKosten:\nFahrt 100 €": (
            "Bitte wählen Sie den Zweck"
        ),
        "Zweck: Beratung\nTitel: Werkstatt\nKosten:\nBeratung 1 Tag à 800 €": (
            "Es fehlen noch Angaben: Beschreibung"
        ),
        "Zweck: Vernetzung\nTitel: Besuch\nBeschreibung: Ein Besuch bei Nachbarn.\n"
        "Partnerkommunen: Görlitz\nKosten:\nFahrt 100 €, Hotel 90 €": "eigene Zeile",
        "Danke, ich melde mich später.": "kein ausgefülltes Antragsformular",
    }
    for text, expected in broken.items():
        await bea.say(text)
        assert expected in bea.text, (text, bea.text)
    assert await snapshot(db) == before
