"""Word coverage: how much of one post the other post answers, measured from both sides.

BM25 (bm25_index.py) scores how much of the query's weighted terms a candidate contains. A
word of a post also stands behind its compound parts and thesaurus groups, so "Bürgerbus"
makes five terms of weight; a request that only says "Mobilität" matches one of them, and a
short offer that is entirely about the request's topic scored as a poor match. Here the units
are the posts' words: a word counts as answered when the other post has the word itself or
one of its thesaurus groups, and half when it has one of the word's compound parts. Words are
weighted by idf times their count, in which title and topic words count twice: the share of a
post that is answered should follow what the post stresses. Only nouns count where a post has
them (see terms.coverage_words).

The pair score is the geometric mean of both shares (a weighted Ochiai coefficient): the
same for A against B as for B against A, high only when each post is largely about what the
other says, and a single shared generic word stays low because it is a small share of both.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from core.matching.bm25_index import InvertedIndex
from core.matching.terms import concept_id, concept_term

# Credit for a word of one post, by what the other post contains.
WORD_CREDIT = 1.0  # the word itself
CONCEPT_CREDIT = 1.0  # one of the word's thesaurus groups: the same topic in other words
PART_CREDIT = 0.5  # one of the word's compound parts: a related, broader or narrower topic
# Parts and groups kept per term; more are rare ("Bürgerbus" has two of each).
MAX_PARTS = 4
MAX_GROUPS = 6
NONE = -1

Expand = Callable[[str], tuple[tuple[str, ...], frozenset[int]]]


class Expansions:
    """Compound parts and thesaurus groups of every index term as term ids, in fixed-width
    rows padded with NONE, so the credit of many words is a few numpy lookups."""

    def __init__(self, expand: Expand) -> None:
        self._expand = expand
        self._parts = array("i")
        self._groups = array("i")

    def __len__(self) -> int:
        return len(self._parts) // MAX_PARTS

    def catch_up(self, index: InvertedIndex) -> None:
        """Add rows for the terms the index has created since the last call."""
        while len(self) < index.term_count:
            parts, groups = self.term_ids(index, index.term(len(self)), create=True)
            self._parts.extend(_padded(parts, MAX_PARTS))
            self._groups.extend(_padded(groups, MAX_GROUPS))

    def term_ids(
        self, index: InvertedIndex, term: str, create: bool = False
    ) -> tuple[list[int], list[int]]:
        """Ids of the parts and groups of `term`; unknown ones are created for index terms
        and NONE for query words (no indexed post contains them)."""
        if concept_id(term) is not None:
            return [], []
        parts, groups = self._expand(term)
        lookup = index.intern if create else _lookup(index)
        return (
            [lookup(p) for p in parts],
            [lookup(concept_term(g)) for g in sorted(groups)],
        )

    def of_words(
        self, index: InvertedIndex, words: Iterable[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Term ids (NONE when unknown), part rows and group rows of a query's words."""
        words = list(words)
        found = [index.term_id(w) for w in words]
        word_ids = np.array([NONE if i is None else i for i in found], dtype=np.int64)
        parts, groups = self.rows(np.maximum(word_ids, 0))
        parts, groups = parts.astype(np.int64), groups.astype(np.int64)
        for row, (word, term_id) in enumerate(zip(words, found, strict=True)):
            if term_id is None:  # not indexed: its parts or groups may still be
                part_ids, group_ids = self.term_ids(index, word)
                parts[row] = _padded(part_ids, MAX_PARTS)
                groups[row] = _padded(group_ids, MAX_GROUPS)
        return word_ids, parts, groups

    def rows(self, term_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = np.frombuffer(self._parts, dtype=np.int32).reshape(-1, MAX_PARTS)
        groups = np.frombuffer(self._groups, dtype=np.int32).reshape(-1, MAX_GROUPS)
        # take() is several times faster than fancy indexing on rows of a 2-d array.
        return np.take(parts, term_ids, axis=0), np.take(groups, term_ids, axis=0)


def pair_scores(
    index: InvertedIndex,
    expansions: Expansions,
    query_words: Mapping[str, float],
    query_term_ids: np.ndarray,
    slots: np.ndarray,
) -> np.ndarray:
    """Geometric mean of both word coverages for the query and each slot.

    `query_words` are the query's word stems with weighted counts, `query_term_ids` the index
    ids of all its terms (words, parts, groups). Slot records carry each word's count as mark.
    """
    if slots.size == 0:
        return np.zeros(0)
    ids, marks, owner = index.records(slots.tolist())
    answered_by_query = _candidate_coverage(
        index, expansions, query_term_ids, ids, marks, owner, slots.size
    )
    answered_by_slot = _query_coverage(index, expansions, query_words, ids, owner, slots.size)
    return np.sqrt(answered_by_query * answered_by_slot)


def _candidate_coverage(
    index: InvertedIndex,
    expansions: Expansions,
    query_term_ids: np.ndarray,
    ids: np.ndarray,
    marks: np.ndarray,
    owner: np.ndarray,
    slot_count: int,
) -> np.ndarray:
    """Share of each candidate's weighted words that the query answers."""
    words = marks > 0
    ids, owner = ids[words], owner[words]
    weights = index.idfs(ids) * marks[words].astype(np.float64)
    # One extra False at the end, where the NONE padding (-1) points.
    in_query = np.zeros(index.term_count + 1, dtype=bool)
    in_query[query_term_ids] = True
    parts, groups = expansions.rows(ids)
    credit = _credit(
        in_query[ids], _any_row(np.take(in_query, groups)), _any_row(np.take(in_query, parts))
    )
    answered = np.bincount(owner, weights * credit, slot_count)
    return _share(answered, np.bincount(owner, weights, slot_count))


def _query_coverage(
    index: InvertedIndex,
    expansions: Expansions,
    query_words: Mapping[str, float],
    ids: np.ndarray,
    owner: np.ndarray,
    slot_count: int,
) -> np.ndarray:
    """Share of the query's weighted words that each candidate answers."""
    if not query_words:
        return np.zeros(slot_count)
    word_ids, part_ids, group_ids = expansions.of_words(index, query_words)
    weights = np.array([index.idf(w) * c for w, c in query_words.items()], dtype=np.float64)
    # Which of the terms the query words stand for each candidate contains.
    wanted = np.unique(np.concatenate((word_ids, part_ids.ravel(), group_ids.ravel())))
    wanted = wanted[wanted >= 0]
    column = np.full(index.term_count + 1, wanted.size, dtype=np.int32)
    column[wanted] = np.arange(wanted.size, dtype=np.int32)
    present = np.zeros((slot_count, wanted.size + 1), dtype=bool)
    hit = column[ids] < wanted.size
    present[owner[hit], column[ids[hit]]] = True
    present[:, wanted.size] = False  # the column of absent and padding terms
    exact = present[:, column[word_ids]]
    by_group = _any_row(present[:, column[group_ids]])
    by_part = _any_row(present[:, column[part_ids]])
    return _share(_credit(exact, by_group, by_part) @ weights, np.full(slot_count, weights.sum()))


def _any_row(flags: np.ndarray) -> np.ndarray:
    """any() over the last axis, which holds a few parts or groups: or-ing the columns is
    several times faster than numpy's reduction along so short an axis."""
    found = flags[..., 0].copy()
    for column in range(1, flags.shape[-1]):
        found |= flags[..., column]
    return found


def _credit(exact: np.ndarray, by_group: np.ndarray, by_part: np.ndarray) -> np.ndarray:
    return np.where(
        exact, WORD_CREDIT, np.where(by_group, CONCEPT_CREDIT, np.where(by_part, PART_CREDIT, 0.0))
    )


def _share(answered: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.divide(answered, total, out=np.zeros_like(answered), where=total > 0)


def _lookup(index: InvertedIndex) -> Callable[[str], int]:
    def term_id(term: str) -> int:
        found = index.term_id(term)
        return NONE if found is None else found

    return term_id


def _padded(ids: list[int], width: int) -> list[int]:
    return (ids + [NONE] * width)[:width]
