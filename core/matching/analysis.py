"""Turns a post's text into weighted index terms: word stems, compound parts and concepts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.matching.compounds import CompoundSplitter, load_lexicon
from core.matching.normalize import surface_tokens, tokenize
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
    words: Counter[str] = field(default_factory=Counter)  # stem -> weighted count
    parts: Counter[str] = field(default_factory=Counter)  # compound-part stem -> weighted count
    concepts: Counter[int] = field(default_factory=Counter)  # thesaurus group -> weighted count
    length: float = 0.0  # weighted number of content words
    surfaces: dict[str, str] = field(default_factory=dict)  # stem -> shortest written form


class Analyzer:
    def __init__(self, groups: Sequence[ConceptGroup]) -> None:
        lexicon = load_lexicon(LEXICON_PATH) + member_words(groups)
        self.splitter = CompoundSplitter(lexicon, stem)
        self.concepts = ConceptMatcher(groups, self.phrase_stems)
        self._token_info = lru_cache(maxsize=500_000)(self._analyze_token)

    def phrase_stems(self, phrase: str) -> tuple[str, ...]:
        return tuple(stem(t) for t in tokenize(phrase) if t not in STOP_WORDS)

    def analyze(self, title: str, body: str, topics: Iterable[str] = ()) -> Analysis:
        result = Analysis()
        self._add_field(result, title, TITLE_WEIGHT)
        self._add_field(result, body, BODY_WEIGHT)
        for topic in topics:
            self._add_field(result, topic, TOPIC_WEIGHT)
        return result

    def _analyze_token(self, token: str) -> tuple[str, tuple[str, ...]] | None:
        """Stem and compound-part stems of a folded token; None for a stop word."""
        if token in STOP_WORDS:
            return None
        word_stem = stem(token)
        if len(word_stem) < 2:
            return None
        return word_stem, tuple(p for p in self.splitter.split(token) if p != word_stem)

    def _add_field(self, result: Analysis, text: str, weight: float) -> None:
        stems: list[str] = []
        parts_per_word: list[tuple[str, ...]] = []
        for token, written in surface_tokens(text):
            info = self._token_info(token)
            if info is None:
                continue
            word_stem, parts = info
            stems.append(word_stem)
            parts_per_word.append(parts)
            result.words[word_stem] += weight
            for part in parts:
                result.parts[part] += weight
            if result.surfaces.get(word_stem) != written:
                _remember_surface(result.surfaces, word_stem, written)
        result.length += weight * len(stems)
        for group_id, count in self.concepts.find(stems, parts_per_word).items():
            result.concepts[group_id] += weight * count


def _remember_surface(surfaces: dict[str, str], word_stem: str, written: str) -> None:
    """Keep the shortest written form (usually the base form); on equal length prefer a
    lower-case one, because a capital may only stem from the start of a sentence."""
    known = surfaces.get(word_stem)
    if known is None or (len(written), written[:1].isupper()) < (len(known), known[:1].isupper()):
        surfaces[word_stem] = written


def merge_surfaces(into: dict[str, str], new: dict[str, str]) -> None:
    for word_stem, written in new.items():
        _remember_surface(into, word_stem, written)
