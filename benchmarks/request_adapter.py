"""The request adapter (core/matching/semantic.py, in_matching_space): fitting it, and
measuring it on sets by an author it was not fitted on.

    .venv/bin/python benchmarks/request_adapter.py

Leave one author out: the development sets (benchmarks/gold.py) come from six authors
(DEV_AUTHORS). For each author, the adapter is fitted on the other authors' sets and the
engine with it is measured on that author's sets, beside the engine without an adapter;
for each ridge strength in RIDGES. The strength with the best mean nDCG@10 of what members
see over the left-out sets is the one scripts/build_request_adapter.py uses (RIDGE).
Then the fusion weight, the floors and the bars of SEMANTIC, chosen on the same
out-of-author lists (print_fusion). The held-out part (HELDOUT_TEST) is never read.

Not fully out of sample for the project's own sets: the centres were computed on its
tuning part.
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold import DEV_AUTHORS, DEV_PARTS, GoldSet, load_gold, ndcg_at
from benchmarks.matching_eval import (
    BAR_STEPS,
    Lists,
    Signals,
    candidate_lists,
    lowest_propose_bar,
    member_figures,
    shown,
    shown_for,
    signals,
    with_vectors,
)
from core.matching.engine import SEMANTIC, Fusion, VectorSpace
from core.matching.semantic import DIM, SCALE, Encoder, in_matching_space, kind_centred

RIDGES = (0.3, 1.0, 3.0, 10.0)
# Chosen by the leave-one-author-out runs of this file (benchmarks/README.md).
RIDGE = 3.0


def encoded_parts(encoder: Encoder, paths=DEV_PARTS) -> dict[Path, GoldSet]:
    return {path: with_vectors(load_gold(path), encoder) for path in paths}


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


def figures(gold: GoldSet, space: VectorSpace) -> tuple[float, float]:
    """nDCG@10 of what members see (SEMANTIC's bars) and of the ranking without a bar."""
    lists = candidate_lists(
        signals(gold, space),
        replace(SEMANTIC, propose=0.0, suggest=0.0, at_least=0, at_least_floor=1.0),
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
    plain = partial(in_matching_space, adapter=np.eye(DIM, dtype=np.float32))
    header = " ".join(f"{f'ridge {r:g}':>18s}" for r in RIDGES)
    print(f"{'left out':14s} {'no adapter':>18s} {header}")
    results: dict[float, list[float]] = {ridge: [] for ridge in RIDGES}
    without: list[float] = []
    for author in DEV_AUTHORS:
        others = [parts[p] for p in DEV_PARTS if p not in author]
        adapters = {ridge: fit(others, ridge) for ridge in RIDGES}
        for path in author:
            row = [figures(parts[path], plain)]
            for ridge in RIDGES:
                row.append(
                    figures(parts[path], partial(in_matching_space, adapter=adapters[ridge]))
                )
                results[ridge].append(row[-1][0])
            without.append(row[0][0])
            name = path.stem.removeprefix("matching_")
            print(f"{name:14s} " + " ".join(f"{m:8.3f} / {k:.3f}" for m, k in row))
    means = {r: float(np.mean(results[r])) for r in RIDGES}
    cells = "".join(f" {means[r]:8.3f}{'':9s}" for r in RIDGES)
    print(f"{'mean':14s} {float(np.mean(without)):8.3f}{'':10s}{cells}")
    print("(each cell: nDCG@10 of what members see / of the ranking without a bar)")
    best = max(means, key=means.get)
    print(f"best ridge by the mean of the left-out sets: {best:g}; in use: {RIDGE:g}")
    print_fusion(parts)
    print(f"{time.perf_counter() - started:.0f} s")


# The fusions tried (with at_least = SEMANTIC.at_least: a member sees at least their best
# two, a product choice, not a tuned one) and the floors of that minimum list.
WEIGHTS_TRIED = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
FLOORS_TRIED = (0.0, 0.1)
AT_LEAST_FLOORS_TRIED = (0.05, 0.10, 0.15)


def out_of_author_signals(parts: dict[Path, GoldSet]) -> dict[Path, Signals]:
    """Every development set matched the way a new writer's posts are: with the adapter
    fitted without its author."""
    result = {}
    for author in DEV_AUTHORS:
        adapter = fit([parts[p] for p in DEV_PARTS if p not in author])
        for path in author:
            result[path] = signals(parts[path], partial(in_matching_space, adapter=adapter))
    return result


def print_fusion(parts: dict[Path, GoldSet]) -> None:
    """The fusion weight, the cosine floor, the floor of the minimum list and the bars, on
    lists a new writer would get (out_of_author_signals). For each fusion the Vorschlag bar
    (= the lower bar: below it only the minimum list is shown) is the one tune_matching.py's
    first rule picks on all sets together (its rule for the Vielleicht pairs is not applied:
    the minimum list shows a post's best two whether they are useful or not); the fusion
    chosen is the one with the best mean over the authors of nDCG@10 of what members see."""
    raw = out_of_author_signals(parts)
    pooled = GoldSet()
    for gold in parts.values():
        pooled.posts.update(gold.posts)
        pooled.judgments.update(gold.judgments)
    requests = [r.id for r in pooled.requests]
    names = [" + ".join(p.stem.removeprefix("matching_") for p in a) for a in DEV_AUTHORS]
    print("\nFusion and bars, lists with the adapter fitted without their author:")
    print(f"{'weight floor min.floor bar':27s} {'mean':>6s}  " + "  ".join(names))
    rows = []
    for weight, floor in itertools.product(WEIGHTS_TRIED, FLOORS_TRIED):
        unbarred = Fusion(weight=weight, floor=floor, propose=0.0, suggest=0.0)
        lists: Lists = {}
        for path in DEV_PARTS:
            lists.update(candidate_lists(raw[path], unbarred))
        for at_least_floor in AT_LEAST_FLOORS_TRIED:
            fusion = replace(unbarred, at_least=SEMANTIC.at_least, at_least_floor=at_least_floor)
            row = _barred(parts, pooled, requests, lists, fusion)
            if row is not None:
                rows.append(row)
                _print_fusion_row(*row)
    # At an equal mean (to three places), the higher floor of the minimum list: fewer weak pairs.
    best = max(rows, key=lambda row: (round(row[1], 3), row[0].at_least_floor))
    print("chosen:")
    _print_fusion_row(*best)
    print(
        f"in use: weight {SEMANTIC.weight:g}, floor {SEMANTIC.floor:g}, minimum list from "
        f"{SEMANTIC.at_least_floor:.2f}, bar {SEMANTIC.propose:.2f}"
    )


def _barred(parts, pooled, requests, lists, fusion):
    for bar in BAR_STEPS:
        seen = shown(pooled, lists, bar, fusion.at_least, fusion.at_least_floor)
        if lowest_propose_bar(pooled, seen, bar, requests) == bar:
            break
    else:
        return None
    per_author = [
        float(
            np.mean(
                [
                    member_figures(parts[p], seen, bar, [r.id for r in parts[p].requests]).ndcg10
                    for p in author
                ]
            )
        )
        for author in DEV_AUTHORS
    ]
    figures = member_figures(pooled, seen, bar, requests)
    return (
        replace(fusion, propose=bar, suggest=bar),
        float(np.mean(per_author)),
        per_author,
        figures,
    )


def _print_fusion_row(fusion, mean, per_author, figures) -> None:
    cells = "  ".join(f"{x:.3f}" for x in per_author)
    print(
        f"{fusion.weight:4.1f}  {fusion.floor:4.1f}  {fusion.at_least_floor:4.2f}  "
        f"{fusion.propose:4.2f}    {mean:.3f}  {cells}  Vorschläge {figures.proposals} "
        f"({figures.top_right:.1%} right), Vielleicht {figures.suggestions} "
        f"({figures.maybe_right:.0%} useful), nothing to find without a Vorschlag "
        f"{figures.empty_ok:.0%}"
    )


if __name__ == "__main__":
    main()
