"""Index build time, query latency and memory of the MatchEngine at 100,000 open posts.

    .venv/bin/python benchmarks/bench_matching_speed.py [--posts N] [--queries Q] [--one-by-one]

Every post carries a sentence embedding as the app stores it (int8). The model's encoding
cost is measured on synthetic posts; the 100,000 vectors themselves are random unit vectors
(the cost of the cosine does not depend on their values). Queries are measured with both
signals and, as the baseline, with word coverage alone (a query without a vector).

Posts are synthetic but shaped like real ones: titles of 4-10 and bodies of 20-90 words,
drawn with a Zipf distribution from a vocabulary of function words, the field's words
(lexicon and thesaurus), random compounds of them and random rare words (names, typos).
The naive comparison is rank-bm25's BM25Okapi, which scores every document per query.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from core.matching import MatchEngine, PostDoc
from core.matching.analysis import LEXICON_PATH
from core.matching.compounds import load_lexicon
from core.matching.semantic import DIM, SentenceEncoder, post_text, quantize
from core.matching.stopwords import FUNCTION_WORDS
from core.matching.thesaurus import load_thesaurus, member_words

SEED = 20240601
SYLLABLES = [c + v for c in "bdfgklmnrstw" for v in "aeio"]


def peak_rss_mb() -> float:
    """Peak RSS of this process since it started (VmHWM). Not ru_maxrss: Linux carries
    that over from the parent through fork and exec, so a child of the process that built
    the database would report the builder's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PostGenerator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        field_words = sorted(set(load_lexicon(LEXICON_PATH)) | set(member_words(load_thesaurus())))
        field_words = [w.capitalize() for w in field_words if len(w) > 2]
        compounds = {
            self.rng.choice(field_words) + self.rng.choice(field_words).lower()
            for _ in range(20_000)
        }
        rare = {
            "".join(self.rng.choices(SYLLABLES, k=self.rng.randint(2, 4))).capitalize()
            for _ in range(15_000)
        }
        # Function words are frequent, field words common, compounds and rare words the tail.
        self.vocabulary = sorted(FUNCTION_WORDS) + field_words + sorted(compounds) + sorted(rare)
        weights = [1.0 / (rank + 10) for rank in range(len(self.vocabulary))]
        self.cum_weights = list(itertools.accumulate(weights))
        self.municipalities = [f"{self.rng.randint(1, 16):02d}{i:06d}" for i in range(11_000)]

    def words(self, low: int, high: int) -> str:
        k = self.rng.randint(low, high)
        return " ".join(self.rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=k))

    def vector(self, post_id: int) -> np.ndarray:
        rng = np.random.default_rng(post_id)
        v = rng.standard_normal(DIM).astype(np.float32)
        return quantize(v / np.linalg.norm(v))

    def post(self, post_id: int, vector: bool = True) -> PostDoc:
        ags = self.rng.choice(self.municipalities)
        return PostDoc(
            id=post_id,
            kind=self.rng.choice(("offer", "request")),
            title=self.words(4, 10),
            body=self.words(20, 90),
            municipality_ags=ags,
            kreis_ags=ags[:5],
            land=ags[:2],
            lat=self.rng.uniform(47.3, 55.0),
            lon=self.rng.uniform(5.9, 15.0),
            municipality_type=self.rng.choice(("Landgemeinde", "Kleinstadt", "Mittelstadt")),
            vector=self.vector(post_id) if vector else None,
        )


def host_reference() -> str:
    """How fast this host runs plain Python and numpy, the baseline of every timing here:
    the same code ran three times slower on one day's host than on another's. Best of five,
    so that a moment's load elsewhere counts less."""
    import timeit

    python_us = min(timeit.repeat("sum(range(1000))", number=2_000, repeat=5)) / 2_000 * 1e6
    rows = np.random.default_rng(0).integers(-127, 128, (100_000, 64), dtype=np.int8)
    vector = np.ones(64, dtype=np.float32)
    numpy_ms = (
        min(timeit.repeat(lambda: rows.astype(np.float32) @ vector, number=10, repeat=5))
        / 10
        * 1000
    )
    return (
        f"this host: sum(range(1000)) {python_us:.1f} us (plain Python); 100,000 int8 rows "
        f"of 64 as float32 times a vector {numpy_ms:.1f} ms (numpy)"
    )


def encoding_cost(generator: PostGenerator, count: int = 200) -> tuple[float, float, float]:
    """Load time of the model, ms per post in batches and ms for one post alone."""
    encoder = SentenceEncoder()
    texts = [post_text(p.title, p.body) for p in (generator.post(-i, False) for i in range(count))]
    t0 = time.perf_counter()
    encoder.encode(texts[:1])
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    encoder.encode(texts)
    batch_ms = (time.perf_counter() - t0) * 1000 / count
    singles = []
    for text in texts[:30]:
        t0 = time.perf_counter()
        encoder.encode([text])
        singles.append((time.perf_counter() - t0) * 1000)
    return load_s, batch_ms, statistics.median(singles)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--naive-queries", type=int, default=10)
    parser.add_argument(
        "--one-by-one", action="store_true", help="build with upsert() per post, not bulk_upsert()"
    )
    args = parser.parse_args()
    print(host_reference())

    generator = PostGenerator()
    load_s, batch_ms, single_ms = encoding_cost(PostGenerator(seed=5))
    rss_start = peak_rss_mb()
    engine = MatchEngine()
    started, cpu_started = time.perf_counter(), time.process_time()
    if args.one_by_one:
        for post_id in range(args.posts):
            engine.upsert(generator.post(post_id))
    else:  # a generator, as the app would stream its open posts from the database
        engine.bulk_upsert(generator.post(post_id) for post_id in range(args.posts))
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - cpu_started
    indexed = len(engine)

    queries = [generator.post(10_000_000 + i) for i in range(args.queries)]
    for query in queries[:20]:  # warm-up: first-use caches, page faults
        engine.candidates(query, k=10)
    latencies, cpu = [], []
    found = 0
    for query in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        found += len(engine.candidates(query, k=10))
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    latencies.sort()
    cpu.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    words_only, words_cpu = [], []
    for query in queries:
        lexical = PostDoc(**{**query.__dict__, "vector": None})
        t0, c0 = time.perf_counter(), time.process_time()
        engine.candidates(lexical, k=10)
        words_only.append((time.perf_counter() - t0) * 1000)
        words_cpu.append((time.process_time() - c0) * 1000)
    words_only.sort()
    words_cpu.sort()
    rss_engine = peak_rss_mb()

    # Edits: an upsert of an existing post and a remove, as the app does them.
    t0 = time.perf_counter()
    for post_id in range(0, 2_000, 2):
        engine.upsert(generator.post(post_id))
        engine.remove(post_id + 1)
    edit_ms = (time.perf_counter() - t0) * 1000 / 2_000

    print(f"posts indexed:               {indexed:,} (queries: {args.queries} other posts)")
    per_post = build_s / args.posts * 1e6
    how = "upsert() per post" if args.one_by_one else "bulk_upsert()"
    print(
        f"index build, {how + ':':16s} {build_s:.1f} s ({per_post:.0f} µs/post), "
        f"CPU {build_cpu_s:.1f} s"
    )
    print(
        f"model: loading {load_s:.1f} s, encoding {batch_ms:.1f} ms/post in batches, "
        f"{single_ms:.1f} ms for one post alone"
    )
    print(f"top-10 query, both signals: p50 {p50:.2f} ms, p95 {p95:.2f} ms  (target p95 <= 20 ms)")
    print(
        f"top-10 query, words only:   p50 {statistics.median(words_only):.2f} ms, "
        f"p95 {words_only[int(0.95 * (len(words_only) - 1))]:.2f} ms  (baseline)"
    )
    # CPU time is what the query costs; wall time on a shared host adds the waits.
    print(
        f"CPU per query, both signals: p50 {statistics.median(cpu):.2f} ms, "
        f"p95 {cpu[int(0.95 * (len(cpu) - 1))]:.2f} ms; words only: p50 "
        f"{statistics.median(words_cpu):.2f} ms, "
        f"p95 {words_cpu[int(0.95 * (len(words_cpu) - 1))]:.2f} ms"
    )
    print(f"upsert/remove of one post:   {edit_ms:.2f} ms")
    print(f"proposals above threshold:   {found / args.queries:.2f} per query (random text)")
    print(
        f"peak RSS with engine:        {rss_engine:.0f} MB "
        f"(interpreter, libraries and the loaded model before indexing {rss_start:.0f} MB; "
        "target <= 350 MB)"
    )
    del engine
    naive_baseline(args, queries)


def naive_baseline(args: argparse.Namespace, queries: list[PostDoc]) -> None:
    """Same corpus in rank-bm25, which scores every document for every query term."""
    from rank_bm25 import BM25Okapi

    from core.matching.normalize import tokenize

    generator = PostGenerator()
    corpus = []
    for post_id in range(args.posts):
        post = generator.post(post_id, vector=False)
        corpus.append(tokenize(f"{post.title} {post.body}"))
    t0 = time.perf_counter()
    bm25 = BM25Okapi(corpus)
    build_s = time.perf_counter() - t0
    latencies = []
    for query in queries[: args.naive_queries]:
        tokens = tokenize(f"{query.title} {query.body}")
        t0 = time.perf_counter()
        bm25.get_top_n(tokens, corpus, n=10)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    print(
        f"top-10 query, rank-bm25 scan: p50 {statistics.median(latencies):.0f} ms, "
        f"max {latencies[-1]:.0f} ms over {len(latencies)} queries; "
        f"build {build_s:.1f} s; peak RSS of the whole run {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
