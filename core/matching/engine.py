"""MatchEngine: keeps the open posts in memory and ranks complementary posts for one post."""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from array import array
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from core.matching.analysis import LEXICON_PATH, Analysis, Analyzer
from core.matching.bm25_index import InvertedIndex, PostingBatch
from core.matching.coverage import Expansions, pair_scores
from core.matching.model import (
    KINDS,
    PROPOSED,
    SUGGESTED,
    Candidate,
    PostDoc,
    opposite_kind,
)
from core.matching.reason import SIMILAR_TEXT, build_reason
from core.matching.region import Place, distance_km, proximity, type_similarity
from core.matching.semantic import DIM, in_matching_space
from core.matching.slots import SlotMap
from core.matching.stored_terms import (
    Expansion,
    StoredRow,
    StoredTerms,
    analyser_fingerprint,
    decode_word,
    encode_terms,
    encode_word,
    expansion_list,
    term_list,
)
from core.matching.terms import concept_id, coverage_words, document_terms, query_terms
from core.matching.thesaurus import load_thesaurus
from core.matching.vectors import PreparedRows, VectorColumn, query_vector


@dataclass(frozen=True)
class Fusion:
    """How the text score (word coverage) and the cosine of the sentence embeddings make one
    score, and the two bars on it: `propose` for a Vorschlag (both sides are asked),
    `suggest` for Vielleicht passend (only the author of the matched post sees it)."""

    weight: float  # share of the semantic signal, 0 = words only
    floor: float  # a cosine at or below this counts as no similarity
    propose: float
    suggest: float
    # The best `at_least` candidates are shown as Vielleicht passend even below the lower
    # bar, if their score reaches `at_least_floor`: scores vary from request to request (a
    # short casual request scores lower against everything), so a bar relative to the
    # request's own best candidates carries over where an absolute bar does not.
    at_least: int = 0
    at_least_floor: float = 1.0

    def score(self, text: np.ndarray, cosine: np.ndarray) -> np.ndarray:
        meaning = np.clip((cosine - self.floor) / (1.0 - self.floor), 0.0, 1.0)
        return (1.0 - self.weight) * text + self.weight * meaning


# Chosen on the development sets, each matched the way a new writer's posts are: with the
# request adapter fitted without its author (benchmarks/request_adapter.py, print_fusion).
# The weight and both floors are those with the best mean over the six authors of nDCG@10
# of what members see; for each, the bar is the lowest at which >= 93 % of the Vorschläge
# are right and >= 85 % of the requests with nothing to find get none. Below the bar a post
# shows only its best two, from 0.10 up (0.05 gave the same mean with more weak pairs).
SEMANTIC = Fusion(
    weight=0.8, floor=0.0, propose=0.37, suggest=0.37, at_least=2, at_least_floor=0.10
)
# For posts without an embedding (a digest's keyword interests): the word coverage alone,
# with the bars chosen before the minimum list was tried.
LEXICAL = Fusion(weight=0.0, floor=0.0, propose=0.67, suggest=0.27)
DEFAULT_THRESHOLD = SEMANTIC.propose

# Secondary signals multiply the text score by at most 1 + their sum, so they reorder
# candidates of similar text score but cannot lift an unrelated post over the threshold,
# which is applied to the text score alone.
REGION_BONUS = 0.12
TYPE_BONUS = 0.06
WEAK_BONUS = 0.02

# Posts that share terms with the query are ranked by BM25 first; the best CANDIDATE_POOL of
# them are scored by word coverage (coverage.py), which decides proposal and order.
CANDIDATE_POOL = 300
# Posts with the highest estimated cosine (vectors.py) that join the BM25 candidates: they
# may share no word with the query.
SEMANTIC_POOL = 200
# Candidates re-ranked with the secondary signals, taken from the top of the text ranking.
RERANK_POOL = 50
# Posts analysed and indexed together by bulk_upsert(); bounds its temporary memory.
BULK_CHUNK = 2_000
# From this many posts at once, their vectors are prepared in a second thread.
THREADED_ROWS = 256
# From this many indexed posts, a query's semantic pool is found in a second thread.
THREADED_SLOTS = 20_000
# Up to this share of a query's weight may come from frequent, low-weight terms that are
# scored only for the best DEFERRED_POOL posts instead of for every post (speed at 100k posts).
DEFER_SHARE = 0.05
DEFERRED_POOL = 400
MAX_CONCEPT_LABELS = 2

# Stored int8 vectors of posts of the given kinds -> the vectors the index compares.
VectorSpace = Callable[[np.ndarray, Sequence[str]], np.ndarray]

_KIND_CODES = {kind: code for code, kind in enumerate(KINDS, start=1)}


# glibc's mallopt parameters: the size from which blocks are mapped from the system, and
# how much free memory at the top of the heap is kept instead of given back.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20
M_TRIM_THRESHOLD = -1
TRIM_THRESHOLD = 16 << 20


def _large_blocks_mapped() -> None:
    """Blocks of 1 MiB and more (the numpy arrays of a bulk load) come straight from the
    system and go back to it when freed. glibc otherwise raises that bound to the largest
    block freed so far, after which such temporaries land in the heap among long-lived
    objects and stay as holes: at 100,000 posts the start-up peaked 40 MB higher."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    # Fixing the first also fixes this one at 128 KiB (glibc used to raise both together):
    # each query's temporaries of a few hundred KiB would then be given back and faulted in
    # again every time.
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


@functools.cache
def _vector_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="matching-vectors")


if hasattr(os, "register_at_fork"):
    # A forked child has no thread behind the parent's executor: it makes its own.
    os.register_at_fork(after_in_child=_vector_thread.cache_clear)


def one_blas_thread() -> None:
    """The engine's matrix products are small and run per request; a second BLAS thread
    only spins against the other work of the process and the machine (measured: encoding
    and the cosine over all posts 6-9x slower with two threads on a busy 2-core host)."""
    threadpool_limits(limits=1, user_api="blas")


class MatchEngine:
    def __init__(
        self,
        thesaurus_path: str | Path | None = None,
        threshold: float | None = None,
        *,
        semantic: Fusion = SEMANTIC,
        lexical: Fusion = LEXICAL,
        space: VectorSpace | None = in_matching_space,
    ) -> None:
        """`threshold` sets the Vorschlag bar of both fusions (and caps their lower bar);
        `space` turns stored vectors into the ones compared (None: compared as stored)."""
        one_blas_thread()
        _large_blocks_mapped()
        groups = load_thesaurus(thesaurus_path)
        self._analyzer = Analyzer(groups)
        # Stored terms of another analyser are not used (stored_terms.py).
        self.analysis_id = analyser_fingerprint(groups, LEXICON_PATH)
        self.analysed = 0  # posts whose text was analysed, not read as stored terms
        self._labels = [g.label for g in groups]
        self.semantic, self.lexical = semantic, lexical
        self._space = space
        if threshold is not None:
            self.threshold = threshold
        self._vectors = VectorColumn()
        # A post's kind is its partition of the index: a query reads only the postings
        # of the kind it looks for (at 100,000 posts half of them, a tenth of its time).
        self._index = InvertedIndex(partitions=len(KINDS))
        self._expansions = Expansions(self._expand)
        # Parts and groups of words read with stored terms, until their term is expanded.
        self._stored_expansions: dict[str, Expansion] = {}
        self._slot_of = SlotMap()
        # Per-slot columns, parallel to the index slots.
        self._post_ids = array("q")
        self._kinds = array("b")
        self._municipalities = array("i")  # code from _municipality_codes, 0 = unknown
        self._places: list[Place | None] = []
        # One Place object per distinct place (BulkLoad._column), by its fields.
        self._shared_places: dict[tuple, Place] = {}
        self._municipality_codes: dict[str, int] = {}

    # --- maintenance -------------------------------------------------------------------

    def upsert(self, doc: PostDoc) -> None:
        """Add a post or replace the indexed version of an edited one."""
        self.bulk_upsert((doc,))

    def bulk_upsert(self, docs: Iterable[PostDoc], chunk: int = BULK_CHUNK) -> None:
        """Add or replace many posts, e.g. all open posts at start; much faster than one
        upsert() per post. Reads `docs` lazily, so a generator keeps memory low; when an id
        comes twice, the later post wins. Posts are indexed in chunks of `chunk`: larger
        chunks cost less CPU per post and more temporary memory."""
        with self.bulk(chunk) as load:
            load.add(docs)

    def bulk(self, chunk: int = BULK_CHUNK) -> BulkLoad:
        """bulk_upsert() for posts that arrive in several parts (rows streamed from the
        database): `with engine.bulk() as load: load.add(docs)` for each part."""
        return BulkLoad(self, chunk)

    def stored_terms(self, doc: PostDoc) -> StoredTerms:
        """The post's analysed text, to be stored beside it and given back in `doc.terms`
        at the next start, which then does not analyse the text again."""
        self.analysed += 1
        analysis = self._analyzer.analyze(doc.title, doc.body, doc.topics)
        expand, surfaces = self._analyzer.expansion, self._analyzer.surfaces
        return encode_terms(
            self.analysis_id,
            document_terms(analysis),
            analysis.length,
            coverage_words(analysis),
            {w: encode_word(surfaces.get(w, w), expand(w)) for w in analysis.words},
        )

    def _add_terms(self, batch: PostingBatch, doc: PostDoc, kind_code: int) -> None:
        stored = doc.terms
        if stored is not None and self._add_stored_terms(batch, stored, kind_code):
            return
        self.analysed += 1
        analysis = self._analyzer.analyze(doc.title, doc.body, doc.topics)
        batch.add(
            document_terms(analysis),
            analysis.length,
            coverage_words(analysis),
            _partition(kind_code),
        )

    def _add_stored_terms(self, batch: PostingBatch, stored: StoredRow, kind_code: int) -> bool:
        """Adds a post's stored terms; False (nothing added) when they are another
        analyser's or damaged: its text must be analysed."""
        names = term_list(stored) if stored.analysis == self.analysis_id else None
        if names is None:
            return False
        created = self._index.term_count
        found, new_terms = batch.add_stored(
            names, stored.tfs, stored.marks, stored.length, _partition(kind_code)
        )
        if new_terms:
            # Terms this post brings to the index: keep what its words add. The entries
            # are read only then (a damaged list is ignored: the analyser expands those
            # words itself).
            entries = expansion_list(stored, len(names)) or []
            for name, term_id, entry in zip(names, found, entries, strict=False):
                if term_id >= created and name not in self._stored_expansions:
                    self._remember_word(name, entry)
        return True

    def _remember_word(self, name: str, entry: str) -> None:
        word = decode_word(entry)
        if word is not None:
            surface, self._stored_expansions[name] = word
            self._analyzer.remember_surface(name, surface)

    def _expand(self, term: str) -> Expansion:
        """A new index term's parts and groups: as stored with its post, else from the
        analyser (which knows the words of the texts it analysed)."""
        stored = self._stored_expansions.pop(term, None)
        return stored if stored is not None else self._analyzer.expansion(term)

    def remove(self, post_id: int) -> None:
        """Forget a post (closed, paused, expired or deleted); unknown ids are ignored."""
        slot = self._slot_of.pop(post_id)
        if slot is None:
            return
        self._index.remove(slot)
        self._kinds[slot] = 0
        self._places[slot] = None
        self._vectors.clear(slot)

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._slot_of

    @property
    def threshold(self) -> float:
        """The Vorschlag bar for posts with an embedding."""
        return self.semantic.propose

    @threshold.setter
    def threshold(self, value: float) -> None:
        """One Vorschlag bar for both fusions; their lower bars stay at most as high."""
        bar = float(value)
        self.semantic = replace(self.semantic, propose=bar, suggest=min(self.semantic.suggest, bar))
        self.lexical = replace(self.lexical, propose=bar, suggest=min(self.lexical.suggest, bar))

    def _compared(
        self, vectors: list[np.ndarray | None], kind_codes: list[int]
    ) -> list[np.ndarray | None]:
        """The posts' stored vectors as the index compares them (`space`); missing or
        damaged ones stay as they are."""
        present = [i for i, v in enumerate(vectors) if v is not None and v.size == DIM]
        if self._space is None or not present:
            return vectors
        kinds = [KINDS[kind_codes[i] - 1] for i in present]
        moved = self._space(np.stack([vectors[i] for i in present]), kinds)
        result = list(vectors)
        for i, row in zip(present, moved, strict=True):
            result[i] = row
        return result

    def _add_batch(
        self, batch: PostingBatch, columns: list[tuple[int, int, int, Place, np.ndarray | None]]
    ) -> None:
        vectors, kinds = [c[4] for c in columns], [c[1] for c in columns]

        def prepare() -> PreparedRows:
            return self._vectors.prepare(self._compared(vectors, kinds))

        # The vectors' arithmetic (numpy, which lets go of the GIL) runs in a second thread
        # while this one indexes the words (mostly Python): at 100,000 posts the start's
        # vectors took a tenth of it. Both finish before anything else runs on the event
        # loop, so no query sees a half-added chunk.
        beside = _vector_thread().submit(prepare) if len(columns) >= THREADED_ROWS else None
        slots = self._index.add_batch(batch)
        self._expansions.catch_up(self._index)
        assert self._vectors.size == (slots.start if len(slots) else self._vectors.size)
        self._vectors.store(beside.result() if beside is not None else prepare())
        for slot, (post_id, kind_code, municipality, place, _) in zip(slots, columns, strict=True):
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
        only those whose score reaches `threshold` (default: the lower bar, Vielleicht
        passend). Each candidate says its tier: PROPOSED from the Vorschlag bar up.
        The score fuses word coverage and, when `doc` has an embedding, its cosine.
        """
        query = query_vector(self._compared([doc.vector], [_kind_code(doc.kind)])[0])
        fusion = self.semantic if query is not None else self.lexical
        bar = fusion.suggest if threshold is None else threshold
        other_code = _kind_code(opposite_kind(doc.kind))
        if k <= 0 or self._index.live_docs == 0:
            return []
        eligible = self._eligible(other_code, doc.municipality_ags, exclude)
        near = self._semantic_pool(query, eligible, max(SEMANTIC_POOL, 3 * k))
        try:
            analysis = self._analyzer.analyze(doc.title, doc.body, doc.topics)
            weights = query_terms(analysis)
            pool = self._bm25_pool(eligible, weights, k, _partition(other_code))
        finally:
            if near is not None:
                wait((near,))  # also on an error: the engine may change once this returns
        if near is not None:
            pool = np.union1d(pool, near.result())
        if pool.size == 0:
            return []
        term_ids = [self._index.term_id(t) for t in weights]
        known_ids = np.array([i for i in term_ids if i is not None], dtype=np.int64)
        text = pair_scores(self._index, self._expansions, coverage_words(analysis), known_ids, pool)
        cosine = self._vectors.cosines(query, pool) if query is not None else np.zeros(pool.size)
        score = fusion.score(text, cosine)
        keep = score >= max(bar, 1e-9)
        if threshold is None and fusion.at_least > 0:
            above = np.flatnonzero(score >= max(fusion.at_least_floor, 1e-9))
            keep[above[np.argsort(-score[above], kind="stable")[: fusion.at_least]]] = True
        pool, score, text, cosine = pool[keep], score[keep], text[keep], cosine[keep]
        best = np.argsort(-score, kind="stable")[: max(RERANK_POOL, 3 * k)]
        place = _place(doc)
        signals = dict(zip(pool[best].tolist(), cosine[best].tolist(), strict=True))
        ranked = []
        for slot, value, words in zip(
            pool[best].tolist(), score[best].tolist(), text[best].tolist(), strict=True
        ):
            other = self._places[slot]
            assert other is not None
            distance = distance_km(place, other)
            final = value * (1.0 + _secondary_bonus(place, other, distance))
            tier = PROPOSED if value >= fusion.propose else SUGGESTED
            ranked.append(
                (-round(min(final, 1.0), 4), self._post_ids[slot], slot, distance, tier, words)
            )
        ranked.sort()
        query_mask = np.zeros(self._index.term_count, dtype=bool)
        query_mask[known_ids] = True
        return [
            Candidate(
                post_id=post_id,
                score=-neg_score,
                reason=build_reason(
                    self._shared_topics(analysis, weights, query_mask, slot) if words > 0 else [],
                    place,
                    self._places[slot],  # type: ignore[arg-type]
                    distance,
                    fallback=SIMILAR_TEXT if query is not None else None,
                ),
                tier=tier,
                text=round(words, 4),
                cosine=round(signals[slot], 4),
            )
            for neg_score, post_id, slot, distance, tier, words in ranked[:k]
        ]

    def _semantic_pool(
        self, query: np.ndarray | None, eligible: np.ndarray, limit: int
    ) -> Future[np.ndarray] | None:
        """The eligible slots of the highest estimated cosine, at most `limit`; None
        without a query vector. In a large index they are found in a second thread while
        this one analyses the query and runs BM25: the vectors' products let go of the GIL
        (at 100,000 posts a tenth less time per query). Nothing changes the engine
        meanwhile: a query runs without a pause on the event loop, and the caller waits
        for the result before it returns."""
        if query is None:
            return None
        if self._vectors.size < THREADED_SLOTS:
            done: Future[np.ndarray] = Future()
            done.set_result(self._vectors.shortlist(query, eligible, limit))
            return done
        return _vector_thread().submit(self._vectors.shortlist, query, eligible, limit)

    def _bm25_pool(
        self, eligible: np.ndarray, weights: dict[str, float], k: int, partition: int
    ) -> np.ndarray:
        """Eligible slots (all in `partition`) that share a term with the query, best BM25
        first, at most CANDIDATE_POOL: BM25 finds the candidates cheaply, word coverage
        then scores them."""
        scores, reference, deferred = self._index.score(weights, DEFER_SHARE, partition)
        if reference <= 0.0:
            return np.zeros(0, dtype=np.int64)
        scores[~eligible] = 0.0
        limit = max(CANDIDATE_POOL, 3 * k)
        if not deferred:
            return np.sort(_top_slots(scores, 1e-9, limit)).astype(np.int64)
        shortlist = _top_slots(scores, 1e-9, max(DEFERRED_POOL, limit))
        self._index.complete(scores, shortlist, deferred, partition)
        # Every slot of the short list scored at least as high as every slot outside it
        # before the deferred terms were added, and adding only raised them: the best
        # `limit` of all slots are among them (up to ties at the edge), and only they need
        # to be ranked again.
        best = _top_slots(scores[shortlist], 1e-9, limit)
        return np.sort(shortlist[best]).astype(np.int64)

    def _eligible(
        self, other_code: int, municipality_ags: str | None, exclude: Collection[int] = ()
    ) -> np.ndarray:
        mask = np.frombuffer(self._kinds, dtype=np.int8) == other_code
        code = self._municipality_codes.get(municipality_ags) if municipality_ags else None
        if code is not None:
            mask &= np.frombuffer(self._municipalities, dtype=np.int32) != code
        for post_id in exclude:
            slot = self._slot_of.get(post_id)
            if slot is not None:
                mask[slot] = False
        return mask

    def _municipality_code(self, ags: str | None) -> int:
        if not ags:
            return 0
        return self._municipality_codes.setdefault(ags, len(self._municipality_codes) + 1)

    def _shared_topics(
        self,
        query: Analysis,
        weights: dict[str, float],
        query_mask: np.ndarray,
        slot: int,
    ) -> list[str]:
        """Labels of shared thesaurus groups, then shared words, most specific first.
        `query_mask` is True at the term ids of the query's terms."""
        ids = self._index.term_ids_of(slot)
        shared = [self._index.term(i) for i in ids[query_mask[ids]].tolist()]
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


class BulkLoad:
    """Posts collected into chunks for MatchEngine; see MatchEngine.bulk()."""

    def __init__(self, engine: MatchEngine, chunk: int) -> None:
        self._engine = engine
        self._chunk = max(chunk, 1)
        self._batch = engine._index.new_batch()
        self._columns: list[tuple[int, int, int, Place, np.ndarray | None]] = []
        self._pending: set[int] = set()

    def __enter__(self) -> BulkLoad:
        return self

    def __exit__(self, *exc: object) -> None:
        # Also on an error: the posts read so far are already removed in their old form.
        self.flush()

    def add(self, docs: Iterable[PostDoc]) -> None:
        engine = self._engine
        for doc in docs:
            kind_code = self._next(doc.id, doc.kind)
            engine._add_terms(self._batch, doc, kind_code)
            self._column(doc.id, kind_code, _place_key(doc), doc.vector)

    def add_stored(
        self, post_id: int, kind: str, place: tuple, vector: np.ndarray, terms: StoredRow
    ) -> bool:
        """A post as stored, without a PostDoc (the start reads 100,000 of them): `place`
        holds its Place's fields in their order, `terms` StoredTerms' fields (the row read
        from the database will do). False (nothing added) when its terms must be
        analysed: the caller then adds it as a PostDoc."""
        if terms.analysis != self._engine.analysis_id:
            return False
        kind_code = self._next(post_id, kind)
        if not self._engine._add_stored_terms(self._batch, terms, kind_code):
            return False
        self._column(post_id, kind_code, place, vector)
        return True

    def _next(self, post_id: int, kind: str) -> int:
        """Makes room for the post (its old version removed); its kind's code."""
        kind_code = _kind_code(kind)  # reject a bad post before removing the old
        if post_id in self._pending or len(self._batch) >= self._chunk:
            self.flush()
        self._engine.remove(post_id)
        return kind_code

    def _column(
        self, post_id: int, kind_code: int, place: tuple, vector: np.ndarray | None
    ) -> None:
        """The post's columns. Posts at one place share one Place: at 100,000 posts, a
        Place with its own strings per post held about 37 MB."""
        engine = self._engine
        shared = engine._shared_places.get(place)
        if shared is None:
            shared = engine._shared_places[place] = Place(*place)
        municipality = engine._municipality_code(place[0])
        self._columns.append((post_id, kind_code, municipality, shared, vector))
        self._pending.add(post_id)

    def flush(self) -> None:
        """Index the posts collected so far."""
        self._engine._add_batch(self._batch, self._columns)
        self._batch, self._columns, self._pending = self._engine._index.new_batch(), [], set()


def _kind_code(kind: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown post kind: {kind!r}")
    return _KIND_CODES[kind]


def _partition(kind_code: int) -> int:
    """The index partition of a kind's posts."""
    return kind_code - 1


def _place(doc: PostDoc) -> Place:
    return Place(*_place_key(doc))


def _place_key(doc: PostDoc) -> tuple:
    """The fields of the post's Place, in their order."""
    return (
        doc.municipality_ags,
        doc.kreis_ags,
        doc.land,
        doc.lat,
        doc.lon,
        doc.municipality_type,
        doc.structurally_weak,
    )


def _secondary_bonus(query: Place, other: Place, distance: float | None) -> float:
    bonus = REGION_BONUS * proximity(query, other, distance)
    bonus += TYPE_BONUS * type_similarity(query, other)
    if query.structurally_weak and other.structurally_weak:
        bonus += WEAK_BONUS
    return bonus


def _top_slots(text: np.ndarray, threshold: float, limit: int) -> np.ndarray:
    """Slots whose text score reaches the threshold, at most `limit` of the best."""
    above = text >= threshold
    count = int(np.count_nonzero(above))
    if count <= limit:
        return np.flatnonzero(above)
    if 2 * count < text.size:
        # Mostly zeros (slots of the same kind, posts sharing no term): numpy's partition
        # slows down badly on many equal values (at 100,000 slots 6 ms instead of 0.3),
        # so only the slots above the threshold are partitioned.
        slots = np.flatnonzero(above)
        return slots[np.argpartition(text[slots], count - limit)[count - limit :]]
    # Nearly all above (a long query): one partial sort of the whole column is cheaper
    # than gathering them first.
    best = np.argpartition(text, text.size - limit)[text.size - limit :]
    return best[text[best] >= threshold]
