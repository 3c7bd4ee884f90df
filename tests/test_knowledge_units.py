"""The parts of the knowledge collection on their own: formats, the file store, the
search's German analysis, and hostile input to the commands."""

from __future__ import annotations

import io
import logging
import zipfile

import pytest

from core.kernel.errors import UserError
from core.knowledge import entries
from core.knowledge.extract import UnreadableFile, extract_text
from core.knowledge.files import FileStore, clean_name, content_hash
from core.knowledge.search import EntryDoc, KnowledgeEngine, Query
from tests.knowledge_files import docx_bytes, odt_bytes, pdf_bytes

PARAGRAPHS = ["Die Gemeinde gründet einen Bürgerbusverein mit ehrenamtlichen Fahrern."]


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("a.pdf", pdf_bytes, "application/pdf"),
        ("a.docx", docx_bytes, "wordprocessingml"),
        ("a.odt", odt_bytes, "opendocument.text"),
    ],
)
def test_office_formats_are_read_by_content(name, make, kind):
    data = make("Leitfaden Bürgerbus", PARAGRAPHS)
    found, text = extract_text(name, data)
    assert kind in found
    assert "Leitfaden Bürgerbus" in text and "Bürgerbusverein" in text
    # Renamed, the content still decides.
    assert extract_text("umbenannt.bin", data)[0] == found


def test_plain_text_and_markdown_in_any_common_encoding():
    assert extract_text("n.txt", "Mitfahrbänke".encode("cp1252"))[1] == "Mitfahrbänke"
    assert extract_text("n.md", b"# Dorfladen\n\nGenossenschaft")[1] == (
        "# Dorfladen Genossenschaft"
    )


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("k.pdf", b"%PDF-1.4\nnichts weiter", "kein lesbares PDF-Dokument"),
        ("k.pdf", b"kein pdf", "kein lesbares PDF-Dokument"),
        ("k.docx", b"PK\x03\x04kaputt", "kein lesbares DOCX-Dokument"),
        ("k.exe", b"MZ\x90\x00", "Das Format „.exe“ kann ich nicht lesen"),
        ("ohne", b"abc", "Das Format „ohne Endung“"),
        ("bild.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "keinen lesbaren Text"),
    ],
)
def test_damaged_and_unknown_files_are_refused_with_a_reason(name, data, says):
    with pytest.raises(UnreadableFile) as refused:
        extract_text(name, data)
    assert says in refused.value.message and "\n" not in refused.value.message


def test_a_zip_that_is_no_office_file_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bild.png", b"x")
    with pytest.raises(UnreadableFile, match="kann ich nicht lesen"):
        extract_text("paket.zip", buffer.getvalue())


def test_file_store_keeps_one_copy_and_undoes_a_failed_step(tmp_path):
    store = FileStore(tmp_path)
    sha, written = store.put(b"Inhalt")
    assert written and store.read(sha) == b"Inhalt" and sha == content_hash(b"Inhalt")
    assert store.put(b"Inhalt") == (sha, False)  # never twice
    with pytest.raises(RuntimeError), store.kept(b"anderer Inhalt") as other:
        assert store.has(other)
        raise RuntimeError("row did not commit")
    assert not store.has(other)
    with pytest.raises(RuntimeError), store.kept(b"Inhalt"):
        raise RuntimeError("row did not commit")
    assert store.has(sha)  # an older file is not removed by a later failed step
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [f"{sha}.bin"]


def test_search_understands_compounds_inflections_and_the_thesaurus():
    engine = KnowledgeEngine()
    engine.bulk_upsert(
        [
            EntryDoc(1, "Leitfaden Bürgerbus", "Gründung eines Bürgerbusvereins"),
            EntryDoc(2, "Checkliste Mitfahrbank", "Bänke am Ortsausgang aufstellen"),
            EntryDoc(3, "Studie Glasfaser", "Breitbandausbau in Dörfern"),
        ]
    )
    assert [h.entry_id for h in engine.search(Query("Mitfahrbänke"))][:1] == [2]
    assert [h.entry_id for h in engine.search(Query("Bürgerbusse"))][:1] == [1]
    [hit] = engine.search(Query("Breitband"))
    assert hit.entry_id == 3 and "Breitband" in hit.shared
    assert engine.search(Query("Raumfahrt")) == []
    engine.remove(3)
    assert engine.search(Query("Glasfaser")) == []


def test_kinds_dates_and_topics_are_parsed_or_refused():
    assert entries.parse_kind("E-Learning") == "elearning"
    assert entries.parse_kind("Good Practice") == "praxisbeispiel"
    with pytest.raises(UserError, match="Möglich sind: Leitfaden, Checkliste"):
        entries.parse_kind("Roman")
    assert str(entries.parse_date("01.03.2026")) == "2026-03-01"
    assert str(entries.parse_date("2024")) == "2024-01-01"
    with pytest.raises(UserError, match=r"31\.02\.2026"):
        entries.parse_date("31.02.2026")
    assert entries.split_topics("Mobilität; Ehrenamt, ÖPNV") == ["Mobilität", "Ehrenamt", "ÖPNV"]


async def test_hostile_input_to_the_commands(person):
    anna = person("anna@prenzlau.example")
    await anna.register("Anna Schmidt", "Prenzlau")
    for line, says in [
        ("/wissen " + "Bürgerbus " * 40, "höchstens 200 Zeichen"),
        ("/wissen_datei", "Nummer des Eintrags"),
        ("/wissen_datei 99999999999999999999999", "gibt es in der Wissenssammlung nicht"),
        ("/wissen_datei 7", "Eintrag 7 gibt es"),
        ("/wissen <script>alert(1)</script> %00 ' OR 1=1 --", "nichts Passendes"),
        ("/wissen_vorschlagen | | |", "Link oder eine Datei"),
        ("/wissen_vorschlagen Titel | javascript:alert(1)", "Link oder eine Datei"),
    ]:
        await anna.say(line)
        assert says in anna.text, (line, anna.text)


def test_a_damaged_files_parser_detail_goes_to_the_log_only(caplog):
    # A cut PDF: pypdf reports in English ("Stream has ended unexpectedly" or the like).
    whole = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\nxref\n0 2\n"
    with (
        caplog.at_level(logging.WARNING, logger="core.knowledge.extract"),
        pytest.raises(UnreadableFile) as refused,
    ):
        extract_text("k.pdf", whole)
    assert refused.value.message == (
        "Die Datei ist kein lesbares PDF-Dokument (beschädigt oder falsch benannt)."
    )
    [line] = [r.getMessage() for r in caplog.records if r.name == "core.knowledge.extract"]
    assert line.startswith("unreadable PDF file 'k.pdf': ") and "\n" not in line


@pytest.mark.parametrize(
    ("name", "media_type", "clean"),
    [
        ("..\\..\\x\ufffd\ufffd.pdf", "application/pdf", "x.pdf"),
        ("../../etc/bericht.docx", "", "bericht.docx"),
        ("a\x00b\x1f\u202e.txt", "", "ab.txt"),
        ("\ufffd\ufffd.pdf", "", "Datei.pdf"),
        ("", "application/pdf", "Datei.pdf"),
        ("  Bericht 2024.final.pdf ", "", "Bericht 2024.final.pdf"),
    ],
)
def test_file_names_are_cleaned(name, media_type, clean):
    assert clean_name(name, media_type) == clean
