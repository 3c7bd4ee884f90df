"""How an analysed post becomes index terms (documents) and weighted query terms.

Word stems and compound parts share one term space, so the part "mobilitat" of
"Seniorenmobilität" meets the word "Mobilität". Thesaurus groups are separate terms ("#7").
Exact words weigh most; compound parts and thesaurus groups are expansions and weigh less.
"""

from __future__ import annotations

from core.matching.analysis import Analysis

CONCEPT_PREFIX = "#"

# Document side: a compound part counts as half an occurrence of the word.
PART_DOC_TF = 0.5
# Query side: weight of a term by how the query contains it.
WORD_WEIGHT = 1.0
PART_WEIGHT = 0.5
CONCEPT_WEIGHT = 0.8
# Saturation of repeated query terms (BM25's k3): a word said twice matters a bit more.
QUERY_K3 = 1.2


def concept_term(group_id: int) -> str:
    return f"{CONCEPT_PREFIX}{group_id}"


def concept_id(term: str) -> int | None:
    return int(term[1:]) if term.startswith(CONCEPT_PREFIX) else None


def document_terms(analysis: Analysis) -> dict[str, float]:
    terms: dict[str, float] = dict(analysis.words)
    for part, count in analysis.parts.items():
        terms[part] = terms.get(part, 0.0) + PART_DOC_TF * count
    for group_id, count in analysis.concepts.items():
        terms[concept_term(group_id)] = float(count)
    return terms


def coverage_words(analysis: Analysis) -> dict[str, int]:
    """The words whose coverage counts (coverage.py), with their weighted counts.

    German writes nouns with a capital, and the nouns carry what a post is about; verbs and
    adjectives ("möchten", "aufstellen", "ältere") frame it. A post written without any
    capitals has all its words counted."""
    words = analysis.words
    chosen = [w for w in words if w in analysis.nouns] or list(words)
    return {word: round(words[word]) for word in chosen}


def query_terms(analysis: Analysis) -> dict[str, float]:
    terms: dict[str, float] = {}
    for part, count in analysis.parts.items():
        terms[part] = PART_WEIGHT * _saturate(count)
    for word, count in analysis.words.items():
        terms[word] = max(terms.get(word, 0.0), WORD_WEIGHT * _saturate(count))
    for group_id, count in analysis.concepts.items():
        terms[concept_term(group_id)] = CONCEPT_WEIGHT * _saturate(count)
    return terms


def _saturate(count: float) -> float:
    return (QUERY_K3 + 1.0) * count / (QUERY_K3 + count)
