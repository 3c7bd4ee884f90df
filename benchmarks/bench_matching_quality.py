"""Ranking quality of the MatchEngine against plain BM25 on a labelled set.

    .venv/bin/python benchmarks/bench_matching_quality.py [GOLD.jsonl ...]

Prints nDCG@10, Recall@5 and MRR for every request that has judgments, for the engine,
two ablations and two rank-bm25 baselines, then a threshold sweep for the proposals.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rank_bm25 import BM25Okapi

from benchmarks.gold import GoldSet, evaluate, load_gold
from core.matching import MatchEngine, PostDoc
from core.matching.normalize import tokenize
from core.matching.stemming import stem
from core.matching.stopwords import STOP_WORDS

_PLAIN_TOKEN = re.compile(r"\w+")


def text_of(post: PostDoc) -> str:
    return " ".join([post.title, post.body, *post.topics])


def plain_tokens(text: str) -> list[str]:
    """The baseline: lower case, word characters, nothing else."""
    return _PLAIN_TOKEN.findall(text.lower())


def stemmed_tokens(text: str) -> list[str]:
    return [stem(t) for t in tokenize(text) if t not in STOP_WORDS]


def bm25_ranker(gold: GoldSet, tokens):
    offers = gold.offers
    bm25 = BM25Okapi([tokens(text_of(o)) for o in offers])

    def rank(request: PostDoc) -> list[int]:
        scores = bm25.get_scores(tokens(text_of(request)))
        order = sorted(range(len(offers)), key=lambda i: (-scores[i], offers[i].id))
        return [offers[i].id for i in order[:10] if scores[i] > 0]

    return rank


def engine_ranker(gold: GoldSet, thesaurus: Path | None = None):
    engine = MatchEngine(thesaurus_path=thesaurus, threshold=0.0)
    for post in gold.posts.values():
        engine.upsert(post)
    return lambda request: [c.post_id for c in engine.candidates(request, k=10)]


def threshold_sweep(gold: GoldSet) -> None:
    """Precision of the proposals (grade >= 1 counts as right) and recall of the pairs that
    matter (grade >= 2), for the top-10 proposals of every judged request."""
    engine = MatchEngine(threshold=0.0)
    for post in gold.posts.values():
        engine.upsert(post)
    proposals = {r.id: engine.candidates(r, k=10) for r in gold.judged_requests}
    wanted = sum(1 for g in gold.judgments.values() for v in g.values() if v >= 2)
    print("\nthreshold  proposals  precision  recall(grade>=2)  F1")
    for step in range(0, 51, 2):
        t = step / 100
        made = right = found = 0
        for request_id, candidates in proposals.items():
            grades = gold.judgments[request_id]
            for c in candidates:
                if c.score < t:
                    continue
                made += 1
                right += grades.get(c.post_id, 0) >= 1
                found += grades.get(c.post_id, 0) >= 2
        precision = right / made if made else 0.0
        recall = found / wanted if wanted else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{t:9.2f}  {made:9d}  {precision:9.3f}  {recall:15.3f}  {f1:.3f}")


def main(argv: list[str]) -> None:
    gold = load_gold(*(Path(a) for a in argv))
    offers, requests = len(gold.offers), len(gold.posts) - len(gold.offers)
    print(f"{offers} offers, {requests} requests, {len(gold.judgments)} judged requests")
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.txt"
        empty.write_text("", encoding="utf-8")
        systems = [
            ("MatchEngine", engine_ranker(gold)),
            ("MatchEngine without thesaurus", engine_ranker(gold, empty)),
            ("rank-bm25, Snowball stems + stop words", bm25_ranker(gold, stemmed_tokens)),
            ("rank-bm25, plain tokens (baseline)", bm25_ranker(gold, plain_tokens)),
        ]
        results = [(name, evaluate(gold, rank)) for name, rank in systems]
    print(f"\n{'system':42s} {'nDCG@10':>8s} {'Recall@5':>9s} {'MRR':>6s}")
    for name, f in results:
        print(f"{name:42s} {f.ndcg10:8.3f} {f.recall5:9.3f} {f.mrr:6.3f}")
    base = results[-1][1]
    best = results[0][1]
    print(f"\nMatchEngine vs plain BM25: nDCG@10 {best.ndcg10 - base.ndcg10:+.3f}")
    threshold_sweep(gold)


if __name__ == "__main__":
    main(sys.argv[1:])
