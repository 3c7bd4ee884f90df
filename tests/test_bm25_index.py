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
    assert all(a.itemsize == 1 for a in index._post_impacts[0])
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


def test_a_query_scores_one_partition_exactly_as_an_index_of_all_would(monkeypatch):
    """Two partitions (the engine's two kinds of post): a query reads one partition's
    postings and gives its documents the scores of an index without partitions, also
    after removals, compaction and a drifting average length; idf counts every partition."""
    import core.matching.bm25_index as bm25_index

    words = ["dorf", "bank", "bus", "markt", "schule"]
    docs = [
        ({words[i % 5]: 1.0 + i % 3, words[(i * 7) % 5]: 0.5, f"selten{i}": 1.0}, 3.0 + i % 30)
        for i in range(600)
    ]
    for i in range(1, 600, 2):  # frequent, but in partition 1 only
        docs[i][0]["ungerade"] = 1.0
    split, whole = InvertedIndex(partitions=2), InvertedIndex()
    for start in range(0, 600, 100):  # several batches, each with both partitions
        batches = split.new_batch(), whole.new_batch()
        for i in range(start, start + 100):
            terms, length = docs[i]
            batches[0].add(terms, length, {}, partition=i % 2)
            batches[1].add(terms, length, {})
        split.add_batch(batches[0])
        whole.add_batch(batches[1])
    # A rare word gets lists only in the partition it occurs in.
    rare = split.term_id("selten3")
    assert len(split._post_slots[1][rare]) == 1 and len(split._post_slots[0][rare]) == 0
    query = {"dorf": 1.0, "bus": 2.0, "selten3": 1.0, "fehlt": 1.0, "ungerade": 0.5}
    odd = np.arange(600) % 2 == 1

    def compare() -> None:
        for partition, mine in ((0, ~odd), (1, odd)):
            scores, reference, _ = split.score(query, partition=partition)
            expected, expected_reference, _ = whole.score(query)
            assert reference == expected_reference  # the same idf
            assert scores[mine].tolist() == expected[mine].tolist()
            assert not scores[~mine].any()

    compare()
    monkeypatch.setattr(bm25_index, "COMPACT_MIN", 10)
    postings = split._postings
    for slot in range(0, 600, 3):  # a third gone: compacted on the way
        split.remove(slot)
        whole.remove(slot)
    assert split._postings == whole._postings < postings
    reference_length = split._reference_avg_len
    for _ in range(300):  # long documents move the average length: impacts recomputed
        split.add({"dorf": 3.0, "bus": 1.0}, 80.0, partition=1)
        whole.add({"dorf": 3.0, "bus": 1.0}, 80.0)
    assert split._reference_avg_len == whole._reference_avg_len > reference_length
    odd = np.concatenate((odd, np.ones(300, dtype=bool)))
    monkeypatch.setattr(bm25_index, "DEFER_MIN_DF", 1)
    alive = split.alive_view().astype(bool)
    for partition, mine in ((0, ~odd & alive), (1, odd & alive)):
        scores, _, deferred = split.score(query, defer_share=0.5, partition=partition)
        expected, _, expected_deferred = whole.score(query, defer_share=0.5)
        assert deferred == expected_deferred
        assert split.term_id("ungerade") in {term_id for term_id, _ in deferred}
        slots = np.flatnonzero(mine)
        split.complete(scores, slots, deferred, partition)
        whole.complete(expected, slots, expected_deferred)
        assert scores[mine].tolist() == expected[mine].tolist()
    with pytest.raises(ValueError):
        split.add({"dorf": 1.0}, 3.0, partition=2)
