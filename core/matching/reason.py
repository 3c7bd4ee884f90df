"""The short German reason shown with a match proposal.

"Mobilität · Senioren · ländlicher Raum · 38 km entfernt": shared topics first (thesaurus
labels, then shared words as written), then a hint on the municipality type, then where the
other municipality is.
"""

from __future__ import annotations

from core.matching.normalize import fold
from core.matching.region import Place, same_kreis, same_land, shared_type_hint

SEPARATOR = " · "
MAX_TOPICS = 3


def distance_text(km: float) -> str:
    if km < 1.0:
        return "weniger als 1 km entfernt"
    return f"{round(km)} km entfernt"


def build_reason(topics: list[str], query: Place, other: Place, distance: float | None) -> str:
    items = _dedupe(topics)[:MAX_TOPICS]
    hint = shared_type_hint(query, other)
    if hint:
        items = _dedupe([*items, hint])
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
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        key = fold(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
