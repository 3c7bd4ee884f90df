"""Loading of a labelled matching set (format in benchmarks/README.md) and ranking metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.matching import PostDoc

DATA = Path(__file__).resolve().parent / "data"
# The tuning part (weights and bars are chosen on it) and the frozen test part (never tuned
# on; written and committed before the tuning).
DEFAULT_GOLD = DATA / "matching_gold.jsonl"
FROZEN_TEST = DATA / "matching_test.jsonl"
# A second frozen part, written later by someone who read neither the engine nor the other
# parts (only the file format), like the set the matching issue was measured on; committed
# before anything was run on it and never tuned on.
INDEPENDENT_TEST = DATA / "matching_independent.jsonl"
# A third frozen part, written the same way after the change of sentence encoder and of the
# minimum list, and committed before anything was run on it.
FRESH_TEST = DATA / "matching_fresh.jsonl"
# A fourth part, written the same way on 7 December 2026 by an author who read neither the
# engine nor the other parts; the held-out part until the fifth was committed.
FOURTH_PART = DATA / "matching_heldout.jsonl"
# The fifth, written the same way on 7 December 2026 by a fifth author, and committed
# (e03e429) before anything ran on it: the held-out part.
HELDOUT_TEST = DATA / "matching_heldout2.jsonl"
# Two parts written for fitting on the same day by two more authors, in the same way (the
# format and a description of the network only), while the fifth part was being written.
TRAINING_A = DATA / "matching_train_a.jsonl"
TRAINING_B = DATA / "matching_train_b.jsonl"
# The development sets: the tuning part, the four earlier test parts (each seen by earlier
# versions) and the two training parts. The request adapter is fitted on their judged pairs,
# the fusion and the bars are chosen on them (request_adapter.py).
DEV_PARTS = (
    DEFAULT_GOLD,
    FROZEN_TEST,
    INDEPENDENT_TEST,
    FRESH_TEST,
    FOURTH_PART,
    TRAINING_A,
    TRAINING_B,
)
# The same grouped by author: the tuning part and the first test part were written together.
DEV_AUTHORS = (
    (DEFAULT_GOLD, FROZEN_TEST),
    (INDEPENDENT_TEST,),
    (FRESH_TEST,),
    (FOURTH_PART,),
    (TRAINING_A,),
    (TRAINING_B,),
)
# Never tuned or fitted on.
FROZEN_PARTS = (HELDOUT_TEST,)


@dataclass
class GoldSet:
    posts: dict[int, PostDoc] = field(default_factory=dict)
    # request id -> offer id -> grade (1..3); unjudged pairs count as 0
    judgments: dict[int, dict[int, int]] = field(default_factory=dict)

    @property
    def offers(self) -> list[PostDoc]:
        return [p for p in self.posts.values() if p.kind == "offer"]

    @property
    def requests(self) -> list[PostDoc]:
        return [p for p in self.posts.values() if p.kind == "request"]

    @property
    def judged_requests(self) -> list[PostDoc]:
        return [self.posts[r] for r in sorted(self.judgments)]

    @property
    def empty_requests(self) -> list[PostDoc]:
        """Requests without any judgment: nothing in the set fits them."""
        return [p for p in self.requests if p.id not in self.judgments]


def load_gold(*paths: Path) -> GoldSet:
    """Read posts and judgments from one or more JSON-lines files (any mix of both)."""
    gold = GoldSet()
    for path in paths or (DEFAULT_GOLD,):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "grade" in row:
                gold.judgments.setdefault(int(row["request"]), {})[int(row["offer"])] = int(
                    row["grade"]
                )
            elif "kind" in row:
                gold.posts[int(row["id"])] = PostDoc(
                    id=int(row["id"]),
                    kind=row["kind"],
                    title=row.get("title", ""),
                    body=row.get("body", ""),
                    topics=tuple(row.get("topics", ())),
                )
            else:
                raise ValueError(f"{path}:{number}: neither a post nor a judgment")
    return gold


def ndcg_at(ranked: Sequence[int], grades: dict[int, int], k: int = 10) -> float:
    def dcg(gains: Sequence[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(d, 0) for d in ranked]) / ideal if ideal else 0.0


def recall_at(ranked: Sequence[int], grades: dict[int, int], k: int = 5) -> float:
    relevant = {d for d, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[int], grades: dict[int, int]) -> float:
    for i, d in enumerate(ranked):
        if grades.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class Figures:
    ndcg10: float
    recall5: float
    mrr: float


def evaluate(gold: GoldSet, rank: Callable[[PostDoc], list[int]]) -> Figures:
    rows = []
    for request in gold.judged_requests:
        ranked = rank(request)
        grades = gold.judgments[request.id]
        rows.append(
            (ndcg_at(ranked, grades), recall_at(ranked, grades), reciprocal_rank(ranked, grades))
        )
    n = len(rows) or 1
    return Figures(*(sum(r[i] for r in rows) / n for i in range(3)))
