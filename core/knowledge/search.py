"""Search over the knowledge collection with the German analysis of the matching.

Title, summary, topics and the beginning of the extracted text are analysed like a post
(core.matching: folding, stems, compound parts, thesaurus groups) into one BM25 index;
a query is analysed the same way. The BM25 score as a share of what a document with
every query term would get is the word signal; the cosine of the sentence embeddings
(the encoder of the matching) is the meaning signal, which finds "Mitfahrbank" for
"Fahrgemeinschaft ins Nachbardorf". Both fuse as in the matching (core.matching.engine).

The engine is pure and in memory; ``core.knowledge.index`` keeps it in step with the
database.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.matching.analysis import Analyzer
from core.matching.bm25_index import InvertedIndex
from core.matching.engine import Fusion, one_blas_thread
from core.matching.terms import concept_id, coverage_words, document_terms, query_terms
from core.matching.thesaurus import load_thesaurus
from core.matching.vectors import VectorColumn, query_vector

# How much of the extracted text is indexed: the first pages say what a document is
# about, and a whole book would drown its title in BM25's length normalisation.
INDEXED_TEXT = 6_000
# Set before the labelled set was written (benchmarks/bench_knowledge.py), as in the
# matching: the meaning signal weighs a little less than the words, because a member's
# search words are few and usually the words of the document.
FUSION = Fusion(weight=0.4, floor=0.3, propose=0.0, suggest=0.0)
# Below this fused score the best hit is not a good answer (counted for the staff).
GOOD = 0.35
# Hits at or below this score are not shown at all.
SHOWN_FLOOR = 0.12
# The entries scored exactly: the best by words and the nearest by meaning (estimated).
WORD_POOL = 300
SEMANTIC_POOL = 100
MAX_REASON_WORDS = 3


@dataclass(frozen=True)
class EntryDoc:
    id: int
    title: str
    summary: str = ""
    topics: tuple[str, ...] = ()
    text: str = ""
    vector: np.ndarray | None = None


@dataclass(frozen=True)
class Hit:
    entry_id: int
    score: float
    # What the entry shares with the query, for the reason: thesaurus labels and nouns.
    shared: tuple[str, ...] = ()
    similar: bool = False  # found by meaning (sentence embedding) rather than by words


@dataclass
class Query:
    text: str
    vector: np.ndarray | None = None
    exclude: Sequence[int] = field(default_factory=tuple)


class KnowledgeEngine:
    def __init__(self, thesaurus_path: str | Path | None = None, fusion: Fusion = FUSION) -> None:
        one_blas_thread()  # as the matching: small products, one request at a time
        groups = load_thesaurus(thesaurus_path)
        self._analyzer = Analyzer(groups)
        self._labels = [g.label for g in groups]
        self.fusion = fusion
        self._index = InvertedIndex()
        self._vectors = VectorColumn()
        self._slot_of: dict[int, int] = {}
        self._ids = array("q")

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._slot_of

    def bulk_upsert(self, docs: Iterable[EntryDoc]) -> None:
        batch = self._index.new_batch()
        ids: list[int] = []
        vectors: list[np.ndarray | None] = []
        for doc in docs:
            self.remove(doc.id)
            body = f"{doc.summary}\n{doc.text[:INDEXED_TEXT]}"
            analysis = self._analyzer.analyze(doc.title, body, doc.topics)
            batch.add(document_terms(analysis), analysis.length, coverage_words(analysis))
            ids.append(doc.id)
            vectors.append(doc.vector)
        slots = self._index.add_batch(batch)
        self._vectors.append(vectors)
        for slot, entry_id in zip(slots, ids, strict=True):
            self._slot_of[entry_id] = slot
            self._ids.append(entry_id)

    def remove(self, entry_id: int) -> None:
        slot = self._slot_of.pop(entry_id, None)
        if slot is not None:
            self._index.remove(slot)
            self._vectors.clear(slot)

    def search(self, query: Query, k: int = 5) -> list[Hit]:
        """The best ``k`` entries for the query, best first; only those above the floor."""
        if k <= 0 or not self._slot_of:
            return []
        analysis = self._analyzer.analyze(query.text, "", ())
        weights = query_terms(analysis)
        scores, reference, _ = self._index.score(weights)
        words = np.clip(scores / reference, 0.0, 1.0) if reference > 0 else np.zeros_like(scores)
        alive = self._index.alive_view().astype(bool)
        for entry_id in query.exclude:
            slot = self._slot_of.get(entry_id)
            if slot is not None:
                alive[slot] = False
        pool = _best(np.where(alive, words, 0.0), WORD_POOL)
        unit = query_vector(query.vector) if query.vector is not None else None
        if unit is not None:
            near = self._vectors.shortlist(unit, alive, SEMANTIC_POOL)
            pool = np.union1d(pool, near).astype(np.int64)
            meaning = self._vectors.cosines(unit, pool)
            fused = self.fusion.score(words[pool].astype(np.float64), meaning)
        else:
            fused = words[pool].astype(np.float64)
        keep = fused > SHOWN_FLOOR
        pool, fused, word_part = pool[keep], fused[keep], words[pool][keep]
        order = np.lexsort((np.asarray(self._ids)[pool] if pool.size else pool, -fused))[:k]
        return [
            Hit(
                entry_id=self._ids[int(pool[i])],
                score=round(float(fused[i]), 4),
                shared=tuple(self._shared(analysis, weights, int(pool[i]))),
                similar=bool(word_part[i] <= 0),
            )
            for i in order
        ]

    def _shared(self, query, weights: dict[str, float], slot: int) -> list[str]:
        """Thesaurus labels and nouns the entry shares with the query, most telling first."""
        known = {self._index.term_id(t): t for t in weights}
        terms, _, _ = self._index.records([slot])
        present = [known[i] for i in set(terms.tolist()) & known.keys()]
        shared = sorted(present, key=lambda t: (-self._index.idf(t) * weights[t], t))
        found: list[str] = []
        covered: set[int] = set()
        for term in shared:
            group = concept_id(term)
            if group is not None:
                covered.add(group)
                label = self._labels[group]
            elif term in query.words and not (
                self._analyzer.concepts.groups_of_stem(term) & covered
            ):
                label = self._analyzer.surfaces.get(term, term)
            else:
                continue
            if label not in found:
                found.append(label)
        return found[:MAX_REASON_WORDS]


def _best(scores: np.ndarray, limit: int) -> np.ndarray:
    """Slots with a positive score, at most ``limit`` of the best, in slot order."""
    slots = np.flatnonzero(scores > 0)
    if slots.size > limit:
        slots = slots[np.argpartition(-scores[slots], limit - 1)[:limit]]
    return np.sort(slots).astype(np.int64)
