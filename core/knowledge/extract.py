"""The text of a stored file, for search: PDF (pypdf), DOCX (python-docx), OpenDocument
(odfpy) and plain text or Markdown.

The format is told by the file's first bytes where it has a signature, so a renamed file
is still read right and a file that only pretends (a ".pdf" of garbage) is refused with a
reason instead of being stored unsearchable.
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import PurePath

from charset_normalizer import from_bytes

from core.kernel.errors import UserError

# Search needs the words, not a book: the first part of a long file says what it is about.
TEXT_LIMIT = 200_000

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
PLAIN = {".txt": "text/plain", ".md": "text/markdown"}
SUFFIXES = (".pdf", ".docx", *ODF_TYPES.values(), *PLAIN)

log = logging.getLogger(__name__)


class UnreadableFile(UserError):
    """A file that cannot be taken into the collection; the message says why, in German."""


def content_type(name: str, data: bytes) -> str:
    """The file's type by its content (and, for plain text, its name); refuses others."""
    suffix = PurePath(name).suffix.lower()
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data, suffix)
    if suffix in PLAIN:
        return PLAIN[suffix]
    if suffix in (".pdf", ".docx", *ODF_TYPES.values()):
        raise UnreadableFile.of("knowledge.file_damaged", kind=suffix[1:].upper())
    raise UnreadableFile.of(
        "knowledge.file_unknown", suffix=suffix or "ohne Endung", known=", ".join(SUFFIXES)
    )


def _zip_type(data: bytes, suffix: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in ODF_TYPES:
                    return declared
            if "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableFile.of(
            "knowledge.file_damaged", kind=suffix[1:].upper() or "ZIP"
        ) from None
    raise UnreadableFile.of(
        "knowledge.file_unknown", suffix=suffix or "ZIP", known=", ".join(SUFFIXES)
    )


def extract_text(name: str, data: bytes) -> tuple[str, str]:
    """(content type, text) of a file; ``UnreadableFile`` if it cannot be read."""
    kind = content_type(name, data)
    readers = {PDF: _pdf, DOCX: _docx, "text/plain": _plain, "text/markdown": _plain}
    reader = readers.get(kind, _odf)
    try:
        text = reader(data)
    except UnreadableFile:
        raise
    except Exception as exc:  # the parsers raise many kinds of errors on damaged files
        label = "PDF" if kind == PDF else PurePath(name).suffix[1:].upper() or kind
        # The parser's words are for the operator; the member reads the catalogue's.
        log.warning("unreadable %s file %r: %s", label, name[:100], _one_line(exc))
        raise UnreadableFile.of("knowledge.file_damaged", kind=label) from None
    return kind, " ".join(text.split())[:TEXT_LIMIT]


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    # pypdf logs what it repairs in a damaged file; the caller reports one line instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise UnreadableFile.of("knowledge.file_encrypted")
    parts: list[str] = []
    size = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= TEXT_LIMIT:
            break
    return "\n".join(parts)


def _docx(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    for table in document.tables:
        paragraphs += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(paragraphs)


def _odf(data: bytes) -> str:
    from odf import teletype, text
    from odf.opendocument import load

    document = load(io.BytesIO(data))
    elements = document.getElementsByType(text.H) + document.getElementsByType(text.P)
    return "\n".join(teletype.extractText(element) for element in elements)


def _plain(data: bytes) -> str:
    if b"\x00" in data[:65536]:  # a binary file named .txt
        raise UnreadableFile.of("knowledge.file_not_text")
    # German text files are UTF-8 or Windows-1252 almost always; guessing is the last resort
    # (on a short text it mistakes one umlaut for another script).
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFile.of("knowledge.file_not_text")
    return str(best)


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
