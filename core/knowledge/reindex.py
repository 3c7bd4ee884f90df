"""Bring the stored search data of every entry up to the process's models: after a new
sentence encoder (another ``vector_model``) the meaning signal is missing until each entry
is encoded again, and a file whose text could not be read before (or an extractor that
got better) is read again from the file store.

The word index is not stored for entries (each process analyses the entries when it
loads them), so a changed analyser needs nothing here. Each slice of entries commits on
its own and moves their ``updated_at``, so a running service takes the new data in at
its next refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.kernel.errors import UserError
from core.knowledge.extract import extract_text
from core.knowledge.library import KnowledgeLibrary
from core.store.unit_of_work import Database

SLICE = 100


@dataclass
class ReindexReport:
    entries: int = 0
    encoded: int = 0  # embeddings computed again
    extracted: int = 0  # texts read again from the stored file
    missing_files: list[int] = field(default_factory=list)  # entry ids
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (entry id, reason)


async def reindex(
    db: Database,
    library: KnowledgeLibrary,
    now: Callable[[], datetime],
    *,
    everything: bool = False,
    extract: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ReindexReport:
    """Encode every entry whose embedding is missing or from another model (``everything``:
    all of them), and read the text again of entries with a file but no text (``extract``:
    of all entries with a file). Returns what was done."""
    report = ReindexReport()
    async with db.uow() as uow:
        ids = await uow.knowledge.ids()
    report.entries = len(ids)
    model = library.index.encoder.model_id
    for start in range(0, len(ids), SLICE):
        chunk = ids[start : start + SLICE]
        async with db.uow() as uow:
            entries = await uow.knowledge.many(chunk)
            changed = False
            for entry in entries.values():
                touched = False
                if entry.file_sha256 and (extract or not entry.text):
                    touched = _read_again(library, entry, report)
                if everything or entry.vector is None or entry.vector_model != model:
                    entry.vector, entry.vector_model = library.index.vector(
                        entry.title, entry.summary, entry.topics
                    )
                    report.encoded += 1
                    touched = True
                if touched:
                    entry.updated_at = now()
                    changed = True
            if changed:
                await uow.commit()
        if progress:
            progress(len(chunk))
    return report


def _read_again(library: KnowledgeLibrary, entry, report: ReindexReport) -> bool:
    data = library.files.read(entry.file_sha256)
    if data is None:
        report.missing_files.append(entry.id)
        return False
    try:
        _, text = extract_text(entry.file_name or "", data)
    except UserError as error:
        report.unreadable.append((entry.id, error.message))
        return False
    if text == entry.text:
        return False
    entry.text = text
    report.extracted += 1
    return True
