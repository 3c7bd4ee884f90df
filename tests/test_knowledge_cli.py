"""The knowledge collection through the product: ``zukunftsraum knowledge`` and the
terminal chat, as real processes on a real SQLite file and data directory."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.knowledge_files import GUIDES, pdf_bytes, write_collection

ANNA = "Anna Schmidt\nPrenzlau\n1\nja\n"


def _entries(cli) -> list[dict]:
    result = cli("knowledge", "list", "--format", "json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "var" / "data" / "knowledge"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_import_then_wissen_buergerbus_lists_the_guide_first_and_sends_its_file(cli, tmp_path):
    write_collection(tmp_path / "docs")
    result = cli("knowledge", "import", "docs", "--index", "docs/index.csv")
    assert result.returncode == 0, result.stderr
    assert "3 Einträge importiert, 0 nicht importiert." in result.stdout

    chat = cli("chat", "--as", "a@example.org", stdin=ANNA + "/wissen Bürgerbus\n1\n")
    assert chat.returncode == 0, chat.stderr
    answer = chat.stdout.split("> /wissen Bürgerbus", 1)[1]
    first = answer.split("\n1. ", 1)[1].split("\n2. ")[0]
    assert first.startswith("Leitfaden Bürgerbus")
    assert "Leitfaden, 01.05.2025, aus Prenzlau" in first
    assert "So gründen Sie einen Bürgerbusverein" in first
    assert "Warum: passt zu Bürgerbus" in first
    # Typing 1 picks "Datei zu 1 senden": the terminal saves the PDF as it was imported.
    saved = tmp_path / "var" / "exports" / "buergerbus.pdf"
    assert saved.read_bytes() == (tmp_path / "docs" / "buergerbus.pdf").read_bytes()
    assert len(_stored_files(tmp_path)) == 3


def test_search_words_that_are_not_in_the_title_still_find_by_content(cli, tmp_path):
    write_collection(tmp_path / "docs")
    assert cli("knowledge", "import", "docs").returncode == 0  # index.csv found by itself
    chat = cli("chat", "--as", "a@example.org", stdin=ANNA + "/wissen Trinkwasserbrunnen\n")
    answer = chat.stdout.split("> /wissen Trinkwasserbrunnen", 1)[1]
    assert answer.split("\n1. ", 1)[1].startswith("Hitzeaktionsplan")


def test_bad_files_are_reported_with_their_reason_and_nothing_half_written(cli, tmp_path):
    docs = tmp_path / "docs"
    write_collection(docs)
    (docs / "kaputt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nabgeschnitten")
    (docs / "notizen.xyz").write_bytes(b"irgendwas")
    (docs / "kopie.pdf").write_bytes((docs / "buergerbus.pdf").read_bytes())
    (docs / "gross.txt").write_text("Bürgerbus " * 120_000, encoding="utf-8")  # 1.3 MB
    result = cli("knowledge", "import", "docs", env_extra={"ZR_KNOWLEDGE_MAX_MB": "1"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any("kaputt.pdf: Die Datei ist kein lesbares PDF-Dokument" in line for line in lines)
    assert any("notizen.xyz: Das Format „.xyz“ kann ich nicht lesen" in line for line in lines)
    assert any(
        "kopie.pdf: Diese Datei ist schon in der Wissenssammlung: Eintrag" in line for line in lines
    )
    assert any("gross.txt: Die Datei ist 1,3 MB groß; höchstens 1,0 MB" in line for line in lines)
    assert "3 Einträge importiert, 4 nicht importiert." in result.stdout
    # Each refused file left neither a row nor a stored file.
    assert len(_entries(cli)) == 3 and len(_stored_files(tmp_path)) == 3
    assert not list((tmp_path / "var" / "data").rglob("*.part"))

    again = cli("knowledge", "add", "--file", "docs/kopie.pdf")
    assert again.returncode == 2
    assert again.stderr.strip().startswith("Fehler: Diese Datei ist schon in der Wissenssammlung")
    assert len(again.stderr.strip().splitlines()) == 1


def test_add_publish_withdraw_and_empty_query(cli, tmp_path):
    (tmp_path / "leitfaden.pdf").write_bytes(
        pdf_bytes("Leitfaden Dorfladen", ["Genossenschaft gründen, Sortiment planen."])
    )
    added = cli(
        "knowledge", "add", "--file", "leitfaden.pdf", "--kind", "praxisbeispiel", "--draft"
    )
    assert added.returncode == 0, added.stderr
    assert "Eintrag 1 angelegt (Entwurf): leitfaden" in added.stdout
    search = ANNA + "/wissen Dorfladen\n"
    assert "nichts Passendes" in cli("chat", "--as", "a@example.org", stdin=search).stdout
    assert cli("knowledge", "publish", "1").returncode == 0
    found = cli("chat", "--as", "a@example.org", stdin="/wissen Dorfladen\n/wissen\n").stdout
    assert "1. leitfaden\nPraxisbeispiel" in found
    assert "Wonach möchten Sie suchen?" in found
    assert cli("knowledge", "withdraw", "1").returncode == 0
    assert _entries(cli)[0]["status"] == "withdrawn"
    gone = cli("chat", "--as", "a@example.org", stdin="/wissen Dorfladen\n/wissen_datei 1\n")
    assert "nichts Passendes" in gone.stdout and "nicht (mehr) veröffentlicht" in gone.stdout

    bad = cli("knowledge", "add", "--title", "Ohne alles")
    assert bad.returncode == 2 and "Link oder eine Datei" in bad.stderr
    kind = cli("knowledge", "add", "--link", "https://example.org", "--kind", "roman")
    assert kind.returncode == 2 and "Die Art „roman“ kenne ich nicht" in kind.stderr
    assert cli("knowledge", "publish", "99").stderr.count("\n") == 1
    assert set(GUIDES)  # the shared guides stay importable by name


def test_every_knowledge_command_has_german_help(cli):
    for command in ("add", "import", "list", "publish", "withdraw", "decline"):
        result = cli("knowledge", command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Aufruf" in result.stdout
    assert "Wissenssammlung" in cli("knowledge", "--help").stdout


def test_reindex_after_a_model_change_encodes_again_and_reads_missing_texts(cli, tmp_path):
    write_collection(tmp_path / "docs")
    assert cli("knowledge", "import", "docs").returncode == 0
    result = cli("knowledge", "reindex")
    assert result.returncode == 0, result.stderr
    assert "3 Einträge geprüft: 0 neu eingebettet, 0 Texte neu gelesen." in result.stdout

    # As after a new encoder: the stored vectors are another model's; one text was lost.
    with sqlite3.connect(tmp_path / "zr.db") as connection:
        connection.execute("UPDATE knowledge_entries SET vector_model = 'older-model'")
        connection.execute(
            "UPDATE knowledge_entries SET text = '' WHERE file_name = ?", ("buergerbus.pdf",)
        )
        before = dict(connection.execute("SELECT id, vector FROM knowledge_entries"))
    result = cli("knowledge", "reindex")
    assert result.returncode == 0, result.stderr
    assert "3 Einträge geprüft: 3 neu eingebettet, 1 Texte neu gelesen." in result.stdout
    with sqlite3.connect(tmp_path / "zr.db") as connection:
        rows = connection.execute(
            "SELECT id, vector, vector_model, text, file_name FROM knowledge_entries"
        ).fetchall()
    assert {model for _, _, model, _, _ in rows} != {"older-model"}
    assert all(vector == before[entry_id] for entry_id, vector, *_ in rows)  # same model now
    [text] = [text for *_, text, name in rows if name == "buergerbus.pdf"]
    assert "Bürgerbusverein" in text

    # A file gone from the data directory is named, the rest still done.
    for path in _stored_files(tmp_path):
        path.unlink()
    result = cli("knowledge", "reindex", "--all", "--extract")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Datei fehlt im Datenverzeichnis") == 3
    assert "3 neu eingebettet, 0 Texte neu gelesen." in result.stdout


def test_the_list_names_who_suggested_an_entry(cli):
    """A member's suggestion names the member, the network's own entry "–", in the table
    as in the JSON."""
    own = cli("knowledge", "add", "--title", "Leitfaden Dorfbus", "--link", "https://example.org/a")
    assert own.returncode == 0, own.stderr
    suggest = ANNA + "/wissen_vorschlagen Unser Dorfladen | https://example.org/laden\n"
    assert "Vorschlag" in cli("chat", "--as", "a@example.org", stdin=suggest).stdout
    listed = cli("knowledge", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = [line for line in listed.stdout.splitlines() if line.strip()]
    assert header.rstrip().endswith("Vorgeschlagen von")
    [dorfbus] = [row for row in rows if "Dorfbus" in row]
    [laden] = [row for row in rows if "Dorfladen" in row]
    assert dorfbus.rstrip().endswith("–") and laden.rstrip().endswith("Anna Schmidt")
    names = {e["title"]: e["suggested_by_name"] for e in _entries(cli)}
    assert names == {"Leitfaden Dorfbus": None, "Unser Dorfladen": "Anna Schmidt"}
