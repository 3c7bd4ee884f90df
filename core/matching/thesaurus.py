"""The field's thesaurus: groups of words and phrases that mean the same topic.

Loaded from a plain text file that staff can extend (format described at the top of
core/data/thesaurus.de.txt). Members are analysed with the same stemming and folding as the
posts, so matching happens on stems: a single-word member matches a word of a post or a part
of one of its compounds; a phrase matches consecutive words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

# Shared by the many words outside the thesaurus (an empty frozenset is not a singleton).
NO_GROUPS: frozenset[int] = frozenset()

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "thesaurus.de.txt"


@dataclass(frozen=True)
class ConceptGroup:
    id: int
    label: str  # German topic name for match reasons
    members: tuple[str, ...]  # as written in the file


def parse_thesaurus(text: str) -> list[ConceptGroup]:
    groups: list[ConceptGroup] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, rest = line.partition("=")
        if not sep or not label.strip():
            raise ValueError(f"thesaurus line {number}: expected 'Label = member, member, ...'")
        members = [m.strip() for m in rest.split(",") if m.strip()]
        groups.append(ConceptGroup(len(groups), label.strip(), (label.strip(), *members)))
    return groups


def load_thesaurus(path: str | Path | None = None) -> list[ConceptGroup]:
    return parse_thesaurus(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))


def member_words(groups: Iterable[ConceptGroup]) -> list[str]:
    """Every word used in the thesaurus, for the compound splitter's lexicon."""
    return [w for g in groups for m in g.members for w in m.replace("-", " ").split()]


class ConceptMatcher:
    """Finds thesaurus groups in a post, given its stems and compound parts."""

    def __init__(
        self, groups: Sequence[ConceptGroup], phrase_stems: Callable[[str], tuple[str, ...]]
    ) -> None:
        self.groups = list(groups)
        self._single: dict[str, set[int]] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for group in self.groups:
            for member in group.members:
                stems = phrase_stems(member)
                if len(stems) == 1:
                    self._single.setdefault(stems[0], set()).add(group.id)
                elif stems:
                    self._phrases.setdefault(stems[0], []).append((stems, group.id))

    def label(self, group_id: int) -> str:
        return self.groups[group_id].label

    def groups_of_stem(self, stem: str) -> set[int]:
        return self._single.get(stem, set())

    def word_groups(self, stem: str, parts: Iterable[str] = ()) -> frozenset[int]:
        """Groups a single word belongs to, through itself or one of its compound parts."""
        hit = set(self._single.get(stem, ()))
        for part in parts:
            hit.update(self._single.get(part, ()))
        return frozenset(hit) if hit else NO_GROUPS

    def find(self, stems: Sequence[str], word_groups: Sequence[frozenset[int]]) -> Counter[int]:
        """Occurrences of each group among word stems in text order; `word_groups[i]` are
        the groups of word i on its own (see `word_groups`). A word counts at most once per
        group, whether the group is found in the word, one of its parts, or a phrase
        starting at it."""
        found = Counter(chain.from_iterable(word_groups))
        starts = self._phrases.keys() & set(stems)
        if not starts:  # the common case: no phrase member can begin anywhere in the text
            return found
        for i, stem in enumerate(stems):
            if stem not in starts:
                continue
            hits = {
                g
                for phrase, g in self._phrases[stem]
                if tuple(stems[i : i + len(phrase)]) == phrase
            }
            found.update(hits - word_groups[i])
        return found
