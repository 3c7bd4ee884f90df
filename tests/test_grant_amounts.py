"""Euro amounts in German notation and cost plan lines, read into integer cents."""

from __future__ import annotations

import pytest

from core.grants.costs import parse_line
from core.grants.form import looks_like_form, parse, render
from core.kernel.errors import UserError
from core.kernel.money import format_euro, parse_euro

RATE = 850_00


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.250,50 €", 125050),
        ("800 €", 80000),
        ("800,-", 80000),
        ("800,– €", 80000),
        ("800 EUR", 80000),
        ("800 Euro", 80000),
        ("1.250", 125000),
        ("12.500.000", None),
        ("1250.5", 125050),
        ("1,250.50", 125050),
        ("0,5", 50),
        ("45,50€", 4550),
        ("1 250,00 €", 125000),
    ],
)
def test_parse_euro(text, cents):
    if cents is None:
        with pytest.raises(UserError, match="realistischer"):
            parse_euro(text)
    else:
        assert parse_euro(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "nennen Sie einen Betrag"),
        ("-5", "negativer"),
        ("−5 €", "negativer"),
        ("0", "größer als 0"),
        ("12,345", "Nachkommastellen"),
        ("1.2.3", "nicht als Betrag"),
        ("1.25.0", "nicht als Betrag"),
        ("zwölf", "nicht als Betrag"),
        ("1,2,3", "nicht als Betrag"),
    ],
)
def test_parse_euro_refuses(text, message):
    with pytest.raises(UserError, match=message):
        parse_euro(text)


def test_format_euro_round_trips():
    for cents in (5, 4550, 125050, 500000, 123456789):
        assert parse_euro(format_euro(cents)) == cents
    assert format_euro(125050) == "1.250,50 €"


@pytest.mark.parametrize(
    ("line", "kind", "cents", "days", "rate"),
    [
        ("Beratung 2 Tage à 800 €", "consulting", 160000, "2", 80000),
        ("Moderation 1,5 Tage x 850 €/Tag", "consulting", 127500, "1.5", 85000),
        ("2 Beratertage zu je 700,- €", "consulting", 140000, "2", 70000),
        ("Fahrt Prenzlau–Görlitz 120 €", "travel", 12000, None, None),
        ("- Bahnticket Leipzig: 89,90 €", "travel", 8990, None, None),
        ("Übernachtung 2 Nächte 180,-", "travel", 18000, None, None),
        ("Raummiete 150 €", "other", 15000, None, None),
    ],
)
def test_cost_lines(line, kind, cents, days, rate):
    parsed = parse_line(line, RATE)
    assert (parsed.kind, parsed.amount_cents, parsed.days, parsed.rate_cents) == (
        kind,
        cents,
        days,
        rate,
    )


def test_cost_line_description():
    assert parse_line("Beratung 2 Tage à 800 €", RATE).describe() == (
        "Beratung: 2 Tage à 800,00 € = 1.600,00 €"
    )


def test_form_parsing_takes_the_first_filled_field_and_ignores_quotes():
    text = "Titel: Werkstatt\n\nAm 12.05. schrieb der Assistent:\n> Titel:\n> Zweck: Beratung\n"
    assert parse(text) == {"title": "Werkstatt", "purpose": "Beratung"}
    assert looks_like_form(text)
    assert not looks_like_form("Titel: nur ein Feld")


def test_blank_form_has_every_field_on_its_own_line():
    assert render(None).splitlines() == [
        "Zweck:",
        "Titel:",
        "Beschreibung:",
        "Partnerkommunen:",
        "Kosten:",
    ]


def test_form_lists_end_before_the_signature():
    text = (
        "Beschreibung: Erster Absatz.\n\nZweiter Absatz.\n"
        "Kosten:\nFahrt 120 €\nHotel 90 €\n\nBea Krüger\nOrtsrat Prenzlau\n"
    )
    assert parse(text)["costs"] == "Fahrt 120 €\nHotel 90 €"
    assert parse(text)["description"] == "Erster Absatz.\n\nZweiter Absatz."
    signed = "Kosten:\nFahrt 120 €\nMit freundlichen Grüßen\nBea Krüger"
    assert parse(signed)["costs"] == "Fahrt 120 €"
