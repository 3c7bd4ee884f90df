"""An in-memory BM25 inverted index that supports adding and removing documents.

Documents live in integer slots. Each term keeps growable arrays of slots and precomputed
BM25 term weights ("impacts", one byte each), so a query touches only the postings of its
own terms and adds idf x impact with numpy. Impacts are computed against a reference average
document length and recomputed in one sweep only when the live average drifts more than
AVG_LEN_DRIFT away from it, a negligible approximation that makes a query cost one
multiply-add per posting. Removal only marks the slot dead and fixes the statistics; dead
postings are dropped in one sweep once they make up a large share. Many documents at once
(`add_batch`) are sorted into the postings with numpy instead of one append per posting.

Each document belongs to one of a few partitions (the matching engine: a post's kind), and
each term keeps its postings per partition. Document frequencies, and so idf, count all
partitions; a query scores one partition's postings only. A request, which only ever looks
for offers, reads half the postings.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat

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
# Term frequencies are multiples of 0.5 (field weights 1 and 2, compound parts count half),
# capped at 127.5 where BM25 saturation makes more irrelevant.
TF_SCALE = 2
TF_MAX = 255
# Impacts (BM25's saturated tf component, 0 .. k1 + 1) are kept as one byte, in steps of
# (k1 + 1) / IMPACT_LEVELS: at 100,000 posts about 11 million postings, 33 MB less than
# float32. The step (under 1 % of a typical impact) moves a BM25 score by less than the
# differences that decide the candidate pool, which word coverage then scores exactly.
IMPACT_LEVELS = 255
_IMPACT_STEPS = np.arange(IMPACT_LEVELS + 1, dtype=np.float32)


# Per document, its term ids with one byte of caller data each ("mark"; the engine stores the
# word count there), packed into one bytes object, which costs less than an array object.
# A term id takes three bytes (low 16 bits, high 8 bits): at 100,000 posts 11 MB less than
# four, and 16.7 million terms are far more than any network's posts bring.
RECORD = np.dtype([("low", "<u2"), ("high", "u1"), ("mark", "u1")])
TERM_BITS = 24
MAX_TERMS = 1 << TERM_BITS
_TERM_MASK = (1 << TERM_BITS) - 1
MARK_MAX = 255
# The posting lists of a term without postings in a partition; never changed (shared).
_NO_SLOTS = array("i")
_NO_IMPACTS = array("B")


class PostingBatch:
    """Documents collected for `InvertedIndex.add_batch`, kept as compact arrays (about 6
    bytes per term: term id, term frequency in TF_SCALE steps, mark) so that thousands of
    them can wait without their dictionaries."""

    def __init__(self, known_id: Callable[[str], int | None], new_id: Callable[[str], int]) -> None:
        self._known_id = known_id
        self._new_id = new_id
        self.ids = array("i")
        self.tfs = array("B")
        self.marks = array("B")
        self.counts = array("i")
        self.lengths = array("f")
        self.partitions = array("B")

    def __len__(self) -> int:
        return len(self.counts)

    def add(
        self,
        terms: Mapping[str, float],
        length: float,
        marks: Mapping[str, int],
        partition: int = 0,
    ) -> None:
        found = list(map(self._known_id, terms))
        if None in found:
            found = [self._new_id(t) if i is None else i for t, i in zip(terms, found, strict=True)]
        self.ids.extend(found)
        self.tfs.extend(map(tf_steps, terms.values()))
        self.marks.extend(map(mark_byte, map(marks.get, terms, repeat(0))))
        self.counts.append(len(found))
        self.lengths.append(length)
        self.partitions.append(partition)

    def add_stored(
        self, terms: list[str], tfs: bytes, marks: bytes, length: float, partition: int = 0
    ) -> tuple[list[int], bool]:
        """A document as stored (stored_terms.py): term frequencies as TF_SCALE steps and
        marks, one byte per term each; no Python work per term but one dictionary lookup.
        Returns the term ids, and whether any of them is new to the index."""
        found = list(map(self._known_id, terms))
        created = None in found
        if created:
            found = [self._new_id(t) if i is None else i for t, i in zip(terms, found, strict=True)]
        self.ids.extend(found)
        self.tfs.frombytes(tfs)
        self.marks.frombytes(marks)
        self.counts.append(len(found))
        self.lengths.append(length)
        self.partitions.append(partition)
        return found, created


def tf_steps(tf: float) -> int:
    return min(round(tf * TF_SCALE), TF_MAX)


def mark_byte(value: int) -> int:
    return min(max(value, 0), MARK_MAX)


class InvertedIndex:
    def __init__(self, k1: float = K1, b: float = B, partitions: int = 1) -> None:
        self.k1 = k1
        self.b = b
        self.partitions = partitions
        self._term_ids: dict[str, int] = {}
        self._terms: list[str] = []
        # partition -> term id -> slots (int32), and the BM25 tf component (IMPACT_LEVELS)
        self._post_slots: list[list[array]] = [[] for _ in range(partitions)]
        self._post_impacts: list[list[array]] = [[] for _ in range(partitions)]
        self._reference_avg_len = 0.0
        self._df = array("i")
        self._records: list[bytes | None] = []  # slot -> RECORD bytes; None when dead
        self._doc_len = array("f")
        self._alive = array("b")
        self.live_docs = 0
        self._total_len = 0.0
        self._postings = 0
        self._dead_postings = 0

    @property
    def slot_count(self) -> int:
        return len(self._alive)

    @property
    def term_count(self) -> int:
        return len(self._terms)

    def term(self, term_id: int) -> str:
        return self._terms[term_id]

    def term_id(self, term: str) -> int | None:
        return self._term_ids.get(term)

    def intern(self, term: str) -> int:
        """Id of `term`, created without postings when the index has not seen it yet."""
        return self._term_id_or_new(term)

    def alive_view(self) -> np.ndarray:
        """Read-only view of the alive flags; drop it before the next add()."""
        return np.frombuffer(self._alive, dtype=np.int8)

    def add(
        self,
        terms: Mapping[str, float],
        length: float,
        marks: Mapping[str, int] | None = None,
        partition: int = 0,
    ) -> int:
        batch = self.new_batch()
        batch.add(terms, length, marks or {}, partition)
        return self.add_batch(batch)[0]

    def new_batch(self) -> PostingBatch:
        return PostingBatch(self._term_ids.get, self._term_id_or_new)

    def add_batch(self, batch: PostingBatch) -> range:
        """Add the batch's documents in new slots, in the order they were collected.

        Postings of the whole batch are sorted by term with numpy and appended term by term,
        so the work per posting in Python is one dictionary lookup while collecting."""
        first, n = len(self._alive), len(batch.counts)
        if n == 0:
            return range(first, first)
        ids = np.frombuffer(batch.ids, dtype=np.int32)
        counts = np.frombuffer(batch.counts, dtype=np.int32)
        lengths = np.frombuffer(batch.lengths, dtype=np.float32)
        if self._reference_avg_len <= 0.0:
            self._reference_avg_len = max(float(lengths.mean()), 1.0)
        quantised = np.frombuffer(batch.tfs, dtype=np.uint8)
        marks = np.frombuffer(batch.marks, dtype=np.uint8)
        partitions = np.frombuffer(batch.partitions, dtype=np.uint8)
        if partitions.size and int(partitions.max()) >= self.partitions:
            raise ValueError(f"partition {int(partitions.max())} of {self.partitions}")
        keep = quantised > 0
        if not keep.all():
            owner = np.repeat(np.arange(n), counts)[keep]
            counts = np.bincount(owner, minlength=n).astype(np.int32)
            ids, quantised, marks = ids[keep], quantised[keep], marks[keep]
        slots = np.repeat(np.arange(first, first + n, dtype=np.int32), counts)
        norms = np.repeat(self._norms(lengths), counts)
        self._append_postings(ids, slots, quantised, norms, np.repeat(partitions, counts))
        self._append_records(ids, marks, counts)
        self._doc_len.frombytes(lengths.tobytes())
        self._alive.extend(bytes([1]) * n)
        self.live_docs += n
        self._total_len += float(lengths.sum(dtype=np.float64))
        self._postings += int(ids.size)
        del ids, counts, lengths, quantised, marks, partitions  # views of the batch's arrays
        self._check_length_drift()
        return range(first, first + n)

    def remove(self, slot: int) -> None:
        record = self._records[slot]
        if record is None:
            return
        ids = _term_ids(np.frombuffer(record, dtype=RECORD))
        np.frombuffer(self._df, dtype=np.int32)[ids] -= 1
        self._records[slot] = None
        self._alive[slot] = 0
        self.live_docs -= 1
        self._total_len -= self._doc_len[slot]
        self._dead_postings += int(ids.size)
        if self._dead_postings > max(COMPACT_MIN, COMPACT_SHARE * self._postings):
            self._compact()
        self._check_length_drift()

    def term_ids_of(self, slot: int) -> np.ndarray:
        record = self._records[slot]
        if record is None:
            return np.zeros(0, dtype=np.int32)
        return _term_ids(np.frombuffer(record, dtype=RECORD))

    def terms_of(self, slot: int) -> frozenset[str]:
        record = self._records[slot]
        if record is None:
            return frozenset()
        ids = _term_ids(np.frombuffer(record, dtype=RECORD)).tolist()
        return frozenset(self._terms[i] for i in ids)

    def records(self, slots: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Term ids, marks and position in `slots` of every term of the given live slots."""
        chunks = [self._records[s] or b"" for s in slots]
        packed = np.frombuffer(b"".join(chunks), dtype=RECORD)
        sizes = [len(c) // RECORD.itemsize for c in chunks]
        owner = np.repeat(np.arange(len(chunks), dtype=np.int32), sizes)
        return _term_ids(packed), packed["mark"], owner

    def idf(self, term: str) -> float:
        term_id = self._term_ids.get(term)
        df = self._df[term_id] if term_id is not None else 0
        n = self.live_docs + IDF_PRIOR_DOCS
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def idfs(self, term_ids: np.ndarray) -> np.ndarray:
        """idf of known term ids, as `idf` computes it."""
        df = np.frombuffer(self._df, dtype=np.int32)[term_ids].astype(np.float64)
        n = self.live_docs + IDF_PRIOR_DOCS
        return np.log1p((n - df + 0.5) / (df + 0.5))

    def score(
        self, query: Mapping[str, float], defer_share: float = 0.0, partition: int = 0
    ) -> tuple[np.ndarray, float, list[tuple[int, float]]]:
        """BM25 score of every slot for the weighted query terms, a reference score, and the
        terms left out of the scores (see `complete`). Only the slots of `partition` are
        scored; all others stay 0.

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
        post_slots, post_impacts = self._post_slots[partition], self._post_impacts[partition]
        for factor, term_id in weighted:
            # Only terms that add (factor >= 0) are deferred: the engine's candidate pool
            # relies on the deferred terms raising scores, never lowering them.
            if 0.0 <= factor <= budget and self._df[term_id] >= DEFER_MIN_DF:
                budget -= factor
                deferred.append((term_id, factor))
                continue
            slots = np.frombuffer(post_slots[term_id], dtype=np.int32)
            impacts = np.frombuffer(post_impacts[term_id], dtype=np.uint8)
            # Each slot occurs once per posting list, so this is scores[slots] += ..., in
            # one pass instead of a gather, an add and a scatter: a quarter less time for
            # the largest part of a query at 100,000 posts (numpy >= 1.25).
            np.add.at(scores, slots, self._levels(factor)[impacts])
        return scores, reference, deferred

    def complete(
        self,
        scores: np.ndarray,
        slots: np.ndarray,
        deferred: list[tuple[int, float]],
        partition: int = 0,
    ) -> None:
        """Add the deferred terms' contributions to `scores` for the given slots only, all
        of them slots of `partition`.
        Postings are in slot order (slots only grow, compaction keeps the order), so each
        lookup is a binary search."""
        # Slots of the same type as the postings: searchsorted would otherwise convert
        # every posting list to int64 first (a copy of up to all slots per deferred term).
        # Sorted, because numpy narrows each search by the one before it: a third faster.
        slots = np.sort(slots).astype(np.int32)
        for term_id, factor in deferred:
            posting_slots = np.frombuffer(self._post_slots[partition][term_id], dtype=np.int32)
            if posting_slots.size == 0:
                # Frequent in the other partition only (deferral counts all partitions):
                # it adds nothing here.
                continue
            impacts = np.frombuffer(self._post_impacts[partition][term_id], dtype=np.uint8)
            positions = np.minimum(np.searchsorted(posting_slots, slots), posting_slots.size - 1)
            hit = posting_slots[positions] == slots
            scores[slots[hit]] += self._levels(factor)[impacts[positions[hit]]]

    def _levels(self, factor: float) -> np.ndarray:
        """factor x impact for each impact byte: a query gathers from this small table."""
        return _IMPACT_STEPS * np.float32(factor * ((self.k1 + 1.0) / IMPACT_LEVELS))

    def _impact_bytes(self, tf: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """BM25's saturated tf component in IMPACT_LEVELS steps; at least one step, so
        a posting always counts."""
        k1_plus_1 = np.float32(self.k1 + 1.0)
        impacts = tf * k1_plus_1 / (tf + norms)
        steps = np.rint(impacts * np.float32(IMPACT_LEVELS / (self.k1 + 1.0)))
        return np.clip(steps, 1, IMPACT_LEVELS).astype(np.uint8)

    def _append_postings(
        self,
        ids: np.ndarray,
        slots: np.ndarray,
        tfs: np.ndarray,
        norms: np.ndarray,
        partitions: np.ndarray,
    ) -> None:
        """Append the postings to each term's arrays in their partition; a stable sort by
        partition and term keeps every posting list in slot order, which `complete`
        relies on."""
        if ids.size == 0:  # posts without a searchable word ("/suche x")
            return
        np.frombuffer(self._df, dtype=np.int32)[:] += np.bincount(
            ids, minlength=len(self._df)
        ).astype(np.int32)
        key = ids.astype(np.int64)
        if self.partitions > 1:
            key |= partitions.astype(np.int64) << TERM_BITS
        order = np.argsort(key, kind="stable")
        key, slots, tfs, norms = key[order], slots[order], tfs[order], norms[order]
        tf = tfs.astype(np.float32) / np.float32(TF_SCALE)
        impacts = self._impact_bytes(tf, norms)
        bounds = np.flatnonzero(np.diff(key)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [key.size]))
        keys = key[starts]
        # Byte views: slicing them is cheaper than slicing and copying numpy arrays.
        slot_bytes, impact_bytes = memoryview(slots.tobytes()), memoryview(impacts.tobytes())
        for partition in range(self.partitions):
            mine = (keys >> TERM_BITS) == partition
            self._append_to_lists(
                partition,
                (keys[mine] & _TERM_MASK).tolist(),
                starts[mine].tolist(),
                ends[mine].tolist(),
                slot_bytes,
                impact_bytes,
            )

    def _append_to_lists(
        self,
        partition: int,
        term_ids: list[int],
        starts: list[int],
        ends: list[int],
        slot_bytes: memoryview,
        impact_bytes: memoryview,
    ) -> None:
        """Append each term's run of postings (slots and impacts between start and end)
        to its lists in the partition; this loop is the start's largest part in Python."""
        post_slots, post_impacts = self._post_slots[partition], self._post_impacts[partition]
        for term_id, start, end in zip(term_ids, starts, ends, strict=True):
            slot_list = post_slots[term_id]
            if slot_list is _NO_SLOTS:
                slot_list = post_slots[term_id] = array("i")
                post_impacts[term_id] = array("B")
            slot_list.frombytes(slot_bytes[4 * start : 4 * end])
            post_impacts[term_id].frombytes(impact_bytes[start:end])

    def _append_records(self, ids: np.ndarray, marks: np.ndarray, counts: np.ndarray) -> None:
        packed = np.empty(ids.size, dtype=RECORD)
        packed["low"] = ids & 0xFFFF
        packed["high"] = ids >> 16
        packed["mark"] = marks
        data = packed.tobytes()
        size = RECORD.itemsize
        offset = 0
        for count in counts.tolist():
            self._records.append(data[offset : offset + count * size])
            offset += count * size

    def _norms(self, lengths: np.ndarray) -> np.ndarray:
        return (
            self.k1 * (1.0 - self.b + self.b * lengths / np.float32(self._reference_avg_len))
        ).astype(np.float32)

    def _check_length_drift(self) -> None:
        if self.live_docs == 0:
            return
        live_avg = max(self._total_len / self.live_docs, 1.0)
        if abs(live_avg / self._reference_avg_len - 1.0) > AVG_LEN_DRIFT:
            doc_len = np.frombuffer(self._doc_len, dtype=np.float32)
            old_norms = self._norms(doc_len)
            self._reference_avg_len = live_avg
            self._recompute_impacts(old_norms, self._norms(doc_len))

    def _recompute_impacts(self, old_norms: np.ndarray, norms: np.ndarray) -> None:
        """Impacts for new norms. The term frequency is not stored (a byte per posting): it
        is recovered from the old impact by inverting the BM25 formula and rounded to its
        quantisation step. That is exact for the small term frequencies nearly all postings
        have; where saturation makes the impact step wider than a tf step (a word many
        times in one post) the recovered tf may be off by a step, which moves the new
        impact by at most about one impact step."""
        for post_slots, post_impacts in zip(self._post_slots, self._post_impacts, strict=True):
            for term_id, slot_list in enumerate(post_slots):
                if len(slot_list) > 0:
                    post_impacts[term_id] = self._recomputed(
                        slot_list, post_impacts[term_id], old_norms, norms
                    )

    def _recomputed(
        self, slot_list: array, impact_list: array, old_norms: np.ndarray, norms: np.ndarray
    ) -> array:
        """One posting list's impacts for the new norms (see `_recompute_impacts`)."""
        k1_plus_1 = np.float32(self.k1 + 1.0)
        step = np.float32((self.k1 + 1.0) / IMPACT_LEVELS)
        slots = np.frombuffer(slot_list, dtype=np.int32)
        old = np.frombuffer(impact_list, dtype=np.uint8) * step
        # The top level stands for impacts up to k1 + 1 (tf without bound): cap its tf.
        tfs = old * old_norms[slots] / np.maximum(k1_plus_1 - old, step / 2)
        tfs = np.clip(np.rint(tfs * TF_SCALE), 1, TF_MAX).astype(np.float32)
        impacts = self._impact_bytes(tfs / np.float32(TF_SCALE), norms[slots])
        return array("B", impacts.tobytes())

    def _term_id_or_new(self, term: str) -> int:
        term_id = self._term_ids.get(term)
        if term_id is None:
            term_id = len(self._terms)
            if term_id >= MAX_TERMS:
                raise OverflowError(f"more than {MAX_TERMS} index terms")
            self._term_ids[term] = term_id
            self._terms.append(term)
            # A term's lists in a partition are made with its first posting there: most
            # rare words occur in one kind of post only.
            for post_slots, post_impacts in zip(self._post_slots, self._post_impacts, strict=True):
                post_slots.append(_NO_SLOTS)
                post_impacts.append(_NO_IMPACTS)
            self._df.append(0)
        return term_id

    def _compact(self) -> None:
        alive = np.frombuffer(self._alive, dtype=np.int8).astype(bool)
        for post_slots, post_impacts in zip(self._post_slots, self._post_impacts, strict=True):
            for term_id in range(len(self._terms)):
                if len(post_slots[term_id]) == 0:
                    continue
                slots = np.frombuffer(post_slots[term_id], dtype=np.int32)
                keep = alive[slots]
                if keep.all():
                    continue
                impacts = np.frombuffer(post_impacts[term_id], dtype=np.uint8)
                kept = (slots[keep].tobytes(), impacts[keep].tobytes())
                del slots, impacts  # release the buffers before replacing the arrays
                post_slots[term_id] = array("i", kept[0])
                post_impacts[term_id] = array("B", kept[1])
        self._postings -= self._dead_postings
        self._dead_postings = 0


def _term_ids(packed: np.ndarray) -> np.ndarray:
    """The term ids of RECORD entries, as int32."""
    return packed["low"].astype(np.int32) | (packed["high"].astype(np.int32) << 16)
