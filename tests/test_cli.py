"""The command line as operators use it: real processes, a real SQLite file."""

from __future__ import annotations

import json

import pytest

COMMANDS = [
    [],
    ["run"],
    ["chat"],
    ["db", "upgrade"],
    ["municipalities", "import"],
    ["municipalities", "search"],
    ["members", "add"],
    ["members", "invite"],
    ["members", "verify"],
    ["members", "list"],
    ["import", "members"],
    ["import", "posts"],
    ["matches", "export"],
    ["events", "add"],
    ["events", "import"],
    ["events", "list"],
    ["events", "cancel"],
    ["digest", "send"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


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


def test_chat_shows_a_maybe_with_the_choice_to_ask(cli):
    from tests.test_matching_tiers import MITFAHRBANK, NO_LICENCE

    anna = f"Anna Schmidt\nPrenzlau\n1\nja\n/biete {MITFAHRBANK}\n"
    assert cli("chat", "--as", "a@example.org", stdin=anna).returncode == 0
    ben = f"Ben Wagner\nZschopau\n1\nja\n/suche {NO_LICENCE}\n1\n"
    result = cli("chat", "--as", "b@example.org", stdin=ben)
    assert result.returncode == 0, result.stderr
    assert "Vielleicht passend" in result.stdout and "Mitfahrbänke" in result.stdout
    assert "[1] Kontakt anfragen" in result.stdout
    assert "andere Seite gefragt" in result.stdout  # typing 1 picked it
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
            "title": "Rufbus statt leerer Linienbusse",
            "body": "Fahrten werden telefonisch bestellt, der Kleinbus fährt nur bei Bedarf.",
        },
        {"id": "r1", "kind": "request", "title": "Erfahrungen mit Bürgerbus und Fahrdienst"},
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
