"""Queries about many rows at once, split so no statement binds too many parameters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

# Well below SQLite's and PostgreSQL's limits on bound parameters (32,766 / 32,767).
IN_CHUNK = 1_000


def in_chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """``ids`` in slices of at most IN_CHUNK, for ``column.in_(slice)``."""
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]
