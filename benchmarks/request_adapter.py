"""The request adapter (core/matching/semantic.py, in_matching_space): fitting it, and
measuring it on sets by authors it was not fitted on.

    .venv/bin/python benchmarks/request_adapter.py

Leave one author out: for each of the four development sets (benchmarks/gold.py, DEV_PARTS;
each written by another author), the adapter is fitted on the other three and the engine
with it is measured on the one left out, beside the engine without an adapter; for each
ridge strength in RIDGES. The strength with the best mean nDCG@10 of what members see over
the left-out sets is the one scripts/build_request_adapter.py uses (RIDGE). The held-out
part (HELDOUT_TEST) is never read.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold import DEV_PARTS, GoldSet, load_gold, ndcg_at
from benchmarks.matching_eval import (
    candidate_lists,
    member_figures,
    shown_for,
    signals,
    with_vectors,
)
from core.matching.engine import SEMANTIC
from core.matching.semantic import DIM, SCALE, Encoder, kind_centred, use_request_adapter

RIDGES = (0.3, 1.0, 3.0, 10.0)
# Chosen by the leave-one-author-out runs of this file (benchmarks/README.md).
RIDGE = 1.0


def encoded_parts(encoder: Encoder) -> list[GoldSet]:
    return [with_vectors(load_gold(path), encoder) for path in DEV_PARTS]


def fit(parts: list[GoldSet], ridge: float = RIDGE) -> np.ndarray:
    """W minimising sum of grade * |r W - o|^2 + ridge * |W - I|^2 over the judged pairs,
    r and o the kind-centred unit vectors of request and offer: a map that stays near the
    identity where the pairs say little."""
    requests, offers, grades = [], [], []
    for gold in parts:
        for request_id, judged in gold.judgments.items():
            for offer_id, grade in judged.items():
                requests.append(gold.posts[request_id].vector)
                offers.append(gold.posts[offer_id].vector)
                grades.append(grade)
    x = kind_centred(np.stack(requests), ["request"] * len(requests)).astype(np.float32) / SCALE
    y = kind_centred(np.stack(offers), ["offer"] * len(offers)).astype(np.float32) / SCALE
    weighted = x * np.asarray(grades, dtype=np.float32)[:, None]
    identity = np.eye(DIM, dtype=np.float32)
    return np.linalg.solve(weighted.T @ x + ridge * identity, weighted.T @ y + ridge * identity)


def figures(gold: GoldSet) -> tuple[float, float]:
    """nDCG@10 of what members see (SEMANTIC's bars) and of the ranking without a bar."""
    lists = candidate_lists(
        signals(gold), replace(SEMANTIC, propose=0.0, suggest=0.0, at_least=0, at_least_floor=1.0)
    )
    seen = member_figures(gold, shown_for(gold, lists, SEMANTIC), SEMANTIC.propose)
    ranking = np.mean(
        [ndcg_at([o for o, _ in lists[r][:10]], g) for r, g in gold.judgments.items()]
    )
    return seen.ndcg10, float(ranking)


def main() -> None:
    from core.matching.semantic import SentenceEncoder

    started = time.perf_counter()
    parts = encoded_parts(SentenceEncoder())
    names = [path.stem.removeprefix("matching_") for path in DEV_PARTS]
    use_request_adapter(np.eye(DIM, dtype=np.float32))
    without = [figures(part) for part in parts]
    print(
        f"{'left out':14s} {'no adapter':>18s} "
        + " ".join(f"{f'ridge {r:g}':>18s}" for r in RIDGES)
    )
    results = {ridge: [] for ridge in RIDGES}
    for i, part in enumerate(parts):
        for ridge in RIDGES:
            use_request_adapter(fit([p for j, p in enumerate(parts) if j != i], ridge))
            results[ridge].append(figures(part))
        row = [without[i], *(results[r][i] for r in RIDGES)]
        print(f"{names[i]:14s} " + " ".join(f"{m:8.3f} / {k:.3f}" for m, k in row))
    use_request_adapter(None)
    means = {r: float(np.mean([m for m, _ in results[r]])) for r in RIDGES}
    base = float(np.mean([m for m, _ in without]))
    print(f"{'mean':14s} {base:8.3f}{'':10s}" + "".join(f" {means[r]:8.3f}{'':9s}" for r in RIDGES))
    print("(each cell: nDCG@10 of what members see / of the ranking without a bar)")
    best = max(means, key=means.get)
    print(f"best ridge by the mean of the left-out sets: {best:g}; in use: {RIDGE:g}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
