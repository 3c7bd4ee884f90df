"""An in-memory BM25 inverted index that supports adding and removing documents.

Documents live in integer slots. Each term keeps growable arrays of slots, term frequencies
and precomputed BM25 term weights ("impacts"), so a query touches only the postings of its
own terms and adds idf x impact with numpy. Impacts are computed against a reference average
document length and recomputed in one sweep only when the live average drifts more than
AVG_LEN_DRIFT away from it, a negligible approximation that makes a query cost one
multiply-add per posting. Removal only marks the slot dead and fixes the statistics; dead
postings are dropped in one sweep once they make up a large share.
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
AVG_LEN_DRIFT = 0.05
# Terms this frequent may be deferred by score(); shorter postings are cheap to score anyway.
DEFER_MIN_DF = 2_000
# Term frequencies are multiples of 0.5 (field weights 1 and 2, compound parts count half);
# stored doubled in one byte, capped where BM25 saturation makes more irrelevant.
TF_SCALE = 2
TF_MAX = 255


class InvertedIndex:
    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self._term_ids: dict[str, int] = {}
        self._terms: list[str] = []
        self._post_slots: list[array] = []  # term id -> slots (int32)
        self._post_tfs: list[array] = []  # term id -> weighted tf x TF_SCALE (uint8)
        self._post_impacts: list[array] = []  # term id -> BM25 tf component (float32)
        self._reference_avg_len = 0.0
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
        if self._reference_avg_len <= 0.0:
            self._reference_avg_len = max(length, 1.0)
        norm = self._norm(length)
        ids = array("i")
        for term, tf in terms.items():
            quantised = min(TF_MAX, round(tf * TF_SCALE))
            if quantised <= 0:
                continue
            term_id = self._term_id_or_new(term)
            self._post_slots[term_id].append(slot)
            self._post_tfs[term_id].append(quantised)
            tf = quantised / TF_SCALE
            self._post_impacts[term_id].append(tf * (self.k1 + 1.0) / (tf + norm))
            self._df[term_id] += 1
            ids.append(term_id)
        self._doc_terms.append(ids)
        self._doc_len.append(length)
        self._alive.append(1)
        self.live_docs += 1
        self._total_len += length
        self._postings += len(ids)
        self._check_length_drift()
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
        self._check_length_drift()

    def terms_of(self, slot: int) -> frozenset[str]:
        ids = self._doc_terms[slot]
        return frozenset(self._terms[i] for i in ids) if ids is not None else frozenset()

    def idf(self, term: str) -> float:
        term_id = self._term_ids.get(term)
        df = self._df[term_id] if term_id is not None else 0
        n = self.live_docs + IDF_PRIOR_DOCS
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def score(
        self, query: Mapping[str, float], defer_share: float = 0.0
    ) -> tuple[np.ndarray, float, list[tuple[int, float]]]:
        """BM25 score of every slot for the weighted query terms, a reference score, and the
        terms left out of the scores (see `complete`).

        The reference is what a document of average length containing every query term once
        would get. Dividing by it turns scores into "share of the query matched", which is
        comparable between a three-word and a thirty-word query.

        Frequent terms of little weight cost most (long postings) and move scores least. Up
        to `defer_share` of the reference is made of such terms (each in at least
        DEFER_MIN_DF documents); they are returned instead of scored, for the caller to add
        to its short list of best slots with `complete`.
        """
        scores = np.zeros(self.slot_count, dtype=np.float32)
        if self.live_docs == 0:
            return scores, 0.0, []
        weighted = []
        reference = 0.0
        for term, weight in query.items():
            factor = weight * self.idf(term)
            reference += factor
            term_id = self._term_ids.get(term)
            if term_id is not None and self._df[term_id] > 0:
                weighted.append((factor, term_id))
        weighted.sort()
        deferred: list[tuple[int, float]] = []
        budget = defer_share * reference
        for factor, term_id in weighted:
            if factor <= budget and self._df[term_id] >= DEFER_MIN_DF:
                budget -= factor
                deferred.append((term_id, factor))
                continue
            slots = np.frombuffer(self._post_slots[term_id], dtype=np.int32)
            impacts = np.frombuffer(self._post_impacts[term_id], dtype=np.float32)
            scores[slots] += np.float32(factor) * impacts
        return scores, reference, deferred

    def complete(
        self, scores: np.ndarray, slots: np.ndarray, deferred: list[tuple[int, float]]
    ) -> None:
        """Add the deferred terms' contributions to `scores` for the given slots only.
        Postings are in slot order (slots only grow, compaction keeps the order), so each
        lookup is a binary search."""
        for term_id, factor in deferred:
            posting_slots = np.frombuffer(self._post_slots[term_id], dtype=np.int32)
            impacts = np.frombuffer(self._post_impacts[term_id], dtype=np.float32)
            positions = np.minimum(np.searchsorted(posting_slots, slots), posting_slots.size - 1)
            hit = posting_slots[positions] == slots
            scores[slots[hit]] += np.float32(factor) * impacts[positions[hit]]

    def _norm(self, length: float) -> float:
        return self.k1 * (1.0 - self.b + self.b * length / self._reference_avg_len)

    def _check_length_drift(self) -> None:
        if self.live_docs == 0:
            return
        live_avg = max(self._total_len / self.live_docs, 1.0)
        if abs(live_avg / self._reference_avg_len - 1.0) > AVG_LEN_DRIFT:
            self._reference_avg_len = live_avg
            self._recompute_impacts()

    def _recompute_impacts(self) -> None:
        doc_len = np.frombuffer(self._doc_len, dtype=np.float32)
        norms = (self.k1 * (1.0 - self.b + self.b * doc_len / self._reference_avg_len)).astype(
            np.float32
        )
        for term_id in range(len(self._terms)):
            if len(self._post_slots[term_id]) == 0:
                continue
            slots = np.frombuffer(self._post_slots[term_id], dtype=np.int32)
            tfs = np.frombuffer(self._post_tfs[term_id], dtype=np.uint8) / np.float32(TF_SCALE)
            impacts = (tfs * np.float32(self.k1 + 1.0) / (tfs + norms[slots])).astype(np.float32)
            del slots
            self._post_impacts[term_id] = array("f", impacts.tobytes())

    def _term_id_or_new(self, term: str) -> int:
        term_id = self._term_ids.get(term)
        if term_id is None:
            term_id = len(self._terms)
            self._term_ids[term] = term_id
            self._terms.append(term)
            self._post_slots.append(array("i"))
            self._post_tfs.append(array("B"))
            self._post_impacts.append(array("f"))
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
            tfs = np.frombuffer(self._post_tfs[term_id], dtype=np.uint8)
            impacts = np.frombuffer(self._post_impacts[term_id], dtype=np.float32)
            kept = (slots[keep].tobytes(), tfs[keep].tobytes(), impacts[keep].tobytes())
            del slots, tfs, impacts  # release the buffers before replacing the arrays
            self._post_slots[term_id] = array("i", kept[0])
            self._post_tfs[term_id] = array("B", kept[1])
            self._post_impacts[term_id] = array("f", kept[2])
        self._postings -= self._dead_postings
        self._dead_postings = 0
