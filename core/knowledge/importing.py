"""Import a folder of files into the knowledge collection, with an optional index
(CSV or JSON Lines: file, title, summary, kind, topics, municipality, link, date).

Every file is its own all-or-nothing step (file and row commit together), so one
unreadable file is reported with its reason and the others are still taken in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.kernel.errors import ImportFileError, UserError
from core.kernel.import_files import read_rows
from core.kernel.os_errors import os_error_text
from core.kernel.texts import t
from core.knowledge.entries import NewEntry, add_entry, parse_date, parse_kind, split_topics
from core.knowledge.library import KnowledgeLibrary
from core.store.models import KnowledgeEntry
from core.store.unit_of_work import Database

COLUMNS = ("file", "title", "summary", "kind", "topics", "municipality", "link", "date")
INDEX_SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson")


@dataclass(frozen=True)
class Planned:
    path: Path | None  # None: an index row naming a file that is not there
    row: dict
    label: str  # how the report names it


@dataclass
class ImportReport:
    added: list[KnowledgeEntry] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def plan(folder: Path, index: Path | None) -> list[Planned]:
    """What to import: each index row with its file, then every other file of the folder
    (title from its name). Raises ImportFileError for a folder or index that cannot be read."""
    if not folder.is_dir():
        raise ImportFileError(t("knowledge.import_not_folder", folder=str(folder)))
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if index is not None:
        files = [p for p in files if p.resolve() != index.resolve()]
    planned: list[Planned] = []
    named: set[Path] = set()
    if index is not None:
        for line, raw in read_rows(index):
            row = {
                k.strip().lower(): (str(v) if v is not None else "").strip() for k, v in raw.items()
            }
            unknown = set(row) - set(COLUMNS)
            if unknown:
                raise ImportFileError(
                    t(
                        "knowledge.import_columns",
                        file=str(index),
                        line=line,
                        unknown=", ".join(sorted(unknown)),
                        known=", ".join(COLUMNS),
                    )
                )
            name = row.get("file", "")
            path = (folder / name) if name else None
            if path is not None and path.is_file():
                named.add(path.resolve())
                planned.append(Planned(path, row, name))
            elif name:
                planned.append(Planned(None, row, name))
            else:
                planned.append(Planned(None, row, f"{index.name}:{line}"))
    planned += [
        Planned(p, {}, str(p.relative_to(folder))) for p in files if p.resolve() not in named
    ]
    return planned


def new_entry(item: Planned, default_kind: str, data: bytes | None) -> NewEntry:
    row = item.row
    return NewEntry(
        title=row.get("title", ""),
        summary=row.get("summary", ""),
        kind=parse_kind(row["kind"]) if row.get("kind") else default_kind,
        topics=split_topics(row.get("topics", "")),
        municipality_ags=row.get("municipality") or None,
        link=row.get("link", ""),
        file_name=item.path.name if item.path else "",
        data=data,
        issued_on=parse_date(row.get("date", "")),
        status="published",
    )


async def import_planned(
    db: Database,
    library: KnowledgeLibrary,
    items: list[Planned],
    now: Callable[[], datetime],
    default_kind: str = "leitfaden",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    for item in items:
        try:
            if item.path is None and item.row.get("file"):
                raise UserError.of("knowledge.file_not_found")
            data = item.path.read_bytes() if item.path is not None else None
            async with db.uow() as uow:
                entry = await add_entry(uow, library, new_entry(item, default_kind, data), now())
            report.added.append(entry)
        except UserError as error:
            report.failed.append((item.label, error.message))
        except OSError as error:
            report.failed.append((item.label, os_error_text(error)))
        if progress:
            progress(1)
    return report
