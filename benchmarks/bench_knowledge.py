"""The knowledge search: quality on the labelled set, speed at 10,000 entries, import
throughput of small PDFs.

    .venv/bin/python benchmarks/bench_knowledge.py [--entries N] [--queries Q] [--pdfs P]
        [--only quality|speed|import]

Quality: nDCG@5 of every judged query of ``data/knowledge_queries.jsonl`` against the
entries of ``data/knowledge_entries.jsonl`` (grades 3/2/1, unjudged = 0), for the search
(words and meaning), the search with words only, and plain BM25 (rank-bm25's BM25Okapi on
lower-cased words of title, summary, topics and text), all in the same run. Queries with
nothing to find are reported as how often the search still calls its best hit good.

Speed: p50/p95 of one search (query encoding included, and each part alone), wall and
CPU time side by side, at N synthetic entries with random unit vectors (the cosine's cost
does not depend on their values), beside a BM25Okapi full scan. Import: P small German
PDFs through the import use case that ``zukunftsraum knowledge import`` runs (extraction,
hashing, embedding, file and row), into a temporary SQLite file and data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from rank_bm25 import BM25Okapi

from benchmarks.bench_matching_speed import PostGenerator
from core.knowledge.search import GOOD, EntryDoc, KnowledgeEngine, Query
from core.matching.semantic import SentenceEncoder, post_text, quantize

DATA = Path(__file__).resolve().parent / "data"
K = 5


def load(name: str) -> list[dict]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def ndcg(ranked: list[int], grades: dict[int, int], k: int = K) -> float:
    gain = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return gain / best if best else 0.0


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def quality(encoder) -> None:
    entries, queries = load("knowledge_entries.jsonl"), load("knowledge_queries.jsonl")
    texts = [post_text(e["title"], e["summary"], e["topics"]) for e in entries]
    vectors = quantize(encoder.encode(texts))
    docs = [
        EntryDoc(e["id"], e["title"], e["summary"], tuple(e["topics"]), e["text"], v)
        for e, v in zip(entries, vectors, strict=True)
    ]
    engine = KnowledgeEngine()
    engine.bulk_upsert(docs)
    ids = [e["id"] for e in entries]
    bm25 = BM25Okapi(
        [words(" ".join([e["title"], e["summary"], *e["topics"], e["text"]])) for e in entries]
    )
    judged = [q for q in queries if q["judgments"]]
    empty = [q for q in queries if not q["judgments"]]
    scores: dict[str, list[float]] = {"search": [], "words only": [], "plain BM25": []}
    for q in judged:
        grades = {int(k): v for k, v in q["judgments"].items()}
        vector = encoder.encode([q["query"]])[0]
        both = [h.entry_id for h in engine.search(Query(q["query"], vector), K)]
        lexical = [h.entry_id for h in engine.search(Query(q["query"]), K)]
        plain = np.argsort(-bm25.get_scores(words(q["query"])), kind="stable")[:K]
        scores["search"].append(ndcg(both, grades))
        scores["words only"].append(ndcg(lexical, grades))
        scores["plain BM25"].append(ndcg([ids[i] for i in plain], grades))
    print(f"quality: {len(entries)} entries, {len(judged)} judged queries, {len(empty)} empty")
    for name, values in scores.items():
        print(f"  nDCG@{K} {name:<11} {statistics.mean(values):.3f}")
    delta = statistics.mean(scores["search"]) - statistics.mean(scores["plain BM25"])
    print(f"  search - plain BM25: {delta:+.3f} (target >= +0.15)")
    good = 0
    for q in empty:
        hits = engine.search(Query(q["query"], encoder.encode([q["query"]])[0]), 1)
        good += bool(hits and hits[0].score >= GOOD)
    print(f"  queries with nothing to find whose best hit counts as good: {good}/{len(empty)}")
    found_good = sum(
        1
        for q in judged
        if (h := engine.search(Query(q["query"], encoder.encode([q["query"]])[0]), 1))
        and h[0].score >= GOOD
    )
    print(f"  judged queries whose best hit counts as good: {found_good}/{len(judged)}")


def speed(encoder, count: int, query_count: int) -> None:
    generator = PostGenerator()
    entries = load("knowledge_entries.jsonl")
    queries = [q["query"] for q in load("knowledge_queries.jsonl")]
    rng = random.Random(7)
    docs = []
    for i in range(count):
        real = entries[i % len(entries)]
        docs.append(
            EntryDoc(
                i + 1,
                f"{real['title']} {generator.words(1, 4)}",
                f"{real['summary']} {generator.words(10, 30)}",
                tuple(real["topics"]),
                f"{real['text']} {generator.words(150, 600)}",
                generator.vector(i + 1),
            )
        )
    engine = KnowledgeEngine()
    t0 = time.perf_counter()
    engine.bulk_upsert(docs)
    build = time.perf_counter() - t0
    asked = [rng.choice(queries) for _ in range(query_count)]
    measured: dict[str, tuple[list[float], list[float]]] = {
        "search incl. query encoding": ([], []),
        "  query encoding alone": ([], []),
        "  search alone": ([], []),
    }
    for text in asked:
        t0, c0 = time.perf_counter(), time.process_time()
        vector = encoder.encode([text])[0]
        t1, c1 = time.perf_counter(), time.process_time()
        engine.search(Query(text, vector), K)
        t2, c2 = time.perf_counter(), time.process_time()
        for name, wall, cpu in (
            ("search incl. query encoding", t2 - t0, c2 - c0),
            ("  query encoding alone", t1 - t0, c1 - c0),
            ("  search alone", t2 - t1, c2 - c1),
        ):
            measured[name][0].append(wall * 1000)
            measured[name][1].append(cpu * 1000)
    bm25 = BM25Okapi([words(" ".join([d.title, d.summary, d.text])) for d in docs])
    baseline: tuple[list[float], list[float]] = ([], [])
    for text in asked[:50]:
        t0, c0 = time.perf_counter(), time.process_time()
        np.argsort(-bm25.get_scores(words(text)))[:K]
        baseline[0].append((time.perf_counter() - t0) * 1000)
        baseline[1].append((time.process_time() - c0) * 1000)
    measured["plain BM25Okapi full scan"] = baseline
    print(f"speed: {count} entries indexed in {build:.1f} s; {len(asked)} queries (BM25: 50)")
    print("  (CPU time of this process is less sensitive to a busy machine than wall time)")
    print(f"  {'':<30}{'wall p50':>10}{'wall p95':>10}{'CPU p50':>10}{'CPU p95':>10}")
    for name, (wall, cpu) in measured.items():
        figures = [statistics.median(wall), np.percentile(wall, 95)]
        figures += [statistics.median(cpu), np.percentile(cpu, 95)]
        print(f"  {name:<30}" + "".join(f"{f:>8.1f}ms" for f in figures))
    print("  target: search incl. query encoding, p95 <= 30 ms")


async def import_pdfs(count: int) -> None:
    from core.knowledge.files import FileStore
    from core.knowledge.importing import import_planned, plan
    from core.knowledge.library import KnowledgeLibrary
    from core.municipalities.reference import ensure_municipalities
    from core.store.schema import upgrade
    from core.store.unit_of_work import Database
    from tests.knowledge_files import pdf_bytes

    entries = load("knowledge_entries.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pdfs"
        folder.mkdir()
        t0 = time.perf_counter()
        # One real PDF per labelled entry; the others are copies with their own document
        # title in the metadata (distinct bytes, so none is refused as a duplicate).
        bases = [pdf_bytes(e["title"], [e["summary"], e["text"]]) for e in entries[:count]]
        for i in range(count):
            data = bases[i % len(bases)] if i < len(bases) else _variant(bases[i % len(bases)], i)
            (folder / f"dokument-{i + 1:04d}.pdf").write_bytes(data)
        written = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in folder.iterdir()) / count / 1024
        db = Database(f"sqlite+aiosqlite:///{tmp}/zr.db")
        await upgrade(db)
        await ensure_municipalities(db)
        library = KnowledgeLibrary(files=FileStore(Path(tmp) / "data"))
        library.index.vector("Bürgerbus", "", ())  # the model is loaded before timing
        items = plan(folder, None)
        t0 = time.perf_counter()
        report = await import_planned(db, library, items, lambda: _now())
        took = time.perf_counter() - t0
        await db.dispose()
    print(f"import: {count} PDFs of {size:.0f} KB on average (written in {written:.0f} s)")
    print(
        f"  {len(report.added)} imported, {len(report.failed)} refused in {took:.1f} s: "
        f"{len(report.added) / took:.1f} files/s"
    )


def _variant(data: bytes, number: int) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.add_metadata({"/Title": f"Dokument {number}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pdfs", type=int, default=1_000)
    parser.add_argument(
        "--only",
        choices=("quality", "speed", "import"),
        help="run one part (e.g. --only speed on a quiet machine, about a minute)",
    )
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}")
    encoder = SentenceEncoder()
    encoder.encode(["Bürgerbus"])
    if args.only in (None, "quality"):
        quality(encoder)
    if args.only in (None, "speed"):
        speed(encoder, args.entries, args.queries)
    if args.only in (None, "import") and args.pdfs:
        asyncio.run(import_pdfs(args.pdfs))
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
