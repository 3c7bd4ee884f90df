"""Real documents for the knowledge tests: German PDFs written with matplotlib's PDF
backend (text as real glyphs, so pypdf reads it back), DOCX and ODT files."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from matplotlib import rcParams
from matplotlib.figure import Figure


def pdf_bytes(title: str, paragraphs: list[str]) -> bytes:
    rcParams["pdf.fonttype"] = 42  # embedded TrueType: the text stays extractable
    figure = Figure(figsize=(8.27, 11.69))
    y = 0.94
    figure.text(0.08, y, title, fontsize=15, weight="bold")
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, 85):
            y -= 0.025
            figure.text(0.08, y, line, fontsize=10)
        y -= 0.015
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    return buffer.getvalue()


def write_pdf(path: Path, title: str, paragraphs: list[str]) -> Path:
    path.write_bytes(pdf_bytes(title, paragraphs))
    return path


def docx_bytes(title: str, paragraphs: list[str]) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def odt_bytes(title: str, paragraphs: list[str]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=title))
    for paragraph in paragraphs:
        document.text.addElement(P(text=paragraph))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# A small collection as staff would import it: real PDFs and their index.
GUIDES = {
    "buergerbus.pdf": (
        "Leitfaden Bürgerbus",
        [
            "Wie eine Gemeinde einen Bürgerbusverein gründet: ehrenamtliche Fahrerinnen und "
            "Fahrer, ein Fahrzeug mit acht Sitzen, die Genehmigung nach dem "
            "Personenbeförderungsgesetz und ein Fahrplan, der die Ortsteile verbindet.",
            "Finanzierung: Zuschüsse des Landes, Spenden und Fahrgeld.",
        ],
    ),
    "mitfahrbank.pdf": (
        "Checkliste Mitfahrbank",
        [
            "Standorte finden, Bänke und Schilder aufstellen, die Nachbarschaft einbinden: "
            "so kommen Ältere ohne Auto ins Nachbardorf.",
        ],
    ),
    "hitze.pdf": (
        "Hitzeaktionsplan für kleine Kommunen",
        ["Trinkwasserbrunnen, kühle Räume und Hilfe für Pflegebedürftige im Sommer."],
    ),
}
INDEX = (
    "file,title,summary,kind,topics,municipality,link,date\n"
    "buergerbus.pdf,Leitfaden Bürgerbus,So gründen Sie einen Bürgerbusverein,Leitfaden,"
    "Mobilität;Ehrenamt,12073452,,2025-05-01\n"
    "mitfahrbank.pdf,Checkliste Mitfahrbank,Mitfahrbänke im Dorf aufstellen,Checkliste,"
    "Mobilität,,https://example.org/mitfahrbank,01.03.2026\n"
    "hitze.pdf,Hitzeaktionsplan,Vorsorge für heiße Sommer,Studie,Klima,,,2024\n"
)


def write_collection(folder: Path) -> Path:
    """Write the guides and their index (index.csv) into ``folder``; returns the index."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, paragraphs) in GUIDES.items():
        write_pdf(folder / name, title, paragraphs)
    index = folder / "index.csv"
    index.write_text(INDEX, encoding="utf-8")
    return index


async def import_collection(db, library, folder: Path, clock) -> list:
    """Import the guides as ``zukunftsraum knowledge import`` does (same use case)."""
    from core.knowledge.importing import import_planned, plan

    index = write_collection(folder)
    report = await import_planned(db, library, plan(folder, index), clock)
    assert not report.failed, report.failed
    return report.added
