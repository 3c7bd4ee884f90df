"""What a stranger's first mail already says about them: name, municipality, role.

Registration by mail proposes these in its form, so the person only confirms or corrects
them. Sources, most reliable first: the From display name, the signature (a name line, a
postcode with town, "Gemeinde …"/"Stadt …", an office such as "Bürgermeisterin") and the
domain of the address ("templin.de", "kreis-dueren.de"). A proposal is made only where the
source is unambiguous; everything else stays empty in the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.municipalities.directory import Municipality, MunicipalityIndex, fold_variants

# Free mail providers and generic hosts: their names say nothing about a municipality.
FREEMAIL = frozenset(
    {
        *("gmail", "googlemail", "gmx", "web", "t-online", "yahoo", "outlook", "hotmail"),
        *("live", "posteo", "mailbox", "icloud", "me", "aol", "freenet", "arcor", "online"),
        *("mail", "email", "proton", "protonmail", "vodafone", "kabelmail", "ewe", "magenta"),
        *("example", "test", "localhost"),
    }
)
# Designations in front of a municipality's name, in domains and signature lines.
_DESIGNATIONS = (
    "stadtverwaltung",
    "gemeindeverwaltung",
    "kreisverwaltung",
    "landratsamt",
    "landkreis",
    "stadt",
    "gemeinde",
    "markt",
    "kreis",
    "amt",
    "verbandsgemeinde",
    "samtgemeinde",
    "vg",
)
_NAME_WORD = re.compile(r"^[A-ZÄÖÜ][a-zäöüßéèáàçñ'’\-]+\.?$|^(von|van|de|zu|der|den)$")
_TITLES = frozenset({"dr.", "prof.", "dipl.-ing.", "herr", "frau"})
_POSTCODE_TOWN = re.compile(r"\b(\d{5})\s+([A-ZÄÖÜ][\w.\- ()]{1,60})")
# "Gemeinde Lindow (Mark)", also inside an office line ("Bürgermeisterin der Gemeinde
# Lindow (Mark)"); the name runs to the line's end or a comma ("Stadt Templin, Markt 1").
_DESIGNATION = re.compile(r"(?<!\w)(?:" + "|".join(_DESIGNATIONS) + r")\s+", re.IGNORECASE)
_DESIGNATED_NAME = re.compile(r"([A-ZÄÖÜ][\w.\-() ]{1,60}?)\s*(?:,.*)?$", re.IGNORECASE)
# An office in front of the designation ("Amt für Wirtschaft der Stadt …") is a title of
# capitalised nouns; a sentence ("PS: wie die Stadt …") has lower-case words or punctuation.
_OFFICE_STEMS = (
    *("amt", "buero", "referat", "fachbereich", "fachdienst", "abteilung", "sachgebiet"),
    *("dezernat", "dezernent", "beauftragt", "beigeordnet", "kaemmer", "leiter", "leitung"),
    *("sprecher", "rathaus", "stabsstelle"),
)
_OFFICE_JOINERS = frozenset({"für", "und", "der", "des", "&", "-"})
_MAX_OFFICE_WORDS = 8
_SENTENCE_MARK = re.compile(r"[:;!?]")
_GREETING = re.compile(r"gruess|gruss|regards|dank")
_WORDS = re.compile(r"[a-z0-9]+")
# Words that name a role; checked against the folded text, in this order.
ROLE_WORDS = (
    ("district_admin", ("landrat", "landraetin", "landratin")),
    ("mayor", ("buergermeister", "burgermeister", "oberbuergermeister", "ortsvorsteher")),
    ("municipal_staff", ("verwaltung", "mitarbeit", "sachbearbeit", "referent", "amtsleit")),
    ("volunteer", ("ehrenamt", "freiwillig", "buergerverein", "verein")),
)


@dataclass(frozen=True)
class Hints:
    name: str | None = None
    municipality: Municipality | None = None
    role: str | None = None


def hints_for(index: MunicipalityIndex, address: str, display_name: str, signature: str) -> Hints:
    """The proposals for a stranger's registration form (each may be None)."""
    lines = [line.strip() for line in signature.splitlines() if line.strip()]
    return Hints(
        name=person_name(display_name) or _name_in_signature(lines),
        municipality=_town_in_signature(index, lines) or town_of_domain(index, address),
        role=role_in(" ".join(lines[1:5])) if lines else None,
    )


def person_name(text: str) -> str | None:
    """A display name that is a person's name ("Eva Roth", "Roth, Eva"), else None."""
    text = " ".join(text.replace('"', " ").split())
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first.strip()} {last.strip()}"
    words = text.split()
    while words and words[0].lower() in _TITLES:
        words = words[1:]
    if not 2 <= len(words) <= 5 or "@" in text:
        return None
    if not all(_NAME_WORD.match(w) for w in words) or not _NAME_WORD.match(words[-1]):
        return None
    if words[-1] in ("von", "van", "de", "zu", "der", "den"):
        return None
    if any(fold(w) in _DESIGNATIONS or role_in(w) or _GREETING.search(fold(w)) for w in words):
        return None  # "Stadt Templin", "Bürgermeisterin Roth", "Viele Grüße"
    return " ".join(words)


def _name_in_signature(lines: list[str]) -> str | None:
    """The first line of the signature after the sign-off, when it is a person's name."""
    for line in lines[:3]:
        name = person_name(line)
        if name:
            return name
    return None


def role_in(text: str) -> str | None:
    """The role that words in ``text`` name ("Bürgermeisterin", "Ehrenamt"), else None."""
    folded = fold(text)
    for role, stems in ROLE_WORDS:
        if any(stem in folded for stem in stems):
            return role
    return None


def _town_in_signature(index: MunicipalityIndex, lines: list[str]) -> Municipality | None:
    for line in lines:
        match = _POSTCODE_TOWN.search(line)
        if match:
            found = _postcode_town(index, match.group(1), match.group(2))
            if found:
                return found
    for line in lines:
        # Every designation in the line: in "Amt für Wirtschaft der Stadt Templin" the first
        # one names an office, the second the municipality.
        for designation in _DESIGNATION.finditer(line):
            name = _DESIGNATED_NAME.match(line, designation.end())
            if not name or not _is_office(line[: designation.start()]):
                continue
            named = line[designation.start() :].partition(",")[0]
            found = exact_town(index, named) or exact_town(index, name.group(1))
            if found:
                return found
    return None


def _is_office(prefix: str) -> bool:
    """Whether the text before a designation leaves it a signature line.

    Nothing ("Stadt Templin") or an office that ends in "der"/"des" ("Bürgermeisterin der",
    "Amt für Wirtschaft der"), never a sentence ("PS: wie die Stadt Templin").
    """
    words = prefix.split()
    if not words:
        return True
    if len(words) > _MAX_OFFICE_WORDS or words[-1].lower() not in ("der", "des"):
        return False
    if any(not (w[0].isupper() or w.lower() in _OFFICE_JOINERS) for w in words[:-1]):
        return False
    if _SENTENCE_MARK.search(prefix):
        return False
    folded = fold(prefix)
    return role_in(prefix) is not None or any(stem in folded for stem in _OFFICE_STEMS)


def _postcode_town(index: MunicipalityIndex, postcode: str, town: str) -> Municipality | None:
    """The municipality of a postcode whose name the town after it starts with."""
    hits = [m for m in index.search(postcode, limit=20) if postcode in m.postcodes]
    wanted = _phrase(town)
    named = [m for m in hits if wanted.startswith(_phrase(m.short_name))]
    if len(named) == 1:
        return named[0]
    return hits[0] if len(hits) == 1 else None


def town_of_domain(index: MunicipalityIndex, address: str) -> Municipality | None:
    """The municipality a domain such as "templin.de" or "stadt-templin.de" names."""
    domain = address.rpartition("@")[2].lower()
    labels = domain.split(".")[:-1]  # without the top-level domain
    for label in reversed(labels):
        if label in FREEMAIL:
            return None
        words = label.replace("_", "-").split("-")
        if len(words) > 1 and words[0] in ("kreis", "landkreis"):
            found = exact_town(index, " ".join(words))  # "kreis-dueren": the Kreis
            if found:
                return found
        while len(words) > 1 and words[0] in _DESIGNATIONS:
            words = words[1:]
        if words and words[0] not in _DESIGNATIONS:
            return exact_town(index, " ".join(words))
    return None


def exact_town(index: MunicipalityIndex, query: str) -> Municipality | None:
    """The largest municipality whose name is exactly ``query`` (no prefix guesses)."""
    wanted = _phrase(query)
    if len(wanted) < 3:
        return None
    for hit in index.search(query, limit=5):
        names = {_phrase(hit.name), _phrase(hit.short_name)}
        if wanted in names:
            return hit
    return None


_NON_LETTERS = re.compile(r"[^a-z ]+")


def fold(text: str) -> str:
    return fold_variants(text)[0]


def folded_letters(text: str) -> str:
    """Only the letters of the folded text, single-spaced: "Ja, gern!" -> "ja gern"."""
    return " ".join(_NON_LETTERS.sub(" ", fold(text)).split())


def _phrase(text: str) -> str:
    return " ".join(_WORDS.findall(fold(text)))
