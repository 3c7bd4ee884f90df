"""Turns a post's text into weighted index terms: word stems, compound parts and concepts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from core.matching.compounds import CompoundSplitter, load_lexicon
from core.matching.normalize import tokenize, word_tokens, written_words
from core.matching.stemming import stem
from core.matching.stopwords import STOP_WORDS
from core.matching.thesaurus import ConceptGroup, ConceptMatcher, member_words

LEXICON_PATH = Path(__file__).resolve().parent.parent / "data" / "lexicon.de.txt"

# Titles and topics state what a post is about in few words; the body also carries greetings,
# context and details. Counting title and topic words twice is a cheap field weighting.
TITLE_WEIGHT = 2.0
TOPIC_WEIGHT = 2.0
BODY_WEIGHT = 1.0


@dataclass
class Analysis:
    words: dict[str, float] = field(default_factory=dict)  # stem -> weighted count
    parts: dict[str, float] = field(default_factory=dict)  # compound-part stem -> weighted count
    concepts: dict[int, float] = field(default_factory=dict)  # thesaurus group -> weighted count
    length: float = 0.0  # weighted number of content words
    nouns: set[str] = field(default_factory=set)  # stems written with a capital at least once


@dataclass(frozen=True, slots=True)
class Token:
    """What one folded token contributes: its stem, compound parts and thesaurus groups."""

    stem: str
    parts: tuple[str, ...]
    groups: frozenset[int]


class WordInfo(NamedTuple):
    """What one written word contributes, flattened over its tokens (a hyphenated word has
    several): their stems, compound parts and thesaurus groups, and the stems again if the
    word is capitalised (a noun, in German)."""

    stems: tuple[str, ...]
    parts: tuple[str, ...]
    groups: tuple[frozenset[int], ...]
    nouns: tuple[str, ...]


class Analyzer:
    def __init__(self, groups: Sequence[ConceptGroup]) -> None:
        lexicon = load_lexicon(LEXICON_PATH) + member_words(groups)
        self.splitter = CompoundSplitter(lexicon, stem)
        self.concepts = ConceptMatcher(groups, self.phrase_stems)
        # A corpus repeats its words endlessly: everything that depends on a written word
        # alone (folding, stemming, compound splitting, thesaurus lookup) is done once.
        self._token_info = lru_cache(maxsize=500_000)(self._analyze_token)
        self._word_info = lru_cache(maxsize=500_000)(self._analyze_word)
        # Stem -> shortest written form seen in any analysed text, for match reasons.
        # Filled once per distinct written word, when it first passes _analyze_word.
        self.surfaces: dict[str, str] = {}
        self._first_token: dict[str, Token] = {}

    def phrase_stems(self, phrase: str) -> tuple[str, ...]:
        return tuple(stem(t) for t in tokenize(phrase) if t not in STOP_WORDS)

    def analyze(self, title: str, body: str, topics: Iterable[str] = ()) -> Analysis:
        result = Analysis()
        self._add_field(result, title, TITLE_WEIGHT)
        self._add_field(result, body, BODY_WEIGHT)
        for topic in topics:
            self._add_field(result, topic, TOPIC_WEIGHT)
        return result

    def expansion(self, word_stem: str) -> tuple[tuple[str, ...], frozenset[int]]:
        """Compound parts and thesaurus groups of a word stem, for word coverage: as found
        for the first word analysed with this stem, else by splitting the stem itself."""
        token = self._first_token.get(word_stem)
        if token is not None:
            return token.parts, token.groups
        parts = tuple(p for p in self.splitter.split_uncached(word_stem) if p != word_stem)
        return parts, self.concepts.word_groups(word_stem, parts)

    def _analyze_token(self, token: str) -> Token | None:
        """Stem, compound-part stems and groups of a folded token; None for a stop word."""
        if token in STOP_WORDS:
            return None
        word_stem = stem(token)
        if len(word_stem) < 2:
            return None
        parts = tuple(p for p in self.splitter.split(token) if p != word_stem)
        info = Token(word_stem, parts, self.concepts.word_groups(word_stem, parts))
        self._first_token.setdefault(word_stem, info)
        return info

    def _analyze_word(self, written: str) -> WordInfo:
        infos = (self._token_info(t) for t in word_tokens(written))
        tokens = [info for info in infos if info is not None]
        for token in tokens:
            if self.surfaces.setdefault(token.stem, written) != written:
                _remember_surface(self.surfaces, token.stem, written)
        stems = tuple(t.stem for t in tokens)
        return WordInfo(
            stems,
            tuple(p for t in tokens for p in t.parts),
            tuple(t.groups for t in tokens),
            stems if written[0].isupper() else (),
        )

    def remember_surface(self, word_stem: str, written: str) -> None:
        """A written form of a stem seen in a text that is not analysed here (a stored
        post's terms, stored_terms.py)."""
        _remember_surface(self.surfaces, word_stem, written)

    def _add_field(self, result: Analysis, text: str, weight: float) -> None:
        infos = list(map(self._word_info, written_words(text)))
        stems = list(chain.from_iterable(map(_STEMS, infos)))
        result.length += weight * len(stems)
        result.nouns.update(chain.from_iterable(map(_NOUNS, infos)))
        # Counting runs in C (Counter over attribute getters); Python loops only over the
        # distinct stems of the field.
        _add_weighted(result.words, Counter(stems), weight)
        _add_weighted(result.parts, Counter(chain.from_iterable(map(_PARTS, infos))), weight)
        groups = list(chain.from_iterable(map(_GROUPS, infos)))
        _add_weighted(result.concepts, self.concepts.find(stems, groups), weight)


def _add_weighted(into: dict, counts: Counter, weight: float) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0.0) + weight * count


_STEMS = attrgetter("stems")
_NOUNS = attrgetter("nouns")
_PARTS = attrgetter("parts")
_GROUPS = attrgetter("groups")


def _remember_surface(surfaces: dict[str, str], word_stem: str, written: str) -> None:
    """Keep the shortest written form (usually the base form); on equal length prefer a
    lower-case one, because a capital may only stem from the start of a sentence."""
    known = surfaces.get(word_stem)
    if known is None or (len(written), written[:1].isupper()) < (len(known), known[:1].isupper()):
        surfaces[word_stem] = written
