"""Files nobody needs any more leave the store: a file kept for a suggestion whose sender
never registered or consented, cancelled, or was erased, a suggestion's file after its
transaction rolled back, or files beyond what one message may suggest."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from core.knowledge.library import KnowledgeLibrary
from core.store.unit_of_work import UnitOfWork

# A file is written before the transaction that refers to it commits; younger files are
# left alone so a suggestion in flight never loses its file.
GRACE = timedelta(days=1)


async def remove_unused_files(uow: UnitOfWork, library: KnowledgeLibrary, now: datetime) -> int:
    """Remove the stored files that no entry and no waiting input refers to; how many."""
    used = await uow.knowledge.known_hashes() | await uow.knowledge.parked_hashes()
    before = (now - GRACE).timestamp()
    # Listing and unlinking touch every file of the store: in a worker thread, so the
    # service's event loop keeps answering meanwhile.
    stored = await asyncio.to_thread(lambda: list(library.files.stored()))
    unused = [sha256 for sha256, written in stored if sha256 not in used and written < before]
    return await asyncio.to_thread(_remove_all, library, unused, before)


def _remove_all(library: KnowledgeLibrary, hashes: list[str], before: float) -> int:
    # The write time is checked again at each file: one reused since the listing
    # (``FileStore.put`` refreshes it) may belong to an entry committed since the used
    # hashes were read.
    return sum(library.files.remove(sha256, written_before=before) for sha256 in hashes)
