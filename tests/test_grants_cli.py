"""Staff review from the shell: `zukunftsraum grants list/approve/reject/pay/export`."""

from __future__ import annotations

import csv
import io
import json

import pytest

# The system clock decides in these processes; keep the programme open all year.
OPEN = {"ZR_GRANT_APPLICATION_DEADLINE": "12-31", "ZR_GRANT_INVOICE_DEADLINE": "12-31"}


@pytest.mark.parametrize("command", ["list", "approve", "reject", "pay", "export"])
def test_every_grants_command_has_help(cli, command):
    result = cli("grants", command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Aufruf" in result.stdout


def _apply(cli, email, name, ags, dialogue):
    added = cli(
        "members", "add", "--email", email, "--name", name,
        "--municipality", ags, "--role", "mayor", "--verified",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = cli("chat", "--as", email, stdin="ja\n/antrag\n" + dialogue, env_extra=OPEN)
    assert "eingereicht" in result.stdout, result.stdout


def test_review_decide_and_export(cli, tmp_path):
    _apply(
        cli, "f@example.org", "Fritz Lange", "08311000",
        "2\nBesuch in Görlitz\nWir besuchen das Projekt Probewohnen.\nGörlitz\nfertig\n"
        "Fahrt Freiburg–Görlitz 240 €\nfertig\nja\n",
    )  # fmt: skip
    _apply(
        cli, "g@example.org", "Greta Hahn", "14626110",
        "1\nDemografie-Werkstatt\nEine moderierte Werkstatt zur Prognose.\nfertig\n"
        "Beratung 2 Tage à 800 €\nfertig\nja\n",
    )  # fmt: skip

    listed = cli("grants", "list", "--format", "json", env_extra=OPEN)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    # Görlitz (structurally weak) comes first although Freiburg submitted earlier.
    assert [(r["id"], r["municipality"], r["state"]) for r in rows] == [
        (2, "14626110", "submitted"),
        (1, "08311000", "submitted"),
    ]
    assert rows[0]["requested_cents"] == 160000

    approved = cli("grants", "approve", "2", "--amount", "1.200,00", env_extra=OPEN)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == "Antrag 2 bewilligt: 1.200,00 €."
    again = cli("grants", "approve", "2", env_extra=OPEN)
    assert again.returncode == 2 and "bereits entschieden" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1

    rejected = cli("grants", "reject", "1", "--reason", "Reisen ins Ausland", env_extra=OPEN)
    assert rejected.returncode == 0 and "Antrag 1 abgelehnt." in rejected.stdout
    for bad in (["approve", "99"], ["reject", "1", "--reason", "x"], ["pay", "2"]):
        result = cli("grants", *bad, env_extra=OPEN)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert cli("grants", "approve", "2", "--amount", "-3", env_extra=OPEN).returncode == 2

    table = cli("grants", "list", "--state", "all", env_extra=OPEN)
    assert "bewilligt" in table.stdout and "abgelehnt" in table.stdout

    target = tmp_path / "grants.csv"
    exported = cli("grants", "export", "--year", "2026", str(target), env_extra=OPEN)
    assert exported.returncode == 0, exported.stderr
    content = target.read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    by_id = {r["id"]: r for r in rows}
    assert by_id["2"]["state"] == "approved"
    assert (by_id["2"]["requested_eur"], by_id["2"]["approved_eur"]) == ("1600,00", "1200,00")
    assert by_id["1"]["state"] == "rejected" and by_id["1"]["approved_eur"] == ""
    assert by_id["1"]["municipality"] == "08311000"

    summary = cli("grants", "export", "--year", "2026", "--summary", env_extra=OPEN)
    lines = summary.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("municipality;municipality_name;year;state;applications")
    assert "14626110;Görlitz, Stadt;2026;approved;1;1600,00;1200,00;0,00" in lines
