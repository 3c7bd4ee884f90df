"""Value objects exchanged between the matching engine and the rest of the app."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.matching.stored_terms import StoredTerms

OFFER = "offer"
REQUEST = "request"
KINDS = (OFFER, REQUEST)


@dataclass(frozen=True)
class PostDoc:
    """What the engine needs to know about one post; built by the caller from the database."""

    id: int
    kind: str  # "offer" | "request"
    title: str
    body: str
    topics: tuple[str, ...] = ()
    municipality_ags: str | None = None
    kreis_ags: str | None = None
    land: str | None = None  # 2-digit Land code
    lat: float | None = None
    lon: float | None = None
    municipality_type: str | None = None  # BBSR type, e.g. "Landgemeinde", "Mittelstadt"
    structurally_weak: bool = False
    # The post's sentence embedding as stored (int8, semantic.py); None: words only.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    # The post's analysed text as stored (stored_terms.py); None or another analyser's
    # terms: the engine analyses the text.
    terms: StoredTerms | None = field(default=None, compare=False, repr=False)


PROPOSED = "proposed"  # high confidence: both sides are asked
SUGGESTED = "suggested"  # lower confidence: shown only to the author of the matched post


@dataclass(frozen=True)
class Candidate:
    """One ranked post of the other kind with a comparable score and a short German reason."""

    post_id: int
    score: float  # 0..1, comparable across queries
    reason: str  # short German, e.g. "Mobilität · ländlicher Raum · 38 km entfernt"
    tier: str = PROPOSED
    # The two signals behind `score` (before region and type reorder), for measurements.
    text: float = field(default=0.0, compare=False)
    cosine: float = field(default=0.0, compare=False)


def opposite_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown post kind: {kind!r}")
    return REQUEST if kind == OFFER else OFFER
