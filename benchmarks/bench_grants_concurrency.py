"""Time concurrent grant submissions and decisions against one municipality's budget.

Usage: python benchmarks/bench_grants_concurrency.py [--database URL] [--drafts N]
                                                    [--engines E] [--seed S]

Runs on a SQLite file (WAL) and, when a PostgreSQL URL is given (``--database`` or
``ZR_TEST_DATABASE_URL``), on PostgreSQL. For each it prints the time of the mixed load
run concurrently over E engines and, as the baseline measured in the same run, the same
operations one after another; then whether budget row, ledger and applications agree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import grant_load
from core.kernel.money import format_euro


async def measure(url: str, drafts: int, engines: int, seed: int) -> None:
    for mode in ("concurrent", "sequential"):
        created = await grant_load.prepare(url, drafts=drafts, seed=seed)
        ops = grant_load.operations(created, seed=seed)
        if mode == "concurrent":
            outcome = await grant_load.run_concurrently(url, ops, engines=engines)
        else:
            outcome = await grant_load.run_sequentially(url, ops)
        result = await grant_load.check(url)
        ok = sum(n for (_, status), n in outcome.results.items() if status == "ok")
        print(
            f"  {mode:<10} {outcome.operations:>5} transactions in {outcome.seconds:6.2f} s "
            f"({outcome.operations / outcome.seconds:7.1f}/s, {ok} changed state) · "
            f"committed {format_euro(result.committed_cents)} of "
            f"{format_euro(result.cap_cents)} · ledger "
            f"{'balanced' if result.balanced else 'NOT BALANCED'} · "
            f"max approvals per application {result.approvals_per_application_max}"
        )
    await grant_load.drop(url)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("ZR_TEST_DATABASE_URL", ""))
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--engines", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite (file, WAL)", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        if args.database.startswith("postgres"):
            targets.append(("PostgreSQL", args.database))
        else:
            print("PostgreSQL: skipped (give --database or ZR_TEST_DATABASE_URL)")
        print(
            f"{args.drafts} drafts of one municipality, each submitted and approved, "
            f"some approved twice at once, rejected or withdrawn; two rounds; "
            f"{args.engines} engines"
        )
        for name, url in targets:
            print(name)
            await measure(url, args.drafts, args.engines, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
