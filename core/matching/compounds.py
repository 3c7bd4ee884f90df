"""Splitting of German compounds into known parts.

"Seniorenmobilität" -> ("senior", "mobilitat"), "Mitfahrbänke" -> ("mitfahr", "bank").

Method: dynamic programming over the folded word. Every part must be a lexicon word or the
stem of one; between parts a linking element (Fugenelement) may stand; the last part (the
head) may carry an inflection, so it is accepted when its stem is a known stem. Among all
splits the one with the fewest parts wins and, on a tie, the one with the longest leading
part. Parts shorter than MIN_PART letters are never used, which keeps "Beratung" from
becoming "be" + "ratung". The lexicon is core/data/lexicon.de.txt plus the thesaurus words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from core.matching.normalize import fold_word

MIN_PART = 3
LINKING_ELEMENTS = ("", "s", "n", "en", "er", "e", "es", "ns")


def load_lexicon(path: Path) -> list[str]:
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words.extend(line.split("#", 1)[0].split())
    return words


class CompoundSplitter:
    def __init__(self, words: Iterable[str], stem: Callable[[str], str]) -> None:
        self._stem = stem
        self._forms = {f for f in (fold_word(w) for w in words) if len(f) >= MIN_PART}
        self._stems = {s for s in (stem(f) for f in self._forms) if len(s) >= MIN_PART}
        self.split = lru_cache(maxsize=200_000)(self._split)
        # For words seen once (e.g. index terms, each expanded on creation): no cache entry.
        self.split_uncached = self._split

    def _is_modifier(self, part: str) -> bool:
        return part in self._forms or part in self._stems

    def _is_head(self, part: str) -> bool:
        return len(part) >= MIN_PART and (part in self._forms or self._stem(part) in self._stems)

    def _split(self, word: str) -> tuple[str, ...]:
        """Stems of the parts of `word` (folded), or () when it is not a known compound."""
        if len(word) < 2 * MIN_PART:
            return ()
        memo: dict[int, tuple[str, ...] | None] = {}
        parts = self._split_from(word, 0, memo, whole_allowed=False)
        if not parts:
            return ()
        return tuple(self._stem(p) for p in parts)

    def _split_from(
        self, word: str, start: int, memo: dict[int, tuple[str, ...] | None], whole_allowed: bool
    ) -> tuple[str, ...] | None:
        if whole_allowed and start in memo:
            return memo[start]
        best: tuple[str, ...] | None = None
        if whole_allowed and self._is_head(word[start:]):
            best = (word[start:],)
        else:
            # Longest leading part first, so ties on the part count keep it.
            for end in range(len(word) - MIN_PART, start + MIN_PART - 1, -1):
                part = word[start:end]
                if not self._is_modifier(part):
                    continue
                for link in LINKING_ELEMENTS:
                    nxt = end + len(link)
                    if not word.startswith(link, end) or len(word) - nxt < MIN_PART:
                        continue
                    tail = self._split_from(word, nxt, memo, whole_allowed=True)
                    if tail is not None and (best is None or len(tail) + 1 < len(best)):
                        best = (part, *tail)
        if whole_allowed:
            memo[start] = best
        return best
