"""MatchEngine: keeps the open posts in memory and ranks complementary posts for one post."""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np

from core.matching.analysis import Analysis, Analyzer
from core.matching.bm25_index import InvertedIndex, PostingBatch
from core.matching.coverage import Expansions, pair_scores
from core.matching.model import KINDS, OFFER, Candidate, PostDoc, opposite_kind
from core.matching.reason import build_reason
from core.matching.region import Place, distance_km, proximity, type_similarity
from core.matching.terms import concept_id, coverage_words, document_terms, query_terms
from core.matching.thesaurus import load_thesaurus

# Tuned on benchmarks/data (see benchmarks/README.md): the word coverage of both posts
# (geometric mean, coverage.py) that a pair must reach before it is proposed.
DEFAULT_THRESHOLD = 0.34

# Secondary signals multiply the text score by at most 1 + their sum, so they reorder
# candidates of similar text score but cannot lift an unrelated post over the threshold,
# which is applied to the text score alone.
REGION_BONUS = 0.12
TYPE_BONUS = 0.06
WEAK_BONUS = 0.02

# Posts that share terms with the query are ranked by BM25 first; the best CANDIDATE_POOL of
# them are scored by word coverage (coverage.py), which decides proposal and order.
CANDIDATE_POOL = 300
# Candidates re-ranked with the secondary signals, taken from the top of the text ranking.
RERANK_POOL = 50
# Posts analysed and indexed together by bulk_upsert(); bounds its temporary memory.
BULK_CHUNK = 2_000
# Up to this share of a query's weight may come from frequent, low-weight terms that are
# scored only for the best DEFERRED_POOL posts instead of for every post (speed at 100k posts).
DEFER_SHARE = 0.05
DEFERRED_POOL = 400
MAX_CONCEPT_LABELS = 2

_KIND_CODES = {OFFER: 1, "request": 2}


class MatchEngine:
    def __init__(
        self, thesaurus_path: str | Path | None = None, threshold: float | None = None
    ) -> None:
        groups = load_thesaurus(thesaurus_path)
        self._analyzer = Analyzer(groups)
        self._labels = [g.label for g in groups]
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self._index = InvertedIndex()
        self._expansions = Expansions(self._analyzer.expansion)
        self._slot_of: dict[int, int] = {}
        # Per-slot columns, parallel to the index slots.
        self._post_ids = array("q")
        self._kinds = array("b")
        self._municipalities = array("i")  # code from _municipality_codes, 0 = unknown
        self._places: list[Place | None] = []
        self._municipality_codes: dict[str, int] = {}

    # --- maintenance -------------------------------------------------------------------

    def upsert(self, doc: PostDoc) -> None:
        """Add a post or replace the indexed version of an edited one."""
        self.bulk_upsert((doc,))

    def bulk_upsert(self, docs: Iterable[PostDoc]) -> None:
        """Add or replace many posts, e.g. all open posts at start; much faster than one
        upsert() per post. Reads `docs` lazily, so a generator keeps memory low; when an id
        comes twice, the later post wins."""
        batch = self._index.new_batch()
        columns: list[tuple[int, int, int, Place]] = []
        pending: set[int] = set()
        try:
            for doc in docs:
                kind_code = _kind_code(doc.kind)  # reject a bad post before removing the old
                if doc.id in pending or len(batch) >= BULK_CHUNK:
                    self._add_batch(batch, columns)
                    batch, columns, pending = self._index.new_batch(), [], set()
                self.remove(doc.id)
                analysis = self._analyzer.analyze(doc.title, doc.body, doc.topics)
                batch.add(document_terms(analysis), analysis.length, coverage_words(analysis))
                municipality = self._municipality_code(doc.municipality_ags)
                columns.append((doc.id, kind_code, municipality, _place(doc)))
                pending.add(doc.id)
        finally:
            # Also on an error: the posts read so far are already removed in their old form.
            self._add_batch(batch, columns)

    def remove(self, post_id: int) -> None:
        """Forget a post (closed, paused, expired or deleted); unknown ids are ignored."""
        slot = self._slot_of.pop(post_id, None)
        if slot is None:
            return
        self._index.remove(slot)
        self._kinds[slot] = 0
        self._places[slot] = None

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._slot_of

    def _add_batch(self, batch: PostingBatch, columns: list[tuple[int, int, int, Place]]) -> None:
        slots = self._index.add_batch(batch)
        self._expansions.catch_up(self._index)
        for slot, (post_id, kind_code, municipality, place) in zip(slots, columns, strict=True):
            self._slot_of[post_id] = slot
            self._post_ids.append(post_id)
            self._kinds.append(kind_code)
            self._municipalities.append(municipality)
            self._places.append(place)

    # --- ranking -----------------------------------------------------------------------

    def candidates(
        self,
        doc: PostDoc,
        k: int = 10,
        exclude: Collection[int] = (),
        threshold: float | None = None,
    ) -> list[Candidate]:
        """Indexed posts of the other kind that fit `doc`, best first, at most `k`.

        Never posts of the same municipality (when `doc` has one), never ids in `exclude`,
        only those whose text score reaches `threshold` (default: the engine's, which
        decides proposals; a digest's "might interest you" may ask for a lower bar).
        """
        bar = self.threshold if threshold is None else threshold
        other_code = _kind_code(opposite_kind(doc.kind))
        if k <= 0 or self._index.live_docs == 0:
            return []
        analysis = self._analyzer.analyze(doc.title, doc.body, doc.topics)
        weights = query_terms(analysis)
        pool = self._bm25_pool(doc, other_code, weights, exclude, k)
        if pool.size == 0:
            return []
        term_ids = [self._index.term_id(t) for t in weights]
        text = pair_scores(
            self._index,
            self._expansions,
            coverage_words(analysis),
            np.array([i for i in term_ids if i is not None], dtype=np.int64),
            pool,
        )
        keep = text >= max(bar, 1e-9)
        pool, text = pool[keep], text[keep]
        best = np.argsort(-text, kind="stable")[: max(RERANK_POOL, 3 * k)]
        place = _place(doc)
        ranked = []
        for slot, score in zip(pool[best].tolist(), text[best].tolist(), strict=True):
            other = self._places[slot]
            assert other is not None
            distance = distance_km(place, other)
            final = score * (1.0 + _secondary_bonus(place, other, distance))
            ranked.append((-round(min(final, 1.0), 4), self._post_ids[slot], slot, distance))
        ranked.sort()
        return [
            Candidate(
                post_id=post_id,
                score=-neg_score,
                reason=build_reason(
                    self._shared_topics(analysis, weights, slot),
                    place,
                    self._places[slot],  # type: ignore[arg-type]
                    distance,
                ),
            )
            for neg_score, post_id, slot, distance in ranked[:k]
        ]

    def _bm25_pool(
        self,
        doc: PostDoc,
        other_code: int,
        weights: dict[str, float],
        exclude: Collection[int],
        k: int,
    ) -> np.ndarray:
        """Eligible slots that share a term with the query, best BM25 first, at most
        CANDIDATE_POOL: BM25 finds the candidates cheaply, word coverage then scores them."""
        scores, reference, deferred = self._index.score(weights, DEFER_SHARE)
        if reference <= 0.0:
            return np.zeros(0, dtype=np.int64)
        scores[~self._eligible(other_code, doc.municipality_ags)] = 0.0
        for post_id in exclude:
            slot = self._slot_of.get(post_id)
            if slot is not None:
                scores[slot] = 0.0
        if deferred:
            shortlist = _top_slots(scores, 1e-9, max(DEFERRED_POOL, 3 * k))
            self._index.complete(scores, shortlist, deferred)
        pool = _top_slots(scores, 1e-9, max(CANDIDATE_POOL, 3 * k))
        return np.sort(pool)

    def _eligible(self, other_code: int, municipality_ags: str | None) -> np.ndarray:
        mask = np.frombuffer(self._kinds, dtype=np.int8) == other_code
        code = self._municipality_codes.get(municipality_ags) if municipality_ags else None
        if code is not None:
            mask &= np.frombuffer(self._municipalities, dtype=np.int32) != code
        return mask

    def _municipality_code(self, ags: str | None) -> int:
        if not ags:
            return 0
        return self._municipality_codes.setdefault(ags, len(self._municipality_codes) + 1)

    def _shared_topics(self, query: Analysis, weights: dict[str, float], slot: int) -> list[str]:
        """Labels of shared thesaurus groups, then shared words, most specific first."""
        other_terms = self._index.terms_of(slot)
        shared = [t for t in weights if t in other_terms]
        shared.sort(key=lambda t: (-self._index.idf(t) * weights[t], t))
        group_ids = [g for g in (concept_id(t) for t in shared) if g is not None]
        group_ids = group_ids[:MAX_CONCEPT_LABELS]
        topics = [self._labels[g] for g in group_ids]
        covered = set(group_ids)
        for term in shared:
            if concept_id(term) is not None or term not in query.words:
                continue
            if self._analyzer.concepts.groups_of_stem(term) & covered:
                continue
            surface = self._analyzer.surfaces.get(term)
            # Only nouns (capitalised in German) name a topic; shared verbs and numbers don't.
            if surface and surface[:1].isupper():
                topics.append(surface)
        return topics


def _kind_code(kind: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown post kind: {kind!r}")
    return _KIND_CODES[kind]


def _place(doc: PostDoc) -> Place:
    return Place(
        municipality_ags=doc.municipality_ags,
        kreis_ags=doc.kreis_ags,
        land=doc.land,
        lat=doc.lat,
        lon=doc.lon,
        municipality_type=doc.municipality_type,
        structurally_weak=doc.structurally_weak,
    )


def _secondary_bonus(query: Place, other: Place, distance: float | None) -> float:
    bonus = REGION_BONUS * proximity(query, other, distance)
    bonus += TYPE_BONUS * type_similarity(query, other)
    if query.structurally_weak and other.structurally_weak:
        bonus += WEAK_BONUS
    return bonus


def _top_slots(text: np.ndarray, threshold: float, limit: int) -> np.ndarray:
    """Slots whose text score reaches the threshold, at most `limit` of the best."""
    slots = np.flatnonzero(text >= threshold)
    if slots.size > limit:
        slots = slots[np.argpartition(-text[slots], limit - 1)[:limit]]
    return slots
