"""An in-memory BM25 inverted index that supports adding and removing documents.

Documents live in integer slots. Each term keeps two growable arrays (slots and weighted term
frequencies) so a query touches only the postings of its own terms and scores them with
numpy. Removal only marks the slot dead and fixes the statistics; dead postings are dropped
in one sweep once they make up a large share, which keeps removal O(terms of the document).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping

import numpy as np

K1 = 1.2
B = 0.75
# Sweep dead postings once they are this share of all postings (and not trivially few).
COMPACT_SHARE = 0.3
COMPACT_MIN = 5_000
# Pseudo-documents that contain none of the terms, added to the collection size for idf.
# With only a handful of posts (a new network, a test) plain idf calls a word that two of
# three posts use nearly worthless; the prior keeps idf meaningful until the index is large
# enough to speak for itself, and is negligible at tens of thousands of posts.
IDF_PRIOR_DOCS = 200


class InvertedIndex:
    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self._term_ids: dict[str, int] = {}
        self._terms: list[str] = []
        self._post_slots: list[array] = []  # term id -> slots (int32)
        self._post_tfs: list[array] = []  # term id -> weighted tf (float32)
        self._df: list[int] = []
        self._doc_terms: list[array | None] = []  # slot -> term ids; None when dead
        self._doc_len = array("f")
        self._alive = array("b")
        self.live_docs = 0
        self._total_len = 0.0
        self._postings = 0
        self._dead_postings = 0

    @property
    def slot_count(self) -> int:
        return len(self._alive)

    def alive_view(self) -> np.ndarray:
        """Read-only view of the alive flags; drop it before the next add()."""
        return np.frombuffer(self._alive, dtype=np.int8)

    def add(self, terms: Mapping[str, float], length: float) -> int:
        slot = len(self._alive)
        ids = array("i")
        for term, tf in terms.items():
            if tf <= 0:
                continue
            term_id = self._term_id_or_new(term)
            self._post_slots[term_id].append(slot)
            self._post_tfs[term_id].append(tf)
            self._df[term_id] += 1
            ids.append(term_id)
        self._doc_terms.append(ids)
        self._doc_len.append(length)
        self._alive.append(1)
        self.live_docs += 1
        self._total_len += length
        self._postings += len(ids)
        return slot

    def remove(self, slot: int) -> None:
        ids = self._doc_terms[slot]
        if ids is None:
            return
        for term_id in ids:
            self._df[term_id] -= 1
        self._doc_terms[slot] = None
        self._alive[slot] = 0
        self.live_docs -= 1
        self._total_len -= self._doc_len[slot]
        self._dead_postings += len(ids)
        if self._dead_postings > max(COMPACT_MIN, COMPACT_SHARE * self._postings):
            self._compact()

    def terms_of(self, slot: int) -> frozenset[str]:
        ids = self._doc_terms[slot]
        return frozenset(self._terms[i] for i in ids) if ids is not None else frozenset()

    def idf(self, term: str) -> float:
        term_id = self._term_ids.get(term)
        df = self._df[term_id] if term_id is not None else 0
        n = self.live_docs + IDF_PRIOR_DOCS
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def score(self, query: Mapping[str, float]) -> tuple[np.ndarray, float]:
        """BM25 score of every slot for the weighted query terms, and a reference score.

        The reference is what a document of average length containing every query term once
        would get. Dividing by it turns scores into "share of the query matched", which is
        comparable between a three-word and a thirty-word query.
        """
        scores = np.zeros(self.slot_count, dtype=np.float32)
        if self.live_docs == 0:
            return scores, 0.0
        avg_len = self._total_len / self.live_docs if self._total_len > 0 else 1.0
        doc_len = np.frombuffer(self._doc_len, dtype=np.float32)
        reference = 0.0
        for term, weight in query.items():
            idf = self.idf(term)
            reference += weight * idf
            term_id = self._term_ids.get(term)
            if term_id is None or self._df[term_id] == 0:
                continue
            slots = np.frombuffer(self._post_slots[term_id], dtype=np.int32)
            tfs = np.frombuffer(self._post_tfs[term_id], dtype=np.float32)
            norm = self.k1 * (1.0 - self.b + self.b * doc_len[slots] / avg_len)
            scores[slots] += (weight * idf * (self.k1 + 1.0)) * tfs / (tfs + norm)
        return scores, reference

    def _term_id_or_new(self, term: str) -> int:
        term_id = self._term_ids.get(term)
        if term_id is None:
            term_id = len(self._terms)
            self._term_ids[term] = term_id
            self._terms.append(term)
            self._post_slots.append(array("i"))
            self._post_tfs.append(array("f"))
            self._df.append(0)
        return term_id

    def _compact(self) -> None:
        alive = np.frombuffer(self._alive, dtype=np.int8).astype(bool)
        for term_id in range(len(self._terms)):
            if len(self._post_slots[term_id]) == 0:
                continue
            slots = np.frombuffer(self._post_slots[term_id], dtype=np.int32)
            keep = alive[slots]
            if keep.all():
                continue
            tfs = np.frombuffer(self._post_tfs[term_id], dtype=np.float32)
            new_slots, new_tfs = array("i"), array("f")
            new_slots.frombytes(slots[keep].tobytes())
            new_tfs.frombytes(tfs[keep].tobytes())
            del slots, tfs  # release the buffers before replacing the arrays
            self._post_slots[term_id] = new_slots
            self._post_tfs[term_id] = new_tfs
        self._postings -= self._dead_postings
        self._dead_postings = 0
