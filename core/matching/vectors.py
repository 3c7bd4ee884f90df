"""The posts' sentence embeddings in memory, one row per index slot.

Each post keeps its int8 vector (512 bytes) for the exact cosine, and a projection to
COARSE dimensions (a fixed random rotation; int8 with a scale per row, 68 bytes) through
which the cosine with every open post of the other kind is one matrix-vector product per
block of rows: at 100,000 posts the full int8 rows would cost a conversion of 51 MB per
query, the projection converts 6.4 MB. The projection estimates each cosine within about
±0.1; its best posts are then scored exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.matching.semantic import DIM, SCALE

COARSE = 64
PROJECTION_SEED = 512_064
# Rows are kept in blocks of this many slots, so that growing never copies (nor briefly
# holds twice) the rows already there: at 100,000 posts a copy held 77 MB more for a moment.
# Smaller blocks leave less unused behind the last slot (8,192 left 5 MB at 100,000 posts).
BLOCK = 4_096


def _projection() -> np.ndarray:
    """DIM x COARSE with orthonormal columns, scaled so projected unit vectors keep their
    dot products in expectation; the same matrix in every process."""
    rng = np.random.default_rng(PROJECTION_SEED)
    q, _ = np.linalg.qr(rng.standard_normal((DIM, COARSE)))
    return (q * np.sqrt(DIM / COARSE)).astype(np.float32)


class VectorColumn:
    def __init__(self) -> None:
        self._projection = _projection()
        self._rows: list[np.ndarray] = []  # per block: BLOCK x DIM int8
        # per block: BLOCK x COARSE int8, each row in steps of its own scale (one float32
        # per slot): a quarter of float32 rows (19 MB less at 100,000 posts), and the steps
        # (under 1 % of the row's largest value) are far below the projection's own error.
        self._coarse: list[np.ndarray] = []
        self._scales = np.zeros(0, dtype=np.float32)
        self._norms = np.zeros(0, dtype=np.float32)
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, vectors: list[np.ndarray | None]) -> None:
        """Rows for the next len(vectors) slots; None for a post without a vector."""
        self.store(self.prepare(vectors))

    def prepare(self, vectors: list[np.ndarray | None]) -> PreparedRows:
        """The arithmetic of `append`, which changes nothing: it may run in another thread
        while this one goes on (the bulk load, engine.py)."""
        present = [i for i, v in enumerate(vectors) if v is not None and v.size == DIM]
        if not present:
            return PreparedRows(len(vectors), present)
        rows = np.stack([vectors[i] for i in present])
        floats = rows.astype(np.float32)
        norms = np.linalg.norm(floats, axis=1)
        safe = np.where(norms > 0, norms, 1.0)[:, None]
        coarse = (floats / safe) @ self._projection
        scales = np.abs(coarse).max(axis=1) / np.float32(127.0)
        scales[scales == 0] = 1.0
        coarse = np.rint(coarse / scales[:, None]).astype(np.int8)
        return PreparedRows(len(vectors), present, rows, norms, coarse, scales)

    def store(self, prepared: PreparedRows) -> None:
        """Rows that `prepare` made, in the next slots."""
        need = self._size + prepared.count
        while len(self._rows) * BLOCK < need:
            self._rows.append(np.zeros((BLOCK, DIM), dtype=np.int8))
            self._coarse.append(np.zeros((BLOCK, COARSE), dtype=np.int8))
        if need > self._norms.size:
            norms = np.zeros(len(self._rows) * BLOCK, dtype=np.float32)
            norms[: self._size] = self._norms[: self._size]
            self._norms = norms
            scales = np.zeros(norms.size, dtype=np.float32)
            scales[: self._size] = self._scales[: self._size]
            self._scales = scales
        slots = np.arange(self._size, need)
        self._norms[slots] = 0.0
        self._scales[slots] = 0.0
        if prepared.present:
            at = slots[prepared.present]
            self._norms[at] = prepared.norms
            self._scales[at] = prepared.scales
            for block, where in _by_block(at):
                self._rows[block][at[where] % BLOCK] = prepared.rows[where]
                self._coarse[block][at[where] % BLOCK] = prepared.coarse[where]
        self._size = need

    def clear(self, slot: int) -> None:
        if slot < self._size:
            self._norms[slot] = 0.0
            self._scales[slot] = 0.0
            self._coarse[slot // BLOCK][slot % BLOCK] = 0

    def has(self) -> np.ndarray:
        return self._norms[: self._size] > 0

    def shortlist(self, query: np.ndarray, eligible: np.ndarray, limit: int) -> np.ndarray:
        """Slots with the highest estimated cosine among `eligible` ones, at most `limit`."""
        if self._size == 0 or limit <= 0:
            return np.zeros(0, dtype=np.int64)
        candidates = np.flatnonzero(eligible[: self._size] & self.has())
        if candidates.size <= limit:
            return candidates.astype(np.int64)
        # The product over all rows reads them in order; gathering the eligible rows
        # first would copy half of them.
        projected = query @ self._projection
        estimate = np.empty(len(self._coarse) * BLOCK, dtype=np.float32)
        rows = np.empty((BLOCK, COARSE), dtype=np.float32)  # one block at a time as floats
        for block, coarse in enumerate(self._coarse):
            if block * BLOCK >= self._size:
                break
            np.copyto(rows, coarse)
            np.matmul(rows, projected, out=estimate[block * BLOCK : (block + 1) * BLOCK])
        estimate = estimate[candidates] * self._scales[candidates]
        best = np.argpartition(estimate, candidates.size - limit)[candidates.size - limit :]
        return candidates[best].astype(np.int64)

    def cosines(self, query: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Exact cosine of the query (a float32 unit vector) with each slot; 0 without one."""
        if slots.size == 0:
            return np.zeros(0)
        norms = self._norms[slots]
        rows = np.empty((slots.size, DIM), dtype=np.int8)
        for block, where in _by_block(slots):
            rows[where] = self._rows[block][slots[where] % BLOCK]
        dots = rows.astype(np.float32) @ query
        return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0).astype(np.float64)


@dataclass
class PreparedRows:
    """`count` slots' rows, ready to be stored; `present`: the positions with a vector."""

    count: int
    present: list[int]
    rows: np.ndarray | None = None
    norms: np.ndarray | None = None
    coarse: np.ndarray | None = None
    scales: np.ndarray | None = None


def _by_block(slots: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The blocks the slots fall in, each with the positions in `slots` that lie in it."""
    blocks = slots // BLOCK
    if blocks.size and blocks[0] == blocks[-1] and (blocks == blocks[0]).all():
        return [(int(blocks[0]), np.arange(slots.size))]
    return [(int(b), np.flatnonzero(blocks == b)) for b in np.unique(blocks)]


def query_vector(vector: np.ndarray | None) -> np.ndarray | None:
    """A post's int8 vector as a float32 unit vector for scoring; None when it has none."""
    if vector is None or vector.size != DIM:
        return None
    v = vector.astype(np.float32) / SCALE
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else None
