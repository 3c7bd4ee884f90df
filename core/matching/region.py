"""Secondary signals: how near two municipalities are and how alike their type is."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
# Beyond this distance proximity no longer helps: an exchange visit is a day trip at most.
NEAR_KM = 150.0


@dataclass(frozen=True, slots=True)
class Place:
    """The location facts of a post that the secondary signals use."""

    municipality_ags: str | None
    kreis_ags: str | None
    land: str | None
    lat: float | None
    lon: float | None
    municipality_type: str | None
    structurally_weak: bool


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(a: Place, b: Place) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    return haversine_km(a.lat, a.lon, b.lat, b.lon)


def same_kreis(a: Place, b: Place) -> bool:
    return bool(a.kreis_ags) and a.kreis_ags == b.kreis_ags


def same_land(a: Place, b: Place) -> bool:
    return bool(a.land) and a.land == b.land


def proximity(a: Place, b: Place, distance: float | None) -> float:
    """0..1: 1 next door, falling linearly to 0 at NEAR_KM; same Kreis or Land as a floor
    when coordinates are missing."""
    value = 0.0
    if distance is not None:
        value = max(0.0, 1.0 - distance / NEAR_KM)
    if same_kreis(a, b):
        value = max(value, 0.8)
    elif same_land(a, b):
        value = max(value, 0.3)
    return value


# BBSR municipality types ("Stadt- und Gemeindetyp") folded into four classes.
_TYPE_CLASSES = {
    "landgemeinde": "rural",
    "kleinstadt": "small_town",
    "kleine kleinstadt": "small_town",
    "größere kleinstadt": "small_town",
    "mittelstadt": "medium_town",
    "kleinere mittelstadt": "medium_town",
    "größere mittelstadt": "medium_town",
    "großstadt": "city",
    "kleinere großstadt": "city",
    "große großstadt": "city",
}
_CLASS_ORDER = ("rural", "small_town", "medium_town", "city")

# What the reason says when both municipalities are of the same class.
TYPE_HINTS = {
    "rural": "ländlicher Raum",
    "small_town": "Kleinstädte",
    "medium_town": "Mittelstädte",
    "city": "Großstädte",
}


def type_class(municipality_type: str | None) -> str | None:
    if not municipality_type:
        return None
    return _TYPE_CLASSES.get(municipality_type.strip().lower())


def type_similarity(a: Place, b: Place) -> float:
    """1 for the same class, 0.5 for neighbouring classes (Landgemeinde/Kleinstadt), else 0."""
    class_a, class_b = type_class(a.municipality_type), type_class(b.municipality_type)
    if class_a is None or class_b is None:
        return 0.0
    gap = abs(_CLASS_ORDER.index(class_a) - _CLASS_ORDER.index(class_b))
    return {0: 1.0, 1: 0.5}.get(gap, 0.0)


def shared_type_hint(a: Place, b: Place) -> str | None:
    class_a = type_class(a.municipality_type)
    if class_a is not None and class_a == type_class(b.municipality_type):
        return TYPE_HINTS[class_a]
    return None
