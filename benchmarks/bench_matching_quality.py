"""Matching quality on the held-out part of the labelled set, beside its baselines.

    .venv/bin/python benchmarks/bench_matching_quality.py [--test FILE ...] [--tuning FILE ...]
        [--no-cli]

1. What a member sees (both tiers, as recorded and exported): nDCG@10, Recall@5 and MRR of
   each request's list, the share of Vorschläge that are right (grade >= 1), the share of
   requests with nothing to find that get no Vorschlag; for the engine (word coverage fused
   with the sentence embeddings, bars from engine.py), the engine without the semantic
   signal and the model alone (each with the bars cross-validation chose for it on the
   tuning part, tune_matching.py), and plain BM25 (top 10, no bar) as the baseline.
2. The same lists through the product: `zukunftsraum import members`, `import posts` and
   `matches export --format json` on a fresh SQLite database, and the engine's lists
   rebuilt from that database: both must give the same figures.
3. Ranking quality without any bar (top 10 of all offers) for the engine, its ablations
   and two rank-bm25 baselines.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rank_bm25 import BM25Okapi

from benchmarks.bench_import_export import check_export, cli, write_gold_files
from benchmarks.gold import DEFAULT_GOLD, HELDOUT_TEST, GoldSet, evaluate, load_gold
from benchmarks.matching_eval import (
    LIST_DEPTH,
    Lists,
    MemberFigures,
    candidate_lists,
    choose,
    fusions,
    member_figures,
    shown_for,
    signals,
    with_vectors,
)
from core.exchange.match_index import MatchIndex, post_doc
from core.matching import MatchEngine, PostDoc
from core.matching.engine import LEXICAL, SEMANTIC, Fusion
from core.matching.normalize import tokenize
from core.matching.semantic import SentenceEncoder
from core.matching.stemming import stem
from core.matching.stopwords import STOP_WORDS
from core.store.unit_of_work import Database

_PLAIN_TOKEN = re.compile(r"\w+")
# Export rows carry their tier as status; as scores for member_figures(): 1 = Vorschlag.
TOP, MAYBE = 1.0, 0.5


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


def engine_ranker(gold: GoldSet, fusion: Fusion, thesaurus: Path | None = None):
    open_bars = replace(fusion, propose=0.0, suggest=0.0)
    engine = MatchEngine(thesaurus_path=thesaurus, semantic=open_bars, lexical=open_bars)
    engine.bulk_upsert(gold.posts.values())
    return lambda request: [c.post_id for c in engine.candidates(request, k=10)]


def row(name: str, f: MemberFigures, base: float | None = None) -> str:
    delta = f"{f.ndcg10 - base:+.3f}" if base is not None else ""
    return (
        f"{name:44s} {f.ndcg10:7.3f} {f.recall5:8.3f} {f.mrr:6.3f} {f.top_right:9.0%} "
        f"{f.empty_ok:9.0%} {f.proposals:5.0f} {f.suggestions:6.0f} {f.maybe_right:7.0%}  {delta}"
    )


HEADER = (
    f"{'what a member sees':44s} {'nDCG@10':>7s} {'Recall@5':>8s} {'MRR':>6s} "
    f"{'top right':>9s} {'empty ok':>9s} {'Vorsch':>5s} {'Vielle':>6s} {'right':>7s}  vs BM25"
)


def bm25_figures(gold: GoldSet) -> MemberFigures:
    """Plain BM25 as members would see it without any bar: its top 10, all as Vorschlag."""
    rank = bm25_ranker(gold, plain_tokens)
    seen = {r.id: [(o, TOP) for o in rank(r)] for r in gold.requests}
    return member_figures(gold, seen, TOP)


def export_lists(rows: list[dict]) -> Lists:
    seen: Lists = {}
    for r in sorted(rows, key=lambda r: (int(r["request"]), r["rank_for_request"])):
        tier = TOP if r["status"] == "proposed" else MAYBE
        seen.setdefault(int(r["request"]), []).append((int(r["offer"]), tier))
    return seen


async def engine_lists_from_db(url: str, gold: GoldSet) -> Lists:
    """The engine's lists over the imported posts as the app loads them (vectors and places
    from the database), with the bars of engine.py, tiers as TOP / MAYBE."""
    db = Database(url)
    index = MatchIndex()
    async with db.uow() as uow:
        await index.refresh(uow)
        posts = list(await uow.posts.changed_since(None))
        vectors = await index.vectors(uow, posts)
    await db.dispose()
    gold_id = {p.id: int(p.external_id) for p in posts}
    lists: Lists = {}
    tiers: dict[tuple[int, int], float] = {}
    for post in posts:
        # Every candidate with its tier (no bar): shown_for() applies the lower bar and the
        # minimum list to the pairs still free, as the app's matching of each post does.
        candidates = index.engine.candidates(
            post_doc(post, vectors.get(post.id)), k=LIST_DEPTH, threshold=1e-9
        )
        lists[gold_id[post.id]] = [(gold_id[c.post_id], c.score) for c in candidates]
        for c in candidates:
            pair = (gold_id[post.id], gold_id[c.post_id])
            tiers[pair] = TOP if c.tier == "proposed" else MAYBE
    seen = shown_for(gold, lists, SEMANTIC)
    return {
        request: [(o, tiers.get((request, o), tiers.get((o, request), MAYBE))) for o, _ in rows]
        for request, rows in seen.items()
    }


def through_product(gold: GoldSet) -> tuple[MemberFigures, MemberFigures, float]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        write_gold_files(workdir, gold)
        cli(workdir, "import", "members", "members.jsonl")
        import_s, _ = cli(workdir, "import", "posts", "posts.jsonl")
        _, stdout = cli(workdir, "matches", "export", "--format", "json")
        exported = member_figures(gold, export_lists(check_export(stdout)), TOP)
        url = f"sqlite:///{workdir / 'zr.db'}"
        rebuilt = member_figures(gold, asyncio.run(engine_lists_from_db(url, gold)), TOP)
    return exported, rebuilt, import_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", nargs="*", type=Path, default=[HELDOUT_TEST])
    parser.add_argument("--tuning", nargs="*", type=Path, default=[DEFAULT_GOLD])
    parser.add_argument("--no-cli", action="store_true", help="skip the import/export run")
    args = parser.parse_args()
    encoder = SentenceEncoder()
    started = time.perf_counter()
    test = with_vectors(load_gold(*args.test), encoder)
    encode_s = time.perf_counter() - started
    tuning = with_vectors(load_gold(*args.tuning), encoder)
    print(
        f"test part: {len(test.offers)} offers, {len(test.requests)} requests "
        f"({len(test.empty_requests)} with nothing to find), {len(test.judgments)} judged; "
        f"tuning part: {len(tuning.offers)} offers, {len(tuning.requests)} requests"
    )
    print(
        f"model {encoder.model_id}: first encoding of {len(test.posts)} posts incl. loading "
        f"{encode_s:.1f} s"
    )
    # The ablations' bars, chosen by the same rules on the tuning part.
    raw_tuning = signals(tuning)
    tuning_ids = [r.id for r in tuning.requests]
    words_only = choose(
        tuning, {f: candidate_lists(raw_tuning, f) for f in fusions([0.0])}, tuning_ids
    ).fusion
    model_only = choose(
        tuning, {f: candidate_lists(raw_tuning, f) for f in fusions([1.0])}, tuning_ids
    ).fusion
    raw_test = signals(test)
    base = bm25_figures(test)
    print("\n" + HEADER)
    for name, fusion in (
        ("MatchEngine (words + meaning, both tiers)", SEMANTIC),
        ("MatchEngine without the semantic signal", words_only),
        ("model alone (cosine)", model_only),
    ):
        seen = shown_for(test, candidate_lists(raw_test, fusion), fusion)
        print(row(name, member_figures(test, seen, fusion.propose), base.ndcg10))
        print(
            f"{'':4s}weight {fusion.weight:.1f}, floor {fusion.floor:.1f}, "
            f"Vorschlag bar {fusion.propose:.2f}, Vielleicht bar {fusion.suggest:.2f}, "
            f"at least {fusion.at_least} from {fusion.at_least_floor:.2f}"
        )
    print(row("plain BM25, top 10, no bar (baseline)", base))
    print(f"(engine.py LEXICAL, used for posts without embedding: {LEXICAL})")

    if not args.no_cli:
        exported, rebuilt, import_s = through_product(test)
        print("\nthe same through the product (fresh SQLite database):")
        print(row("import posts + matches export --format json", exported, base.ndcg10))
        print(row("engine's lists rebuilt from that database", rebuilt, base.ndcg10))
        print(f"identical: {'yes' if exported == rebuilt else 'NO'}")
        print(f"(import posts of {len(test.posts)} posts incl. encoding: {import_s:.1f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.txt"
        empty.write_text("", encoding="utf-8")
        systems = [
            ("MatchEngine, words + meaning", engine_ranker(test, SEMANTIC)),
            ("MatchEngine, words only", engine_ranker(test, LEXICAL)),
            ("MatchEngine, words only, no thesaurus", engine_ranker(test, LEXICAL, empty)),
            ("model alone", engine_ranker(test, model_only)),
            ("rank-bm25, Snowball stems + stop words", bm25_ranker(test, stemmed_tokens)),
            ("rank-bm25, plain tokens (baseline)", bm25_ranker(test, plain_tokens)),
        ]
        results = [(name, evaluate(test, rank)) for name, rank in systems]
    print(f"\n{'ranking of all offers, no bar':44s} {'nDCG@10':>7s} {'Recall@5':>8s} {'MRR':>6s}")
    for name, f in results:
        print(f"{name:44s} {f.ndcg10:7.3f} {f.recall5:8.3f} {f.mrr:6.3f}")


if __name__ == "__main__":
    main()
