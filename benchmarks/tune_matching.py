"""Choose the fusion of word coverage and sentence embeddings, and both bars, by k-fold
cross-validation on the tuning part of the labelled set (never on the frozen test part).

    .venv/bin/python benchmarks/tune_matching.py [--folds 5] [GOLD.jsonl ...]

For every fusion (semantic weight x cosine floor) the engine's candidate lists are computed
once; then, per fold, the bars and the fusion are chosen on the other folds by the rules in
matching_eval.py and measured on the held-out fold. The last lines are the choice on the
whole tuning part: the values to put into core/matching/engine.py (SEMANTIC, LEXICAL).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold import DEFAULT_GOLD, FROZEN_PARTS, load_gold
from benchmarks.matching_eval import (
    MemberFigures,
    candidate_lists,
    choose,
    cross_validate,
    fusions,
    mean_figures,
    signals,
    with_vectors,
)
from core.matching.semantic import SentenceEncoder


def line(name: str, f: MemberFigures) -> str:
    return (
        f"{name:34s} nDCG@10 {f.ndcg10:.3f}  R@5 {f.recall5:.3f}  MRR {f.mrr:.3f}  "
        f"top right {f.top_right:.0%}  empty w/o Vorschlag {f.empty_ok:.0%}  "
        f"Vorschläge {f.proposals:.0f}  Vielleicht {f.suggestions:.0f} ({f.maybe_right:.0%} right)"
    )


def describe(fusion) -> str:
    return (
        f"weight {fusion.weight:.1f}, floor {fusion.floor:.1f}, "
        f"Vorschlag bar {fusion.propose:.2f}, Vielleicht bar {fusion.suggest:.2f}, "
        f"at least {fusion.at_least} from {fusion.at_least_floor:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("gold", nargs="*", type=Path, default=[DEFAULT_GOLD])
    args = parser.parse_args()
    frozen = {p.resolve() for p in FROZEN_PARTS}
    if any(p.resolve() in frozen for p in args.gold):
        raise SystemExit("The frozen test parts are never used for tuning.")
    started = time.perf_counter()
    gold = with_vectors(load_gold(*args.gold), SentenceEncoder())
    requests = [r.id for r in gold.requests]
    print(
        f"{len(gold.offers)} offers, {len(requests)} requests "
        f"({len(gold.empty_requests)} with nothing to find), {args.folds}-fold CV"
    )
    raw = signals(gold)
    grids = {
        "fused": {f: candidate_lists(raw, f) for f in fusions()},
    }
    grids["words only"] = {f: grids["fused"][f] for f in fusions([0.0])}
    grids["model only"] = {f: grids["fused"][f] for f in fusions([1.0])}
    for name, grid in grids.items():
        print(f"\n== {name}")
        held = []
        for number, (choice, figures) in enumerate(cross_validate(gold, grid, args.folds), 1):
            print(f"fold {number}: {describe(choice.fusion)}")
            print("  " + line("held-out fold", figures))
            held.append(figures)
        print(line("CV mean of held-out folds", mean_figures(held)))
        final = choose(gold, grid, requests)
        print(f"choice on the whole tuning part: {describe(final.fusion)}")
        print(line("(fit on the whole tuning part)", final.figures))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
