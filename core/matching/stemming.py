"""Snowball German stemming (PyStemmer) with two small corrections for the exchange's words."""

from __future__ import annotations

from functools import lru_cache

import Stemmer

_snowball = Stemmer.Stemmer("german")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem of one folded word.

    Snowball leaves loan-word plurals in -s after a vowel untouched ("Kitas", "Autos") and
    keeps a doubled s that the singular lacks ("Busse" -> "buss" but "Bus" -> "bus");
    both are evened out here so singular and plural meet.
    """
    if len(word) >= 4 and word.endswith(("as", "os")):
        word = word[:-1]
    word = _strip_feminine(word)
    result = _snowball.stemWord(word)
    if len(result) > 3 and result.endswith("ss"):
        result = result[:-1]
    return result


def _strip_feminine(word: str) -> str:
    """ "Bürgermeisterin", "Ärztinnen", "Kolleginnen" -> the form that the masculine and the
    gender-neutral plural stem to. Limited to the endings where "-in(nen)" is a suffix rather
    than part of the word ("beginnen", "Medizin" stay as they are)."""
    if len(word) >= 9 and word.endswith(("rinnen", "tinnen", "ginnen")):
        return word[:-5]
    if len(word) >= 7 and word.endswith(("erin", "orin")):
        return word[:-2]
    return word
