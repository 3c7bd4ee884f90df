"""The staff shell reads like the rest: German help, German labels (also as input), staff
words in errors, and JSON where a list is printed."""

from __future__ import annotations

import json

import click
import pytest
import typer
from typer.testing import CliRunner

from zukunftsraum.cli import app

ENGLISH = (
    "Show this message", "Usage:", "[OPTIONS]", "COMMAND [ARGS]", "Options", "Commands",
    "<str>", "<int>", "<bool>", "<path>", "[Standard: no-", "[Standard: submitted]",
    "{id}", "{file}", "{member}", "{folder}", "{query}", "{entry_id}", "{event_id}",
)  # fmt: skip


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


def _commands(command, prefix=()):
    for name, sub in getattr(command, "commands", {}).items():
        yield (*prefix, name), sub
        yield from _commands(sub, (*prefix, name))


def test_command_lists_show_whole_sentences_and_numbers_alike():
    for path, command in _commands(typer.main.get_command(app)):
        # A group's list shows the first line of each command's help: a sentence of its own.
        first = (command.help or "").strip().splitlines()[0]
        assert first.endswith("."), (path, first)
        # Numbers read "<Zahl>" in every option, not a name of their own.
        named = [p.name for p in command.params if isinstance(p, click.Option) and p.metavar]
        assert named == [], (path, named)
    link = CliRunner().invoke(app, ["events", "link", "--help"], env={"COLUMNS": "200"})
    assert "--entry  " in link.output and "<Zahl>  Nr. des Eintrags" in link.output


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


# --- the parser's own errors, the operating system's and the configuration's --------------

ENGLISH_ERRORS = (
    "Error", "No such", "Missing", "Invalid value", "Got unexpected", "Try '", "requires",
    "Input should", "Did you mean", "Usage", "not a valid", "does not exist", "directory",
    "unable to parse", "Traceback",
)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["members", "list", "--bogus"], "Unbekannte Option --bogus."),
        (["members", "list", "--unverifed"], "Meinten Sie --unverified?"),
        (["members", "add", "--name", "X"], "Option --email fehlt."),
        (["members", "verify"], "Argument MITGLIED fehlt."),
        (["grants", "approve", "abc"], "Ungültiger Wert für NR: „abc“ ist keine ganze Zahl."),
        (["grants", "list", "--year", "zwei"], "Ungültiger Wert für --year: „zwei“"),
        (["members", "list", "--format"], "Die Option --format braucht einen Wert."),
        (["members", "list", "extra"], "Zu viele Argumente: extra."),
        (["member", "list"], "Unbekannter Befehl „member“. Meinten Sie members?"),
        (["zauberei"], "Unbekannter Befehl „zauberei“."),
        (["events", "import", "fehlt.ics"], "Datei oder Verzeichnis nicht gefunden: fehlt.ics"),
        (["grants", "export", "nirgends/x.csv"], "Datei oder Verzeichnis nicht gefunden"),
        (["import", "members", "fehlt.csv"], "Datei oder Verzeichnis nicht gefunden"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_errors_are_one_german_line(cli, args, expected):
    result = cli(*args)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Fehler: ") and expected in lines[0], lines[0]
    for english in ENGLISH_ERRORS:
        assert english not in lines[0], (english, lines[0])


def test_usage_errors_point_to_the_help(cli):
    line = cli("members", "list", "--bogus").stderr.strip()
    assert line.endswith("Hilfe: zukunftsraum members list --help")
    assert cli("members", "list", "--bogus").returncode == 2


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ZR_HTTP_PORT": "abc"}, "ZR_HTTP_PORT: „abc“ ist keine ganze Zahl"),
        ({"ZR_HTTP_PORT": "70000"}, "ZR_HTTP_PORT: erwartet: ein TCP-Port 1-65535"),
        (
            {"ZR_SMTP_TLS": "ssl"},
            "ZR_SMTP_TLS: „ssl“ ist nicht erlaubt (erwartet: 'none', 'starttls' oder 'tls')",
        ),
        ({"ZR_IMAP_IDLE": "vielleicht"}, "ZR_IMAP_IDLE: „vielleicht“ ist kein Wahrheitswert"),
        ({"ZR_TIMEZONE": "Mars/Olymp"}, "ZR_TIMEZONE: unbekannte Zeitzone „Mars/Olymp“"),
        ({"ZR_SWEEP_SECONDS": "0"}, "ZR_SWEEP_SECONDS: muss mindestens 1 sein"),
        ({"ZR_GRANT_APPLICATION_DEADLINE": "13-40"}, "erwartet: Monat-Tag wie 09-30"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_configuration_errors_name_the_setting_in_german(cli, env, expected):
    result = cli("members", "list", env_extra=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"Fehler: {expected}"] or (
        len(result.stderr.splitlines()) == 1 and expected in result.stderr
    ), result.stderr
    assert "Input should" not in result.stderr and "Traceback" not in result.stderr


def test_errors_in_a_real_process(tmp_path, template_db):
    """The console script itself: German one-line errors from the parser, the operating
    system and the configuration, each with a non-zero exit."""
    import os
    import shutil

    from tests.conftest import invoke_process

    shutil.copy(template_db, tmp_path / "zr.db")
    env = {**os.environ, "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}", "COLUMNS": "80"}
    cases = [
        (["members", "list", "--bogus"], env, "Fehler: Unbekannte Option --bogus."),
        (["events", "import", "fehlt.ics"], env, "Fehler: Datei oder Verzeichnis nicht gefunden"),
        (["members", "list"], {**env, "ZR_HTTP_PORT": "abc"}, "Fehler: ZR_HTTP_PORT: „abc“"),
    ]
    for args, environment, expected in cases:
        result = invoke_process(args, environment, tmp_path)
        assert result.returncode != 0, args
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(expected), (
            result.stderr
        )
