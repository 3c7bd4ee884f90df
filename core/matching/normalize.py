"""Character-level folding and tokenisation of German text.

Folding makes "Mitfahrbänke", "Mitfahrbaenke" and "MITFAHRBÄNKE" identical before stemming:
lower case, ß -> ss, umlauts and their ae/oe/ue transliterations -> base vowel, accents removed.
Both sides of a comparison go through the same function, so an occasional false
transliteration (e.g. "zuerst") is harmless: it is folded the same way everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "ẞ": "ss"})

# ae/oe/ue written for ä/ö/ü. Not after a vowel ("Feuer", "Bauer", "neue") or q ("Quelle"),
# and not in the frequent loan-word ending "-uell" ("aktuell", "individuell").
_DIGRAPHS = re.compile(r"(?<![aeiouq])([aou])e(?!ll)")

# Gender-fair suffixes ("Bürger:innen", "Ärzt*innen", "BürgerInnen") are dropped so the
# remaining stem matches the plain form.
_GENDER_SEPARATED = re.compile(r"[:*_·/](?:innen|in)\b", re.IGNORECASE)
_GENDER_CAMEL = re.compile(r"(?<=[a-zäöüß])In(?:nen)?\b")

_TOKEN = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, umlaut- and accent-insensitive form of `text` (keeps punctuation)."""
    text = unicodedata.normalize("NFC", text)
    text = _GENDER_CAMEL.sub("", text)
    text = _GENDER_SEPARATED.sub("", text)
    text = text.lower().translate(_UMLAUTS)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return _DIGRAPHS.sub(r"\1", text)


@lru_cache(maxsize=500_000)
def fold_word(word: str) -> str:
    """Fold a single word; cached, because a corpus repeats its vocabulary endlessly."""
    return fold(word)


def tokenize(text: str) -> list[str]:
    """Folded word tokens. Hyphenated words ("Bürgerbus-Konzept") yield their parts;
    pure numbers and one-letter tokens carry no topic and are dropped."""
    return [t for t in _TOKEN.findall(fold(text)) if len(t) > 1 and not t.isdigit()]


_WORD = re.compile(r"[^\W_]+")


def written_words(text: str) -> list[str]:
    """Words as written, after the gender-fair suffixes are dropped."""
    text = unicodedata.normalize("NFC", text)
    if "In" in text:  # the regular expression is slow; most texts have no capital "In"
        text = _GENDER_CAMEL.sub("", text)
    return _WORD.findall(_GENDER_SEPARATED.sub("", text))


def word_tokens(written: str) -> tuple[str, ...]:
    """Folded tokens of one written word (the analyzer caches its result per word)."""
    return tuple(t for t in _TOKEN.findall(fold_word(written)) if len(t) > 1 and not t.isdigit())
