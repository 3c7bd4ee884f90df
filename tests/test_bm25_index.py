"""The BM25 index's one-byte impacts against the BM25 formula in floating point."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.matching.bm25_index import IDF_PRIOR_DOCS, IMPACT_LEVELS, InvertedIndex

STEP = (InvertedIndex().k1 + 1.0) / IMPACT_LEVELS


def exact_scores(index: InvertedIndex, docs: list[tuple[dict[str, float], float]], term: str):
    """BM25 of `term` for every document, against the index's current reference length."""
    n = index.live_docs + IDF_PRIOR_DOCS
    df = sum(term in terms for terms, _ in docs)
    idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    k1, b, avg = index.k1, index.b, index._reference_avg_len
    out = []
    for terms, length in docs:
        tf = terms.get(term, 0.0)
        out.append(idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * length / avg)))
    return np.array(out), idf


def test_impacts_take_one_byte_and_scores_stay_within_a_step():
    index = InvertedIndex()
    docs = [({"dorf": float(1 + i % 9) / 2, "bank": 1.0}, float(3 + i % 40)) for i in range(300)]
    batch = index.new_batch()
    for terms, length in docs:
        batch.add(terms, length, {})
    index.add_batch(batch)
    assert all(a.itemsize == 1 for a in index._post_impacts)
    scores, _, _ = index.score({"dorf": 1.0})
    expected, idf = exact_scores(index, docs, "dorf")
    assert np.abs(scores - expected).max() <= idf * STEP / 2 + 1e-5
    # Different term frequencies still rank as they should.
    assert np.argmax(scores) == np.argmax(expected)


def test_impacts_follow_a_drifting_average_length():
    index = InvertedIndex()
    short = [({"dorf": float(1 + i % 6), "bus": 0.5}, 4.0 + i % 3) for i in range(200)]
    long = [({"dorf": float(1 + i % 6) / 2, "bus": 2.0}, 40.0 + i % 7) for i in range(200)]
    for terms, length in short + long:  # one by one: the reference moves many times
        index.add(terms, length)
    assert index._reference_avg_len > 15.0
    for term in ("dorf", "bus"):
        scores, _, _ = index.score({term: 1.0})
        expected, idf = exact_scores(index, short + long, term)
        # Each recomputation may move an impact by about a step; they do not add up.
        assert scores == pytest.approx(expected, abs=idf * 2 * STEP)


def test_term_ids_beyond_sixteen_bits_come_back_from_the_records(monkeypatch):
    import core.matching.bm25_index as bm25_index

    index = InvertedIndex()
    for i in range(70_000):
        index.intern(f"t{i}")
    slot = index.add({"t69999": 1.0, "t5": 2.0, "neu": 1.0}, 4.0, {"t69999": 3})
    expected = [69_999, 5, 70_000]
    assert index.term_ids_of(slot).tolist() == expected
    assert index.terms_of(slot) == {"t69999", "t5", "neu"}
    ids, marks, owner = index.records([slot])
    assert ids.tolist() == expected and marks.tolist() == [3, 0, 0] and owner.tolist() == [0] * 3
    index.remove(slot)
    assert index._df[69_999] == 0
    monkeypatch.setattr(bm25_index, "MAX_TERMS", index.term_count)
    with pytest.raises(OverflowError):
        index.intern("noch-einer")
