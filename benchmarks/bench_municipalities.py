"""Time loading, index building and search over the bundled municipality list.

Usage: python benchmarks/bench_municipalities.py [--queries N] [--seed S]

The queries imitate someone typing: growing prefixes of real names (with and without umlauts,
in lower case), whole names, "Kreis ..." forms, postcodes, AGS keys and a few misses.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.municipalities.directory import (
    Municipality,
    MunicipalityIndex,
    fold_variants,
    load_bundled,
)


def typing_prefixes(name: str) -> list[str]:
    base = name.split(", ")[0]
    return [base[:n] for n in range(1, len(base) + 1)]


def make_queries(records: list[Municipality], count: int, rng: random.Random) -> list[str]:
    gemeinden = [m for m in records if len(m.ags) == 8]
    # Users mostly look for places with people; weight towards bigger ones, but not only those.
    weights = [m.population**0.5 + 10 for m in gemeinden]
    queries: list[str] = []
    while len(queries) < count:
        m = rng.choices(gemeinden, weights)[0]
        roll = rng.random()
        if roll < 0.45:
            queries.extend(typing_prefixes(m.name)[:12])
        elif roll < 0.60:
            queries.append(fold_variants(m.short_name)[-1])  # "dusseldorf"
        elif roll < 0.70:
            queries.append(f"Kreis {m.kreis_name.split()[-1][:5]}")
        elif roll < 0.82:
            queries.append(rng.choice(m.postcodes))
        elif roll < 0.92:
            queries.append(rng.choice([m.ags, m.kreis_ags]))
        else:
            queries.append(rng.choice(["xyzzy", "12345", "Qu", "Stadt", "bad k", "neu"]))
    return queries[:count]


def percentile(sorted_values: list[float], fraction: float) -> float:
    pos = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[pos]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()

    started = time.perf_counter()
    records = load_bundled()
    loaded = time.perf_counter()
    index = MunicipalityIndex(records)
    built = time.perf_counter()

    queries = make_queries(records, args.queries, random.Random(args.seed))
    timings_ms: list[float] = []
    hits = 0
    for query in queries:
        t0 = time.perf_counter()
        result = index.search(query, limit=10)
        timings_ms.append((time.perf_counter() - t0) * 1000)
        hits += bool(result)
    timings_ms.sort()

    print(f"records:        {len(records)}")
    print(f"load bundled:   {(loaded - started) * 1000:.0f} ms (gunzip + parse)")
    print(f"build index:    {(built - loaded) * 1000:.0f} ms")
    print(f"queries:        {len(queries)} ({hits} with results)")
    print(f"search p50:     {percentile(timings_ms, 0.50):.3f} ms")
    print(f"search p99:     {percentile(timings_ms, 0.99):.3f} ms")
    print(f"search max:     {timings_ms[-1]:.3f} ms")
    print(f"search mean:    {statistics.fmean(timings_ms):.3f} ms")


if __name__ == "__main__":
    main()
