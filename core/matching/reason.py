"""The short German reason shown with a match proposal.

"Mobilität · Senioren · ländlicher Raum · 38 km entfernt": shared topics first (thesaurus
labels, then shared words as written), then a hint on the municipality type, then where the
other municipality is.
"""

from __future__ import annotations

from core.matching.normalize import tokenize
from core.matching.region import Place, same_kreis, same_land, shared_type_hint
from core.matching.stemming import stem

SEPARATOR = " · "
MAX_TOPICS = 3
# What a pair rests on when the posts share no topic word: the sentence embeddings.
SIMILAR_TEXT = "ähnliche Beschreibung"


def distance_text(km: float) -> str:
    if km < 1.0:
        return "weniger als 1 km entfernt"
    return f"{round(km)} km entfernt"


def build_reason(
    topics: list[str],
    query: Place,
    other: Place,
    distance: float | None,
    fallback: str | None = None,
) -> str:
    """`fallback` leads when there is no shared topic (a pair found by meaning alone)."""
    if not topics and fallback:
        topics = [fallback]
    hint = shared_type_hint(query, other)
    items = _dedupe([*topics, *([hint] if hint else [])])
    if hint in items:
        items = [*[i for i in items if i != hint][:MAX_TOPICS], hint]
    else:
        items = items[:MAX_TOPICS]
    if query.structurally_weak and other.structurally_weak:
        items.append("beide strukturschwach")
    if same_kreis(query, other):
        items.append("gleicher Landkreis")
    if distance is not None:
        items.append(distance_text(distance))
    elif same_land(query, other) and not same_kreis(query, other):
        items.append("gleiches Bundesland")
    return SEPARATOR.join(items) if items else "ähnliches Thema"


def _dedupe(items: list[str]) -> list[str]:
    """Drop items that say what another item says: "ländlichen" next to "ländlicher Raum",
    "Seniorinnen" next to "Senioren". Compared by word stems; the first of equals stays."""
    keys = [frozenset(stem(t) for t in tokenize(item)) for item in items]
    result: list[str] = []
    for i, item in enumerate(items):
        subsumed = any(
            j != i and (keys[i] < keys[j] or (keys[i] == keys[j] and j < i))
            for j in range(len(items))
        )
        if not subsumed:
            result.append(item)
    return result
