"""The command line as operators use it: real processes, a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3

import pytest

from tests.conftest import invoke_process

COMMANDS = [
    [],
    ["run"],
    ["chat"],
    ["db", "upgrade"],
    ["db", "backup"],
    ["municipalities", "import"],
    ["municipalities", "search"],
    ["members", "add"],
    ["members", "invite"],
    ["members", "verify"],
    ["members", "list"],
    ["import", "members"],
    ["import", "posts"],
    ["matches", "export"],
    ["matches", "reindex"],
    ["events", "add"],
    ["events", "link"],
    ["events", "unlink"],
    ["events", "import"],
    ["events", "list"],
    ["events", "cancel"],
    ["digest", "send"],
    ["mail", "failed"],
    ["mail", "retry"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Aufruf" in result.stdout


def test_chat_registers_and_posts(cli):
    anna = "Anna Schmidt\nPrenzlau\n1\nja\n/biete Wir teilen unser Bürgerbus-Konzept\n"
    result = cli("chat", "--as", "a@example.org", stdin=anna)
    assert result.returncode == 0, result.stderr
    assert "veröffentlicht (Nr. 1)" in result.stdout
    ben = "Ben Wagner\nZschopau\n1\nja\n/suche Erfahrungen mit einem Bürgerbus\n"
    result = cli("chat", "--as", "b@example.org", stdin=ben)
    assert "Wir teilen unser Bürgerbus-Konzept" in result.stdout
    assert "[1] Ja, gern" in result.stdout
    # Anna sees the waiting proposal when she comes back.
    result = cli("chat", "--as", "a@example.org", stdin="/treffer\n1\n")
    assert "warten auf Ihre Antwort" in result.stdout
    assert "Sobald die andere Seite" in result.stdout


def test_chat_shows_the_issues_examples(cli):
    """Through the terminal chat: a request sharing no word with the Mitfahrbänke offer
    gets it (as a Vorschlag or as Vielleicht passend); the school-bus tender, which shares
    only words with a request about the mobility of older people, is no Vorschlag for it."""
    from tests.test_matching_tiers import (
        BUS_PROCUREMENT,
        MITFAHRBANK,
        NO_LICENCE,
        SENIOR_MOBILITY,
    )

    anna = f"Anna Schmidt\nPrenzlau\n1\nja\n/biete {MITFAHRBANK}\n/biete {BUS_PROCUREMENT}\n"
    assert cli("chat", "--as", "a@example.org", stdin=anna).returncode == 0
    ben = f"Ben Wagner\nZschopau\n1\nja\n/suche {NO_LICENCE}\n"
    out = cli("chat", "--as", "b@example.org", stdin=ben).stdout
    found = out[out.index("ist veröffentlicht") :]
    assert "„Mitfahrbänke für Seniorinnen und Senioren" in found, out
    assert re.search(r"Warum( vielleicht)?: Mobilität", found), out
    clara = f"Clara Roth\nZschopau\n1\nja\n/suche {SENIOR_MOBILITY}\n"
    out = cli("chat", "--as", "c@example.org", stdin=clara).stdout
    assert "ist veröffentlicht" in out, out
    # Anna's posts are Nr. 1 (Mitfahrbänke) and Nr. 2 (the tender).
    exported = cli("matches", "export", "--format", "json").stdout.splitlines()
    pairs = [json.loads(line) for line in exported]
    assert any(p["offer"] == 1 and p["request"] == 3 for p in pairs), pairs
    assert all(p["status"] != "proposed" for p in pairs if p["offer"] == 2), pairs


def test_chat_shows_a_maybe_with_the_choice_to_ask(cli):
    from tests.test_matching_tiers import MITFAHRBANK, RURAL_NO_BUS

    anna = f"Anna Schmidt\nPrenzlau\n1\nja\n/biete {MITFAHRBANK}\n"
    assert cli("chat", "--as", "a@example.org", stdin=anna).returncode == 0
    ben = f"Ben Wagner\nZschopau\n1\nja\n/suche {RURAL_NO_BUS}\n1\n"
    result = cli("chat", "--as", "b@example.org", stdin=ben)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Vielleicht passend" in out and "Mitfahrbänke" in out
    # The heading is followed by the suggestion; keeping watching comes after it.
    assert out.index("Vielleicht passend") < out.index("Mitfahrbänke") < out.index("Mit „Weiter")
    assert "[1] Kontakt anfragen" in out
    assert "[3] Weiter beobachten" in out  # no Vorschlag: keep watching, offered last
    assert "andere Seite gefragt" in out  # typing 1 picked it
    result = cli("chat", "--as", "a@example.org", stdin="/treffer\n")
    assert "warten auf Ihre Antwort" in result.stdout


def _member(email: str, name: str, role: str, ags: str) -> dict:
    return {"email": email, "name": name, "role": role, "municipality": ags}


def _members_file(tmp_path):
    rows = [
        {
            "email": "a@example.org",
            "name": "Anna Schmidt",
            "role": "mayor",
            "municipality": "12073452",
        },
        {
            "email": "b@example.org",
            "name": "Ben Wagner",
            "role": "volunteer",
            "municipality": "14521690",
        },
    ]
    path = tmp_path / "members.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_import_and_export_matches(cli, tmp_path):
    assert cli("import", "members", str(_members_file(tmp_path))).returncode == 0
    posts = tmp_path / "posts.csv"
    posts.write_text(
        "id,kind,title,body,author_email,topics\n"
        "o1,offer,Unser Bürgerbus-Konzept,Ehrenamtlicher Bürgerbus für Senioren,"
        "a@example.org,Mobilität\n"
        "r1,request,Erfahrungen mit Bürgerbussen gesucht,"
        "Wie organisiert man Fahrdienste für Senioren?,b@example.org,\n"
        "o2,offer,Dorfladen als Genossenschaft,Nahversorgung im Dorf,a@example.org,\n",
        encoding="utf-8",
    )
    result = cli("import", "posts", str(posts))
    assert result.returncode == 0, result.stderr
    assert "3 Beiträge importiert" in result.stdout
    again = cli("import", "posts", str(posts))
    assert "0 Beiträge importiert, 3 bereits vorhanden" in again.stdout

    # The import stored every post's vector and terms: nothing to do. After a model change
    # (here: the stored model renamed) every open post is encoded and stored again.
    result = cli("matches", "reindex")
    assert result.returncode == 0, result.stderr
    assert "3 offene Beiträge geprüft: 0 neu berechnet und gespeichert." in result.stdout
    with sqlite3.connect(tmp_path / "zr.db") as connection:
        connection.execute("UPDATE post_embeddings SET model = 'older-model'")
    result = cli("matches", "reindex")
    assert "3 offene Beiträge geprüft: 3 neu berechnet und gespeichert." in result.stdout
    with sqlite3.connect(tmp_path / "zr.db") as connection:
        models = {m for (m,) in connection.execute("SELECT model FROM post_embeddings")}
    assert models and "older-model" not in models

    result = cli("matches", "export", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and rows[0]["offer"] == "o1" and rows[0]["request"] == "r1"
    assert set(rows[0]) == {
        "offer",
        "request",
        "score",
        "rank_for_request",
        "rank_for_offer",
        "reason",
        "status",
    }
    assert rows[0]["rank_for_request"] == 1 and rows[0]["status"] == "proposed"


def test_export_orders_both_tiers_for_a_request(cli, tmp_path):
    assert cli("import", "members", str(_members_file(tmp_path))).returncode == 0
    posts = tmp_path / "posts.jsonl"
    rows = [
        {"id": "o1", "kind": "offer", "title": "Unser Bürgerbus-Konzept für Senioren"},
        {
            "id": "o2",
            "kind": "offer",
            "title": "Mitfahrbänke an den Ortsausgängen",
            "body": "Klappschilder zeigen das Ziel, wer vorbeifährt, nimmt mit.",
        },
        {
            "id": "r1",
            "kind": "request",
            "title": "Wir suchen ein Bürgerbus-Konzept für Senioren und Erfahrungen mit dem "
            "Fahrdienst",
        },
    ]
    for row, email in zip(rows, ("a", "a", "b"), strict=True):
        row["author_email"] = f"{email}@example.org"
    posts.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    result = cli("import", "posts", str(posts))
    assert result.returncode == 0, result.stderr
    assert "Einbettungen" in result.stderr  # the encoding has its own progress bar
    out = cli("matches", "export", "--format", "json").stdout
    exported = [json.loads(line) for line in out.splitlines()]
    assert [(r["offer"], r["status"]) for r in exported if r["request"] == "r1"] == [
        ("o1", "proposed"),
        ("o2", "suggested"),
    ]
    assert [r["rank_for_request"] for r in exported] == [1, 2]
    assert exported[0]["score"] > exported[1]["score"]


def test_malformed_import_names_the_line_and_writes_nothing(cli, tmp_path):
    path = tmp_path / "members.jsonl"
    good = json.dumps(
        {"email": "a@example.org", "name": "Anna", "role": "mayor", "municipality": "12073452"}
    )
    path.write_text(good + "\n" + good.replace("a@", "c@") + "\n{broken\n", encoding="utf-8")
    result = cli("import", "members", str(path))
    assert result.returncode == 2
    assert "Zeile 3" in result.stderr and "Traceback" not in result.stderr
    listing = cli("members", "list", "--format", "json")
    assert listing.stdout == ""


def test_unknown_ags_and_role_are_one_line_errors(cli):
    result = cli(
        "members",
        "add",
        "--email",
        "x@example.org",
        "--name",
        "X Y",
        "--municipality",
        "99999999",
        "--role",
        "mayor",
    )
    assert result.returncode == 2
    assert "99999999" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = cli(
        "members",
        "add",
        "--email",
        "x@example.org",
        "--name",
        "X Y",
        "--municipality",
        "12073452",
        "--role",
        "king",
    )
    assert result.returncode == 2 and "king" in result.stderr


def test_bad_configuration_names_the_variable(cli):
    result = cli("members", "list", env_extra={"ZR_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert "ZR_TIMEZONE" in result.stderr and "Traceback" not in result.stderr
    result = cli("members", "list", env_extra={"ZR_SWEEP_SECONDS": "oft"})
    assert result.returncode == 2 and "ZR_SWEEP_SECONDS" in result.stderr


def test_invite_prints_code_and_deep_link_and_code_links_member(cli):
    result = cli(
        "members",
        "invite",
        "--email",
        "m@example.org",
        "--name",
        "Maria Berg",
        "--municipality",
        "14626110",
        "--role",
        "mayor",
    )
    assert result.returncode == 0, result.stderr
    code = result.stdout.split("Code: ")[1].split()[0]
    assert f"https://t.me/ZukunftsraumBot?start={code.replace('-', '')}" in result.stdout
    # The invited member opens the chat: privacy consent first, then the assistant.
    chat = cli("chat", "--as", "m@example.org", stdin="ja\n/meine\n")
    assert "Datenschutz" in chat.stdout and "noch keine offenen Beiträge" in chat.stdout
    verify = cli("members", "verify", "m@example.org")
    assert verify.returncode == 0 and "verifiziert" in verify.stdout


def test_municipality_search(cli):
    result = cli("municipalities", "search", "dueren")
    assert "05358008" in result.stdout and "05358 " in result.stdout
    rows = [
        json.loads(line)
        for line in cli(
            "municipalities", "search", "dueren", "--format", "json"
        ).stdout.splitlines()
    ]
    assert {"05358008", "05358"} <= {row["ags"] for row in rows}
    assert cli("municipalities", "search", "Atlantis").returncode == 1


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//DE
BEGIN:VEVENT
UID:seminar-42@test
DTSTART;TZID=Europe/Berlin:20991203T100000
SUMMARY:Online-Seminar Leerstand
URL:https://konf.example/leerstand
X-ZR-CAPACITY:25
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-P1D
END:VALARM
END:VEVENT
END:VCALENDAR
"""


def test_events_import_list_cancel_and_digest_send(cli, tmp_path):
    calendar = tmp_path / "termine.ics"
    calendar.write_text(ICS, encoding="utf-8")
    assert "1 Termin angelegt, 0 aktualisiert" in cli("events", "import", str(calendar)).stdout
    calendar.write_text(ICS.replace("T100000", "T140000"), encoding="utf-8")
    assert "0 Termine angelegt, 1 aktualisiert" in cli("events", "import", str(calendar)).stdout
    listed = cli("events", "list").stdout
    assert (
        "Online-Seminar Leerstand" in listed and "03.12.2099 14:00" in listed and "0/25" in listed
    )
    added = cli(
        "events",
        "add",
        "--title",
        "Netzwerktreffen",
        "--kind",
        "meeting",
        "--start",
        "2099-06-10 10:00",
        "--location",
        "Görlitz",
    )
    assert added.returncode == 0 and "Termin 2 angelegt" in added.stdout
    assert cli("events", "cancel", "2").returncode == 0
    again = cli("events", "cancel", "2")
    assert again.returncode == 2 and "bereits abgesagt" in again.stderr
    bad = cli("events", "add", "--title", "X", "--start", "morgen")
    assert bad.returncode == 2 and "Ungültige Zeitangabe" in bad.stderr
    assert cli("events", "import", str(tmp_path / "fehlt.ics")).returncode != 0
    past = cli("events", "add", "--title", "Rückblick", "--start", "2020-01-10 10:00")
    assert past.returncode == 2 and "liegt in der Vergangenheit" in past.stderr
    nobody = cli("digest", "send", "--staff", "--now")
    assert nobody.returncode == 1 and "kein Mitglied der Geschäftsstelle" in nobody.stderr
    staff = cli(
        "members", "add", "--email", "s@example.org", "--name", "Sabine Kluge",
        "--municipality", "14626110", "--role", "network_staff",
    )  # fmt: skip
    assert staff.returncode == 0, staff.stderr
    quiet = cli("digest", "send", "--staff", "--now")  # events far ahead: nothing new yet
    assert quiet.returncode == 0 and "Nichts Neues" in quiet.stdout, quiet.stdout
    assert cli("digest", "send").returncode == 2


def test_the_console_script_runs_as_its_own_process(tmp_path, template_db):
    """The other CLI tests run the commands in this process; this one starts the real entry
    point, as operators do, for help and for one bad input."""
    shutil.copy(template_db, tmp_path / "zr.db")
    env = {**os.environ, "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}"}
    shown = invoke_process(["--help"], env, tmp_path)
    assert shown.returncode == 0 and "Aufruf" in shown.stdout
    refused = invoke_process(["members", "verify", "niemand@example.org"], env, tmp_path)
    assert refused.returncode != 0
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr


def test_event_reminders_are_taken_as_operators_write_them(cli, tmp_path):
    """German times before the start, several separated by commas; ISO 8601 still works;
    a bad one is one German line naming it, with an example."""
    for title, reminders in (
        ("Treffen", "7 Tage, 1 Tag, 2 Stunden"),
        ("Seminar", "1 Woche, 30 Minuten"),
        ("Kurs", "P7D,PT2H"),
    ):
        added = cli(
            "events", "add", "--title", title, "--start", "2099-06-10 10:00",
            "--reminders", reminders,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    with sqlite3.connect(tmp_path / "zr.db") as db:
        stored = dict(db.execute("SELECT title, reminder_offsets FROM events"))
    assert stored == {
        "Treffen": '["P7D", "P1D", "PT2H"]',
        "Seminar": '["P7D", "PT30M"]',
        "Kurs": '["P7D", "PT2H"]',
    }
    bad = cli(
        "events", "add", "--title", "X", "--start", "2099-06-10 10:00",
        "--reminders", "7 Tage, sieben Stunden",
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "„sieben Stunden“" in bad.stderr and "„7 Tage, 1 Tag, 2 Stunden“" in bad.stderr
    shown = cli("events", "add", "--help", env_extra={"COLUMNS": "300"}).stdout
    assert "7 Tage, 1 Tag, 2 Stunden" in " ".join(shown.split())


def test_a_very_long_municipality_is_echoed_shortened_in_every_error_line(cli):
    """Ten thousand characters where a municipality belongs: the error line repeats the
    first 60 and "…", in the search as where a member or an entry names one."""
    long = "Lindow" * 1700
    shown = f"„{long[:60]}…“"
    people = ("--email", "x@example.org", "--name", "Eva Roth", "--role", "mayor")
    runs = {
        "search": cli("municipalities", "search", long),
        "members add": cli("members", "add", *people, "--municipality", long),
        "members invite": cli("members", "invite", *people, "--municipality", long),
        "knowledge add": cli(
            "knowledge", "add", "--title=T", "--link=https://example.org", "--municipality", long
        ),
    }
    for name, result in runs.items():
        assert result.returncode != 0, name
        assert result.stderr.count("\n") == 1 and len(result.stderr) < 200, (name, result.stderr)
        assert long[:60] in result.stderr and "…" in result.stderr, (name, result.stderr)
    assert shown in runs["search"].stderr


def test_a_reminder_with_an_unknown_separator_is_one_german_line(cli):
    for reminders in ("1 Tag;2 Stunden", "1 Tag/2 Std"):
        bad = cli(
            "events", "add", "--title", "X", "--start", "2099-06-10 10:00",
            "--reminders", reminders,
        )  # fmt: skip
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert f"„{reminders}“" in bad.stderr and "Traceback" not in bad.stderr


def test_ctrl_c_ends_the_chat_while_it_waits_for_a_line(tmp_path, template_db):
    import signal
    import subprocess
    import sys

    shutil.copy(template_db, tmp_path / "zr.db")
    env = {**os.environ, "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}"}
    env["ZR_MAIL_DIR"] = str(tmp_path / "mail")
    chat = subprocess.Popen(
        [sys.executable, "-m", "zukunftsraum", "chat", "--as", "a@example.org"],
        stdin=subprocess.PIPE,  # kept open: the chat waits for a line
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert "Wie heißen Sie" in chat.stdout.readline() + chat.stdout.readline()
        chat.send_signal(signal.SIGINT)
        # Before, the process went on until Enter was pressed; a generous bound, not speed.
        assert chat.wait(timeout=30) == 130
        assert "Traceback" not in chat.stderr.read()
    finally:
        chat.kill()
        chat.wait()
