"""A post's analysed text in a compact form that can be stored beside the post.

Analysing a post (analysis.py) costs about a millisecond of CPU; at 100,000 posts a start
that analysed every post took minutes. The analysis is a pure function of the text and of
the analyser (its code version, lexicon, thesaurus and stop words), so it is stored once per
text with the analyser's fingerprint and read back at start; a changed text or analyser is
analysed again.

What is kept is exactly what the index takes from an analysis: the index terms (space
separated; terms never contain a space) with their term frequencies as BM25 stores them
(half steps, one byte each), each term's word count for word coverage (one byte), the
weighted length, and for each word its written form (for match reasons) and its compound
parts and thesaurus groups as the analyser found them (coverage.py needs them once per
distinct word; finding them again would mean analysing every distinct word at start).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.matching import analysis, terms
from core.matching.bm25_index import TF_SCALE, mark_byte, tf_steps
from core.matching.stopwords import STOP_WORDS
from core.matching.thesaurus import ConceptGroup

# Raise when the analyser's code changes what it produces for the same text.
ANALYSIS_VERSION = 1


@dataclass(frozen=True, slots=True)
class StoredTerms:
    analysis: str  # fingerprint of the analyser that produced the terms
    terms: str  # index terms, space separated
    tfs: bytes  # per term: its term frequency x TF_SCALE, one byte
    marks: bytes  # per term: its weighted word count for coverage (0 = not a coverage word)
    length: float  # weighted number of content words
    # Per term, space separated: NOT_A_WORD, or the word's written form, parts and groups
    # as "Form/part,part/group,group" (parts and groups may be empty).
    expansions: str


class StoredRow(Protocol):
    """StoredTerms' fields, as a StoredTerms or as a row read from the database."""

    @property
    def analysis(self) -> str: ...
    @property
    def terms(self) -> str: ...
    @property
    def tfs(self) -> bytes: ...
    @property
    def marks(self) -> bytes: ...
    @property
    def length(self) -> float: ...
    @property
    def expansions(self) -> str: ...


def term_list(stored: StoredRow) -> list[str] | None:
    """The terms, or None when the row is damaged (lengths do not agree)."""
    names = stored.terms.split()
    if len(names) != len(stored.tfs) or len(names) != len(stored.marks):
        return None
    return names


def expansion_list(stored: StoredRow, count: int) -> list[str] | None:
    entries = stored.expansions.split()
    return entries if len(entries) == count else None


NOT_A_WORD = "-"
Expansion = tuple[tuple[str, ...], frozenset[int]]


def encode_word(surface: str, expansion: Expansion) -> str:
    parts, groups = expansion
    return f"{surface}/{','.join(parts)}/{','.join(map(str, sorted(groups)))}"


def decode_word(entry: str) -> tuple[str, Expansion] | None:
    """A word's written form, parts and groups; None for a term that is not a word (or a
    damaged entry)."""
    surface, parts, groups = (*entry.split("/", 2), "", "")[:3]
    if not surface or entry.count("/") != 2:
        return None
    try:
        found = frozenset(int(g) for g in groups.split(",") if g)
    except ValueError:
        return None
    return surface, (tuple(p for p in parts.split(",") if p), found)


def analyser_fingerprint(groups: list[ConceptGroup], lexicon: Path) -> str:
    """Changes whenever the analysis of some text could change."""
    digest = hashlib.sha256()
    for part in (
        f"v{ANALYSIS_VERSION}",
        repr(
            (
                analysis.TITLE_WEIGHT,
                analysis.BODY_WEIGHT,
                analysis.TOPIC_WEIGHT,
                terms.PART_DOC_TF,
                TF_SCALE,
            )
        ),
        repr([(g.id, g.label, g.members) for g in groups]),
        " ".join(sorted(STOP_WORDS)),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    digest.update(lexicon.read_bytes())
    return digest.hexdigest()[:16]


def encode_terms(
    fingerprint: str,
    doc_terms: dict[str, float],
    length: float,
    marks: dict[str, int],
    words: dict[str, str],
) -> StoredTerms:
    """`words`: each word term's entry (encode_word); other terms are not words."""
    names = list(doc_terms)
    return StoredTerms(
        analysis=fingerprint,
        terms=" ".join(names),
        tfs=bytes(map(tf_steps, doc_terms.values())),
        marks=bytes(mark_byte(marks.get(n, 0)) for n in names),
        length=float(length),
        expansions=" ".join(words.get(n, NOT_A_WORD) for n in names),
    )
