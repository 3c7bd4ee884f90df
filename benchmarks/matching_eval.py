"""What a member sees, measured on a labelled set, and the choice of fusion weights and bars.

The app records, for every post, its best PROPOSALS_PER_POST candidates above the lower bar
(core/exchange/posts.py propose()); a request's list is what its own matching and the matching of
later offers recorded, ordered by score (`rank_for_request` of `matches export`). shown()
rebuilds exactly that from the engine's candidate lists, so weights and bars can be tried
without a database; bench_matching_quality.py checks it against `import posts` + `matches
export` on the same set.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from benchmarks.gold import GoldSet, ndcg_at, recall_at, reciprocal_rank
from core.exchange.posts import PROPOSALS_PER_POST
from core.matching import MatchEngine
from core.matching.engine import Fusion, VectorSpace
from core.matching.semantic import Encoder, in_matching_space, post_text, quantize

LIST_DEPTH = 20  # candidates kept per post before the bars are applied
BAR_STEPS = [round(0.05 + 0.01 * i, 2) for i in range(76)]  # 0.05 .. 0.80
WEIGHTS = [round(0.1 * i, 1) for i in range(11)]
FLOORS = [0.0, 0.1, 0.2, 0.3]
# The choice rules: the Vorschlag bar is the lowest bar at which introductions are right
# (grade >= 1) at least TOP_PRECISION of the time and requests with nothing to find stay
# without a Vorschlag at least EMPTY_SHARE of the time (both a margin above the targets of
# 90 % and 80 %); the lower bar is the one with the best nDCG@10 of the shown lists while
# at least MAYBE_PRECISION of the Vielleicht-passend pairs are useful.
TOP_PRECISION = 0.93
EMPTY_SHARE = 0.85
MAYBE_PRECISION = 0.40
# The minimum list beside the bars (Fusion.at_least, at_least_floor): each matched post shows
# its best two candidates from a low floor up (0.10, see SEMANTIC). Scores depend on how a
# post is written (a short casual request scores lower against everything), and absolute
# bars chosen on the tuning part alone left most requests of other writers with nothing
# (benchmarks/README.md, "Bars that carry over"); a bar relative to the request's own best
# candidates carries over.
AT_LEAST = [(2, 0.10)]

Lists = dict[int, list[tuple[int, float]]]  # post id -> [(other post id, score)], best first


def with_vectors(gold: GoldSet, encoder: Encoder) -> GoldSet:
    posts = list(gold.posts.values())
    vectors = quantize(encoder.encode([post_text(p.title, p.body, p.topics) for p in posts]))
    encoded = {p.id: replace(p, vector=v) for p, v in zip(posts, vectors, strict=True)}
    return GoldSet(posts=encoded, judgments=gold.judgments)


def without_vectors(gold: GoldSet) -> GoldSet:
    return GoldSet(
        posts={i: replace(p, vector=None) for i, p in gold.posts.items()},
        judgments=gold.judgments,
    )


Signals = dict[int, list[tuple[int, float, float]]]  # post id -> [(other, text, cosine)]


def signals(gold: GoldSet, space: VectorSpace = in_matching_space) -> Signals:
    """Both signals for every post against all eligible posts of the other kind (the whole
    set fits in the engine's candidate pools), computed once for all fusions; `space` as
    in MatchEngine."""
    fusion = Fusion(weight=0.5, floor=0.0, propose=0.0, suggest=0.0)
    engine = MatchEngine(semantic=fusion, space=space)
    engine.bulk_upsert(gold.posts.values())
    depth = len(gold.posts)
    return {
        post.id: [(c.post_id, c.text, c.cosine) for c in engine.candidates(post, k=depth)]
        for post in gold.posts.values()
    }


def candidate_lists(raw: Signals, fusion: Fusion) -> Lists:
    """Every post's best LIST_DEPTH candidates with this fusion, no bar yet (see shown())."""
    result: Lists = {}
    for post_id, rows in raw.items():
        if not rows:
            result[post_id] = []
            continue
        others = np.array([r[0] for r in rows])
        text = np.array([r[1] for r in rows])
        cosine = np.array([r[2] for r in rows])
        score = np.round(fusion.score(text, cosine), 4)
        order = np.lexsort((others, -score))[:LIST_DEPTH]
        result[post_id] = [(int(others[i]), float(score[i])) for i in order if score[i] > 0]
    return result


def shown(
    gold: GoldSet, lists: Lists, suggest: float, at_least: int = 0, at_least_floor: float = 1.0
) -> Lists:
    """Per request, the pairs the app records, best first: posts are matched in the order
    of `import posts` (requests first, then in file order), each records its best
    PROPOSALS_PER_POST pairs that do not exist yet and reach the lower bar, or are among its
    best `at_least` from `at_least_floor` up (Fusion.at_least)."""
    pairs: dict[tuple[int, int], float] = {}
    partners: dict[int, set[int]] = {}
    order = sorted(gold.posts.values(), key=lambda p: p.kind != "request")
    for post in order:
        taken = partners.setdefault(post.id, set())
        free = [(other, score) for other, score in lists.get(post.id, []) if other not in taken]
        kept = [
            (other, score)
            for rank, (other, score) in enumerate(free)
            if score >= suggest or (rank < at_least and score >= at_least_floor)
        ][:PROPOSALS_PER_POST]
        for other, score in kept:
            key = (post.id, other) if post.kind == "request" else (other, post.id)
            pairs[key] = score
            taken.add(other)
            partners.setdefault(other, set()).add(post.id)
    result: Lists = {r.id: [] for r in gold.requests}
    for (request, offer), score in pairs.items():
        result[request].append((offer, score))
    for rows in result.values():
        rows.sort(key=lambda row: (-row[1], row[0]))
    return result


@dataclass
class MemberFigures:
    ndcg10: float
    recall5: float
    mrr: float
    top_right: float  # share of Vorschlag pairs with grade >= 1
    maybe_right: float  # share of Vielleicht-passend pairs with grade >= 1
    empty_ok: float  # share of requests with nothing to find that get no Vorschlag
    proposals: int
    suggestions: int


def member_figures(
    gold: GoldSet, seen: Lists, propose: float, requests: Sequence[int] | None = None
) -> MemberFigures:
    ids = list(requests) if requests is not None else [r.id for r in gold.requests]
    judged = [i for i in ids if i in gold.judgments]
    empty = [i for i in ids if i not in gold.judgments]
    ndcg = recall = rr = 0.0
    for request in judged:
        ranked = [offer for offer, _ in seen.get(request, [])]
        grades = gold.judgments[request]
        ndcg += ndcg_at(ranked, grades)
        recall += recall_at(ranked, grades)
        rr += reciprocal_rank(ranked, grades)
    top = top_ok = maybe = maybe_ok = 0
    for request in ids:
        grades = gold.judgments.get(request, {})
        for offer, score in seen.get(request, []):
            right = grades.get(offer, 0) >= 1
            if score >= propose:
                top, top_ok = top + 1, top_ok + right
            else:
                maybe, maybe_ok = maybe + 1, maybe_ok + right
    quiet = sum(1 for r in empty if all(s < propose for _, s in seen.get(r, [])))
    n = len(judged) or 1
    return MemberFigures(
        ndcg10=ndcg / n,
        recall5=recall / n,
        mrr=rr / n,
        top_right=top_ok / top if top else 1.0,
        maybe_right=maybe_ok / maybe if maybe else 1.0,
        empty_ok=quiet / len(empty) if empty else 1.0,
        proposals=top,
        suggestions=maybe,
    )


@dataclass
class Choice:
    fusion: Fusion
    figures: MemberFigures


def shown_for(gold: GoldSet, lists: Lists, fusion: Fusion) -> Lists:
    return shown(gold, lists, fusion.suggest, fusion.at_least, fusion.at_least_floor)


def lowest_propose_bar(
    gold: GoldSet, seen: Lists, suggest: float, requests: Sequence[int]
) -> float | None:
    """The lowest bar (from `suggest` up) at which the Vorschläge are right often enough and
    requests with nothing to find stay without one often enough; None if there is none."""
    scores, right = [], []
    empty_best = []
    for request in requests:
        grades = gold.judgments.get(request)
        rows = seen.get(request, [])
        if grades is None:
            empty_best.append(max((s for _, s in rows), default=0.0))
        for offer, score in rows:
            scores.append(score)
            right.append((grades or {}).get(offer, 0) >= 1)
    score_arr, right_arr = np.array(scores), np.array(right, dtype=bool)
    empty_arr = np.array(empty_best)
    for bar in BAR_STEPS:
        if bar < suggest:
            continue
        top = score_arr >= bar
        precision = right_arr[top].mean() if top.any() else 1.0
        quiet = (empty_arr < bar).mean() if empty_arr.size else 1.0
        if precision >= TOP_PRECISION and quiet >= EMPTY_SHARE:
            return bar
    return None


def choose_bars(gold: GoldSet, lists: Lists, base: Fusion, requests: Sequence[int]) -> Choice:
    """Both bars and the minimum list for one fusion by the rules above, measured on
    `requests` only. A lower bar at which no Vorschlag bar meets the rules is not chosen
    (it would leave members with Vielleicht passend only)."""
    best: Choice | None = None
    for at_least, at_least_floor in AT_LEAST:
        for suggest in BAR_STEPS:
            seen = shown(gold, lists, suggest, at_least, at_least_floor)
            propose = lowest_propose_bar(gold, seen, suggest, requests)
            if propose is None:
                continue
            figures = member_figures(gold, seen, propose, requests)
            if figures.maybe_right < MAYBE_PRECISION and figures.suggestions:
                continue
            if best is None or figures.ndcg10 > best.figures.ndcg10 + 1e-9:
                fusion = replace(
                    base,
                    propose=propose,
                    suggest=suggest,
                    at_least=at_least,
                    at_least_floor=at_least_floor,
                )
                best = Choice(fusion, figures)
    if best is None:  # no lower bar keeps the Vielleicht pairs useful: only Vorschläge
        seen = shown(gold, lists, BAR_STEPS[-1])
        fusion = replace(base, propose=BAR_STEPS[-1], suggest=BAR_STEPS[-1])
        best = Choice(fusion, member_figures(gold, seen, BAR_STEPS[-1], requests))
    return best


def fusions(weights: Sequence[float] = WEIGHTS) -> list[Fusion]:
    result = []
    for weight in weights:
        for floor in FLOORS if weight > 0 else [0.0]:
            result.append(Fusion(weight=weight, floor=floor, propose=0.0, suggest=0.0))
    return result


def choose(
    gold: GoldSet,
    all_lists: dict[Fusion, Lists],
    requests: Sequence[int],
) -> Choice:
    """The fusion and bars with the best nDCG@10 of the shown lists on `requests`."""
    best: Choice | None = None
    for base, lists in all_lists.items():
        choice = choose_bars(gold, lists, base, requests)
        if best is None or choice.figures.ndcg10 > best.figures.ndcg10 + 1e-9:
            best = choice
    assert best is not None
    return best


def folds(gold: GoldSet, k: int, seed: int = 12) -> list[list[int]]:
    ids = sorted(r.id for r in gold.requests)
    random.Random(seed).shuffle(ids)
    return [ids[i::k] for i in range(k)]


def cross_validate(
    gold: GoldSet, all_lists: dict[Fusion, Lists], k: int = 5
) -> list[tuple[Choice, MemberFigures]]:
    """Per fold: the choice made on the other folds and its figures on the held-out one."""
    parts = folds(gold, k)
    result = []
    for i, held_out in enumerate(parts):
        tuning = [r for j, part in enumerate(parts) if j != i for r in part]
        choice = choose(gold, all_lists, tuning)
        seen = shown_for(gold, all_lists[_base(choice.fusion)], choice.fusion)
        result.append((choice, member_figures(gold, seen, choice.fusion.propose, held_out)))
    return result


def _base(fusion: Fusion) -> Fusion:
    return replace(fusion, propose=0.0, suggest=0.0, at_least=0, at_least_floor=1.0)


def mean_figures(rows: Sequence[MemberFigures]) -> MemberFigures:
    fields = MemberFigures.__dataclass_fields__
    return MemberFigures(**{f: float(np.mean([getattr(r, f) for r in rows])) for f in fields})
