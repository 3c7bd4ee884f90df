"""The staff shell reads like the rest: German help, German labels (also as input), staff
words in errors, and JSON where a list is printed."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from zukunftsraum.cli import app

ENGLISH = ("Show this message", "Usage:", "[OPTIONS]", "COMMAND [ARGS]", "Options", "Commands")


def _paths(command, prefix=()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _paths(sub, (*prefix, name))


@pytest.mark.parametrize("path", list(_paths(typer.main.get_command(app))), ids=" ".join)
def test_every_help_is_german(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Diese Hilfe anzeigen und beenden." in result.output
    assert "Aufruf:" in result.output
    for english in ENGLISH:
        assert english not in result.output, (path, english)


def test_labels_shown_and_accepted(cli):
    added = cli(
        "members", "add", "--email", "s@example.org", "--name", "Sabine Kluge",
        "--municipality", "12073452", "--role", "Geschäftsstelle des Netzwerks",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = cli("members", "list").stdout
    assert "Geschäftsstelle des Netzwerks" in listed and "network_staff" not in listed
    (row,) = [
        json.loads(line) for line in cli("members", "list", "--format", "json").stdout.splitlines()
    ]
    assert row["role"] == "network_staff"  # codes for scripts
    assert cli("grants", "list", "--state", "bewilligt").returncode == 0
    assert cli("grants", "list", "--state", "Rückfrage offen").returncode == 0
    assert cli("grants", "list", "--state", "alle", "--format", "json").returncode == 0
    refused = cli("grants", "list", "--state", "genehmigt")
    assert refused.returncode == 2 and "Möglich: alle, Entwurf, eingereicht" in refused.stderr
    bad_role = cli(
        "members", "add", "--email", "x@example.org", "--name", "X Y",
        "--municipality", "12073452", "--role", "Chefin",
    )  # fmt: skip
    assert bad_role.returncode == 2 and "Unbekannte Funktion „Chefin“" in bad_role.stderr


def test_errors_speak_to_staff_not_to_members(cli):
    result = cli(
        "members", "add", "--email", "s@example.org", "--name", " ",
        "--municipality", "12073452", "--role", "volunteer",
    )  # fmt: skip
    assert result.returncode == 2
    assert "Der Name fehlt (--name" in result.stderr and "Bitte nennen Sie" not in result.stderr
    missing = cli("grants", "approve", "999")
    assert "Einen Antrag Nr. 999 gibt es nicht." in missing.stderr
    assert "Ihnen" not in missing.stderr


def test_events_list_as_json(cli):
    assert cli("events", "list", "--format", "json").stdout == ""
    assert "Keine kommenden Termine." in cli("events", "list").stdout
    assert cli("events", "list", "--format", "xml").returncode == 2
