"""Reference list of German municipalities and Kreise, and a fast search over it.

Pure module (standard library only): no database. The bundled list is
``core/data/municipalities.tsv.gz`` (built by ``scripts/build_municipalities.py``; sources and
licences in ``core/data/MUNICIPALITIES_ATTRIBUTION.md``).

A kreisfreie Stadt is one body with two keys, a Kreis key (5 digits) and a Gemeinde key
(8 digits, ending in ``000``); both rows have kind ``kreisfreie_stadt``. The 8-digit key is the
canonical one (``Municipality.canonical_ags``); name and postcode search list only that row.
"""

from __future__ import annotations

import bisect
import gzip
import heapq
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from core.kernel.texts import t

COLUMNS = (
    "ags",
    "name",
    "kind",
    "land",
    "land_name",
    "kreis_ags",
    "kreis_name",
    "population",
    "lat",
    "lon",
    "postcodes",
    "bbsr_type",
    "grw_status",
    "structurally_weak",
)
KINDS = frozenset({"gemeinde", "kreis", "kreisfreie_stadt"})
GRW_STATUSES = frozenset({"C", "C*", "C**", "D", "N", "C/D", "C/N", "D/N"})
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Municipality:
    ags: str
    name: str
    kind: str
    land: str
    land_name: str
    kreis_ags: str
    kreis_name: str
    population: int
    lat: float | None
    lon: float | None
    postcodes: tuple[str, ...]
    bbsr_type: str | None
    grw_status: str | None
    structurally_weak: bool

    @property
    def is_kreis_level(self) -> bool:
        return len(self.ags) == 5

    @property
    def canonical_ags(self) -> str:
        """The key a member should be stored under (kreisfreie Städte: the 8-digit one)."""
        if self.kind == "kreisfreie_stadt" and self.is_kreis_level:
            return self.ags + "000"
        return self.ags

    @property
    def short_name(self) -> str:
        """Name without the official addition: "Düren, Stadt" -> "Düren"."""
        return self.name.split(", ", 1)[0]

    @property
    def display_name(self) -> str:
        """Short German label, e.g. "Düren (Stadt), Kreis Düren, Nordrhein-Westfalen".

        The type goes in brackets after the name, unless the name already carries brackets
        ("Lindow (Mark)", "Frankfurt (Oder)"): then the type is left out rather than doubling them.
        """
        if self.kind == "kreis":
            return f"{self.name}, {self.land_name}"
        if self.kind == "kreisfreie_stadt":
            label = _typed(self.short_name, "kreisfreie Stadt")
            # City states (Berlin, Hamburg) would otherwise repeat their own name.
            return label if self.short_name == self.land_name else f"{label}, {self.land_name}"
        base, _, addition = self.name.partition(", ")
        return f"{_typed(base, addition)}, {self.kreis_name}, {self.land_name}"


def _typed(name: str, kind: str) -> str:
    """Name with its type in brackets; a name with brackets of its own stays as it is."""
    if not kind or "(" in name:
        return name
    return f"{name} ({kind})"


# --- reading ------------------------------------------------------------------------------


def read_file(path: str | Path) -> list[Municipality]:
    """Read a reference list (TSV with header, plain or gzip). Raises ValueError naming the line."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(t("reference_file.msg_not_utf8", path=path)) from exc
    return parse_tsv(text, source=str(path))


def parse_tsv(text: str, source: str = "<text>") -> list[Municipality]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(t("reference_file.msg_empty_file", path=source))
    header = lines[0].split("\t")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(
            t("reference_file.msg_bad_header", path=source, missing=", ".join(missing))
        )
    # Column order may differ from ours and extra columns are ignored, so hand-edited lists work.
    positions = [header.index(c) for c in COLUMNS]
    records: list[Municipality] = []
    seen: set[str] = set()
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            record = _parse_row(line.split("\t"), len(header), positions)
            if record.ags in seen:
                raise ValueError(t("reference_file.problem_duplicate", value=record.ags))
        except ValueError as exc:
            raise ValueError(
                t("reference_file.msg_bad_row", path=source, line=line_no, problem=exc)
            ) from None
        seen.add(record.ags)
        records.append(record)
    return records


def _parse_row(fields: list[str], expected: int, positions: list[int]) -> Municipality:
    if len(fields) != expected:
        raise ValueError(
            t("reference_file.problem_field_count", found=len(fields), expected=expected)
        )
    value = dict(zip(COLUMNS, (fields[i].strip() for i in positions), strict=True))
    ags = value["ags"]
    if not (ags.isascii() and ags.isdigit() and len(ags) in (5, 8)):
        raise ValueError(t("reference_file.problem_ags", value=ags))
    _check_row(value, ags)
    return Municipality(
        ags=ags,
        name=value["name"],
        kind=value["kind"],
        land=value["land"],
        land_name=value["land_name"],
        kreis_ags=value["kreis_ags"],
        kreis_name=value["kreis_name"],
        population=_parse_int(value["population"], "population"),
        lat=_parse_coordinate(value["lat"], "lat"),
        lon=_parse_coordinate(value["lon"], "lon"),
        postcodes=tuple(value["postcodes"].split()),
        bbsr_type=value["bbsr_type"] or None,
        grw_status=value["grw_status"] or None,
        structurally_weak=value["structurally_weak"] == "1",
    )


def _check_row(value: dict[str, str], ags: str) -> None:
    if not value["name"]:
        raise ValueError(t("reference_file.problem_name"))
    if value["kind"] not in KINDS or (value["kind"] == "kreis" and len(ags) != 5):
        raise ValueError(t("reference_file.problem_kind", value=value["kind"]))
    if value["land"] != ags[:2]:
        raise ValueError(t("reference_file.problem_land", value=value["land"]))
    if value["kreis_ags"] != ags[:5]:
        raise ValueError(t("reference_file.problem_kreis", value=value["kreis_ags"]))
    for code in value["postcodes"].split():
        if not (len(code) == 5 and code.isascii() and code.isdigit()):
            raise ValueError(t("reference_file.problem_postcode", value=code))
    if value["grw_status"] and value["grw_status"] not in GRW_STATUSES:
        raise ValueError(t("reference_file.problem_grw", value=value["grw_status"]))
    if value["structurally_weak"] not in ("0", "1"):
        raise ValueError(t("reference_file.problem_flag", value=value["structurally_weak"]))


def _parse_int(text: str, column: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(t("reference_file.problem_number", column=column, value=text))
    return int(text)


def _parse_coordinate(text: str, column: str) -> float | None:
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > 180:
        raise ValueError(t("reference_file.problem_number", column=column, value=text))
    return number


@cache
def _bundled() -> tuple[Municipality, ...]:
    resource = resources.files("core") / "data" / "municipalities.tsv.gz"
    text = gzip.decompress(resource.read_bytes()).decode("utf-8")
    return tuple(parse_tsv(text, source="municipalities.tsv.gz"))


def load_bundled() -> list[Municipality]:
    """The bundled reference list (parsed once per process; a fresh list on every call)."""
    return list(_bundled())


@cache
def bundled_index() -> MunicipalityIndex:
    """A shared index over the bundled list, for callers that do not import their own."""
    return MunicipalityIndex(_bundled())


# --- search -------------------------------------------------------------------------------

_EXPAND = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")
# Designations in front of a Kreis name; "Kreis Düren" should also count as just "Düren".
_KREIS_LEADS = ("landkreis ", "kreis ", "städteregion ", "regionalverband ", "region ")


_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_variants(text: str) -> tuple[str, ...]:
    """Lower-cased spellings of text: umlauts expanded (ü -> ue) and plain (ü -> u).

    Both are needed because people type "Dueren" as well as "Duren" for "Düren".
    """
    lowered = text.lower().replace("ß", "ss")
    expanded = _strip_marks(lowered.translate(_EXPAND))
    plain = _strip_marks(lowered)
    return (expanded,) if expanded == plain else (expanded, plain)


def _phrase(folded: str) -> str:
    """Words only, single-spaced: "dessau-rosslau, stadt" -> "dessau rosslau stadt"."""
    return " ".join(_WORD.findall(folded))


_LEAD_WORDS = frozenset(_phrase(v) for lead in _KREIS_LEADS for v in fold_variants(lead))


def _designated(phrase: str) -> bool:
    """True for "landkreis muenchen": typing "la" should not bring up every Landkreis."""
    first, space, _ = phrase.partition(" ")
    return bool(space) and first in _LEAD_WORDS


def _name_phrases(record: Municipality) -> set[str]:
    """Every folded form of the names a record should be found under."""
    names = [record.name, record.short_name]
    if record.kind == "kreis":
        lowered = record.name.lower()
        lead = next((w for w in _KREIS_LEADS if lowered.startswith(w)), None)
        if lead:
            names.append(record.name[len(lead) :])
    return {_phrase(v) for name in names for v in fold_variants(name)} - {""}


class _SortedKeys:
    """Keys sorted once, so all keys with a given prefix are found by bisection."""

    def __init__(self, pairs: Iterable[tuple[str, int]]):
        ordered = sorted(pairs)
        self.keys = [key for key, _ in ordered]
        self.ids = [entry_id for _, entry_id in ordered]

    def with_prefix(self, prefix: str) -> Iterable[tuple[str, int]]:
        pos = bisect.bisect_left(self.keys, prefix)
        while pos < len(self.keys) and self.keys[pos].startswith(prefix):
            yield self.keys[pos], self.ids[pos]
            pos += 1


class MunicipalityIndex:
    """In-memory search over municipalities by name, postcode or AGS.

    Ranking: exact name, then names starting with the query, then names with words starting
    with the query words; within each group larger population first.
    """

    def __init__(self, records: Iterable[Municipality]):
        self._by_ags: dict[str, Municipality] = {}
        self._by_postcode: dict[str, list[Municipality]] = {}
        searchable: list[Municipality] = []
        for record in records:
            self._by_ags[record.ags] = record
            # The Kreis key of a kreisfreie Stadt is found by AGS only, so names show once.
            if record.canonical_ags == record.ags:
                searchable.append(record)
        # Entry ids follow population order, so the smallest ids are the best-ranked ones.
        searchable.sort(key=_by_size)
        self._entries = searchable
        phrases = [(p, i) for i, rec in enumerate(searchable) for p in _name_phrases(rec)]
        self._entry_words: list[frozenset[str]] = [frozenset() for _ in searchable]
        for phrase, entry_id in phrases:
            self._entry_words[entry_id] |= frozenset(phrase.split())
        self._phrases = _SortedKeys(phrases)
        self._designated = {
            p for p, i in phrases if searchable[i].kind == "kreis" and _designated(p)
        }
        self._words = _SortedKeys((w, i) for i, ws in enumerate(self._entry_words) for w in ws)
        for record in searchable:
            for code in record.postcodes:
                self._by_postcode.setdefault(code, []).append(record)

    def __len__(self) -> int:
        return len(self._by_ags)

    def get(self, ags: str) -> Municipality | None:
        return self._by_ags.get(ags.strip())

    def search(self, query: str, limit: int = 10) -> list[Municipality]:
        """Find municipalities by name (prefix, word, umlaut-insensitive), postcode or AGS."""
        query = query.strip()
        if limit <= 0 or not query:
            return []
        if query.isascii() and query.isdigit():
            return self._search_number(query)[:limit]
        postcode = _POSTCODE.search(query)
        if postcode is not None:  # "16835 Lindow": the municipalities of that postcode so named
            return self._search_postcode_and_name(postcode.group(0), query, limit)
        return self._search_name(query, limit)

    def named_by(self, query: str, record: Municipality) -> bool:
        """True when `query` names `record` without a guess: its AGS or one of its postcodes,
        its name, or the whole first words of its name ("Ottendorf" for Ottendorf-Okrilla).
        A mere beginning of a word ("ok" for Ottendorf-Okrilla) is a guess."""
        digits = "".join(query.split())
        if digits.isascii() and digits.isdigit():
            return digits in (record.ags, record.canonical_ags) or digits in record.postcodes
        postcode = _POSTCODE.search(query)
        if postcode is not None and postcode.group(0) in record.postcodes:
            return True
        names = _name_phrases(record)
        return any(
            name == phrase or name.startswith(phrase + " ")
            for phrase in map(_phrase, fold_variants(query))
            if phrase
            for name in names
        )

    def _search_postcode_and_name(
        self, postcode: str, query: str, limit: int
    ) -> list[Municipality]:
        rest = (query[: query.find(postcode)] + " " + query[query.find(postcode) + 5 :]).strip()
        of_postcode = self._by_postcode.get(postcode, [])
        if not rest:
            return of_postcode[:limit]
        named = set(map(id, self._search_name(rest, max(limit, 50))))
        both = [m for m in of_postcode if id(m) in named]
        # A name the postcode does not know: the postcode's municipalities, then the name's.
        return (both or of_postcode or self._search_name(rest, limit))[:limit]

    def _search_number(self, digits: str) -> list[Municipality]:
        if len(digits) == 12:  # ARS (Regionalschlüssel) -> AGS
            digits = digits[:5] + digits[9:]
        hits: list[Municipality] = []
        if len(digits) in (5, 8) and digits in self._by_ags:
            hits.append(self._by_ags[digits])
        if len(digits) == 5:  # a postcode, too: both readings are offered
            hits.extend(m for m in self._by_postcode.get(digits, ()) if m not in hits)
        return hits

    def _search_name(self, query: str, limit: int) -> list[Municipality]:
        variants = [p for p in map(_phrase, fold_variants(query)) if p]
        exact: set[int] = set()
        prefix: set[int] = set()
        for phrase in variants:
            partial_word = " " not in phrase
            for key, entry_id in self._phrases.with_prefix(phrase):
                if partial_word and key in self._designated:
                    continue  # the bare name ("muenchen") of the same Kreis still matches
                (exact if key == phrase else prefix).add(entry_id)
        prefix -= exact
        ranked = heapq.nsmallest(limit, exact) + heapq.nsmallest(limit, prefix)
        if len(ranked) < limit:
            # Word matches are only needed when the name matches do not fill the list.
            words = set().union(*(self._word_matches(p.split()) for p in variants))
            ranked += heapq.nsmallest(limit - len(ranked), words - exact - prefix)
        return [self._entries[entry_id] for entry_id in ranked[:limit]]

    def _word_matches(self, words: list[str]) -> set[int]:
        """Entries having, for every query word, a name word that starts with it."""
        # The longest word matches fewest names; the others only filter that small set,
        # because a short word such as "s" would otherwise pull in thousands of names.
        first, *rest = sorted(set(words), key=len, reverse=True)
        result = {entry_id for _, entry_id in self._words.with_prefix(first)}
        for word in rest:
            result = {i for i in result if any(w.startswith(word) for w in self._entry_words[i])}
        return result


def _by_size(record: Municipality) -> tuple[int, str, str]:
    return (-record.population, record.name, record.ags)


# --- geometry -----------------------------------------------------------------------------


def distance_km(a: Municipality, b: Municipality) -> float:
    """Great-circle (haversine) distance between two municipalities' points, in km."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        raise ValueError("municipality without coordinates")
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
