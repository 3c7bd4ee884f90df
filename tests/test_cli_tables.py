"""Every list of the staff shell at 80 columns and in a pipe: no line wider than the
terminal, German headers and labels, and the same rows as JSON Lines."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from rich.console import Console

from core.store.models import InboundMail, OutboxMessage
from core.store.unit_of_work import Database
from tests.test_grants_cli import OPEN, _apply
from zukunftsraum.cli.tables import Column, table

LONG_TITLE = (
    "Online-Werkstatt [2026]: Leerstand in Ortskernen aktivieren – Erfahrungen aus drei "
    "Landkreisen, mit Checklisten, Förderwegen und einem ausführlichen Praxisteil"
)
LONG_LINK = (
    "https://wissen.example.org/leitfaeden/dorfladen/genossenschaft-gruenden-und-foerdern.pdf"
)
LISTS = [
    ("members", "list"),
    ("events", "list", "--all"),
    ("knowledge", "list"),
    ("grants", "list", "--state", "alle"),
    ("mail", "failed"),
    ("municipalities", "search", "dueren"),
    ("matches", "export"),
]
CODES = ("published", "draft", "proposed", "suggested", "submitted", "network_staff", "mayor")


async def _set_aside_mails(url: str) -> None:
    db = Database(url)
    try:
        async with db.uow() as uow:
            now = datetime.now(UTC)
            uow.session.add(
                InboundMail(
                    folder="INBOX", uidvalidity=1, uid=7, message_id="<x@example.org>",
                    raw=b"Subject: x\r\n\r\nx", received_at=now, status="failed", attempts=5,
                    error="unreadable: " + "sehr lange Begründung " * 12,
                )
            )  # fmt: skip
            uow.session.add(
                OutboxMessage(
                    channel="email", address="sabine.kluge-verwaltung@landkreis.example.org",
                    kind="member_digest", text="…", status="failed", attempts=8,
                    last_error="550 5.1.1 mailbox unavailable " * 6, created_at=now,
                    not_before=now,
                )
            )  # fmt: skip
            await uow.commit()
    finally:
        await db.dispose()


@pytest.fixture
def filled(cli, tmp_path):
    """A shell with something in every list, written with long titles, names and links."""
    add = cli(
        "members", "add", "--email", "sabine.kluge-verwaltung@landkreis-mittelsachsen.example.org",
        "--name", "Sabine Kluge-Hohenstein von Wartenberg", "--municipality", "12073452",
        "--role", "Geschäftsstelle des Netzwerks", "--verified",
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    events = [
        ("--title", LONG_TITLE, "--start", "2099-12-03 10:00", "--url", LONG_LINK,
         "--kind", "Online-Seminar", "--capacity", "25"),
        ("--title", "Netzwerktreffen Ost", "--start", "2099-11-03 10:00", "--kind",
         "netzwerktreffen", "--location", "Rathaus Prenzlau, Großer Saal", "--draft"),
    ]  # fmt: skip
    for options in events:
        result = cli("events", "add", *options)
        assert result.returncode == 0, result.stderr
    result = cli("knowledge", "add", "--title", LONG_TITLE, "--link", LONG_LINK, "--draft")
    assert result.returncode == 0, result.stderr
    _apply(
        cli, "f@example.org", "Fritz Lange", "08311000",
        "2\nBesuch in Görlitz mit einer sehr langen Beschreibung des Vorhabens und der Ziele\n"
        "Wir besuchen das Projekt Probewohnen.\nGörlitz\nfertig\n"
        "Fahrt Freiburg–Görlitz 240 €\nfertig\nja\n",
    )  # fmt: skip
    posts = tmp_path / "posts.csv"
    posts.write_text(
        "id,kind,title,body,author_email\n"
        "angebot-buergerbus-uckermark-2026,offer,Unser Bürgerbus-Konzept,"
        "Ehrenamtlicher Bürgerbus für Seniorinnen und Senioren,f@example.org\n"
        "gesuch-fahrdienste-senioren-2026,request,Erfahrungen mit Bürgerbussen gesucht,"
        "Wie organisiert man Fahrdienste für Senioren?,"
        "sabine.kluge-verwaltung@landkreis-mittelsachsen.example.org\n",
        encoding="utf-8",
    )
    imported = cli("import", "posts", str(posts))
    assert imported.returncode == 0, imported.stderr
    asyncio.run(_set_aside_mails(f"sqlite:///{tmp_path / 'zr.db'}"))
    return cli


@pytest.mark.parametrize("args", LISTS, ids=" ".join)
def test_every_list_fits_80_columns(filled, args):
    for env in ({"COLUMNS": "80"}, {"COLUMNS": ""}):  # a terminal of 80, and a pipe
        result = filled(*args, env_extra={**env, **OPEN})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) >= 3, result.stdout  # a header, a rule, a row at least
        too_wide = [line for line in lines if len(line) > 80]
        assert not too_wide, "\n".join(too_wide)
        for code in CODES:
            assert code not in result.stdout, (code, result.stdout)


@pytest.mark.parametrize("args", LISTS, ids=" ".join)
def test_every_list_as_json_lines(filled, args):
    result = filled(*args, "--format", "json", env_extra=OPEN)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(isinstance(row, dict) for row in rows)
    assert filled(*args, "--format", "xml").returncode == 2


def test_lists_show_labels_and_keep_codes_for_scripts(filled):
    events = filled("events", "list", "--all", env_extra={"COLUMNS": "80"}).stdout
    assert "(Entwurf)" in events and "Online-Seminar" in events
    knowledge = filled("knowledge", "list", "--status", "Entwurf").stdout
    assert "Entwurf" in knowledge and "draft" not in knowledge
    assert "Keine Einträge." in filled("knowledge", "list", "--status", "zurückgezogen").stdout
    refused = filled("knowledge", "list", "--status", "fertig")
    assert refused.returncode == 2 and "Möglich: alle, Entwurf, veröffentlicht" in refused.stderr
    (row,) = [
        json.loads(r)
        for r in filled("knowledge", "list", "--format", "json").stdout.split("\n")
        if r
    ]
    assert row["status"] == "draft"
    matches = filled("matches", "export", "--status", "Vorschlag").stdout
    assert "Vorschlag" in matches
    assert "Wert" in matches and "Score" not in matches
    assert re.search(r"\b[01],\d{3}\b", matches) and not re.search(r"\b[01]\.\d{3}\b", matches)
    failed = [
        json.loads(r) for r in filled("mail", "failed", "--format", "json").stdout.splitlines()
    ]
    assert [r["direction"] for r in failed] == ["incoming", "outgoing"]
    assert failed[1]["to"].startswith("s…@") and "body" not in failed[1]


def test_added_items_name_their_state_in_german(cli):
    added = cli("events", "add", "--title", "Werkstatt", "--start", "2099-05-05 10:00", "--draft")
    assert added.stdout.startswith("Termin 1 angelegt (Entwurf): Werkstatt")
    published = cli("events", "add", "--title", "Treffen", "--start", "2099-05-06 10:00")
    assert "(veröffentlicht)" in published.stdout
    bad = cli("events", "add", "--title", "X", "--start", "2099-05-06 10:00", "--kind", "party")
    assert bad.returncode == 2 and "Unbekannte Art „party“" in bad.stderr
    entry = cli("knowledge", "add", "--title", "Leitfaden", "--link", "https://x.example")
    assert "(veröffentlicht)" in entry.stdout and "published" not in entry.stdout


def test_control_characters_in_a_cell_never_reach_the_terminal():
    rows = [{"name": "Eva\x1b[2J\x1b]0;x\x07 Roth\x9b31m\x00\x7f", "id": 1}]
    columns = [Column("Nr.", lambda r: r["id"], wrap=False), Column("Name", lambda r: r["name"])]
    for terminal in (False, True):
        shown = StringIO()
        Console(file=shown, width=80, force_terminal=terminal, color_system=None).print(
            table(rows, columns)
        )
        text = shown.getvalue()
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), repr(text)
        assert "Eva?[2J?]0;x? Roth?31m??" in text
