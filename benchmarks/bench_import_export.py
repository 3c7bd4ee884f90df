"""Bulk import and match export through the real command line.

    .venv/bin/python benchmarks/bench_import_export.py [--posts 1000] [GOLD.jsonl ...]

Part 1 imports N posts (variations of the labelled set's posts, spread over 200 real
municipalities) with `zukunftsraum import posts`, then `zukunftsraum matches export --format
json`, checks every line and prints the timings.

Part 2 reproduces the quality figures from the command line alone: it imports the labelled set
(every post by its own member, each in a different municipality), exports the proposals and
scores the export's `rank_for_request` against the judgments. Proposals are what members would
see (top 5 per post above the threshold), so these figures sit below the engine's own top-10
figures from bench_matching_quality.py; the plain-BM25 baseline is computed on the same set.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold import DEFAULT_GOLD, evaluate, load_gold
from core.municipalities.directory import load_bundled

EXPORT_KEYS = {
    "offer",
    "request",
    "score",
    "rank_for_request",
    "rank_for_offer",
    "reason",
    "status",
}


def cli(workdir: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "ZR_DATABASE_URL": f"sqlite:///{workdir / 'zr.db'}"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "zukunftsraum", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"zukunftsraum {' '.join(args)} failed: {result.stderr.strip()}")
    return elapsed, result.stdout


def towns(count: int) -> list[str]:
    gemeinden = [m for m in load_bundled() if m.kind == "gemeinde" and m.population > 2000]
    return [m.ags for m in random.Random(7).sample(gemeinden, count)]


def write_members(path: Path, ags_list: list[str]) -> list[str]:
    emails = [f"mitglied{i}@example.org" for i in range(len(ags_list))]
    with path.open("w", encoding="utf-8") as out:
        for email, ags in zip(emails, ags_list, strict=True):
            row = {
                "email": email,
                "name": f"Mitglied {email[8:-12]}",
                "role": "mayor",
                "municipality": ags,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return emails


def check_export(stdout: str) -> list[dict]:
    rows = [json.loads(line) for line in stdout.splitlines()]
    for row in rows:
        assert set(row) == EXPORT_KEYS, row
        assert 0.0 <= row["score"] <= 1.0 and row["rank_for_request"] >= 1 and row["reason"]
    return rows


def bulk(posts: int, gold_paths: list[Path]) -> None:
    gold = load_gold(*gold_paths)
    templates = list(gold.posts.values())
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        emails = write_members(workdir / "members.jsonl", towns(200))
        with (workdir / "posts.jsonl").open("w", encoding="utf-8") as out:
            for i in range(posts):
                doc = rng.choice(templates)
                row = {
                    "id": f"p{i}",
                    "kind": doc.kind,
                    "title": doc.title,
                    "body": f"{doc.body} (Variante {i})",
                    "author_email": rng.choice(emails),
                    "topics": list(doc.topics),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        first, _ = cli(workdir, "import", "members", "members.jsonl")
        import_s, out = cli(workdir, "import", "posts", "posts.jsonl")
        export_s, stdout = cli(workdir, "matches", "export", "--format", "json")
        rows = check_export(stdout)
    print(f"bulk: {posts} posts imported and matched in {import_s:.1f} s ({out.strip()})")
    print(f"bulk: export of {len(rows)} proposals in {export_s:.1f} s; every line valid, 7 keys")
    print(f"bulk: (first command incl. loading 11,197 municipalities: {first:.1f} s)")


def write_gold_files(workdir: Path, gold) -> None:
    """members.jsonl and posts.jsonl of a labelled set, one member per post, as importable."""
    emails = write_members(workdir / "members.jsonl", towns(len(gold.posts)))
    with (workdir / "posts.jsonl").open("w", encoding="utf-8") as out:
        for email, doc in zip(emails, gold.posts.values(), strict=True):
            row = {
                "id": str(doc.id),
                "kind": doc.kind,
                "title": doc.title,
                "body": doc.body,
                "author_email": email,
                "topics": list(doc.topics),
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def quality(gold_paths: list[Path]) -> None:
    gold = load_gold(*gold_paths)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        write_gold_files(workdir, gold)
        cli(workdir, "import", "members", "members.jsonl")
        cli(workdir, "import", "posts", "posts.jsonl")
        _, stdout = cli(workdir, "matches", "export", "--format", "json")
    ranked: dict[int, list[tuple[int, int]]] = {}
    for row in check_export(stdout):
        ranked.setdefault(int(row["request"]), []).append(
            (row["rank_for_request"], int(row["offer"]))
        )
    cli_figures = evaluate(gold, lambda request: [o for _, o in sorted(ranked.get(request.id, []))])
    print(
        "quality via CLI export (top-5 proposals per post): "
        f"nDCG@10 {cli_figures.ndcg10:.3f}, Recall@5 {cli_figures.recall5:.3f}, "
        f"MRR {cli_figures.mrr:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("gold", nargs="*", type=Path, default=[DEFAULT_GOLD])
    args = parser.parse_args()
    bulk(args.posts, args.gold)
    quality(args.gold)


if __name__ == "__main__":
    main()
