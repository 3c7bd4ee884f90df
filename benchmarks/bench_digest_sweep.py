"""The member-digest sweep of a weekly slot for many readers, as `zukunftsraum run` ticks it.

    .venv/bin/python benchmarks/bench_digest_sweep.py [--readers 2000] [--interests 200]
        [--ref COMMIT]

Builds a SQLite database with ``--readers`` consenting members (``--interests`` of them with
saved keywords), then runs the scheduler's tick twice in this process: the first tick builds
every reader's first digest (all are due), the second finds nothing due. Prints wall and CPU
time of each tick and the SQL statements the first one ran. With ``--ref``, the same script
runs against that commit's code (a temporary git worktree) right after this tree's, so both
figures come from the same minutes (before 8dc2f2d the sweep read each reader's posts and
interests one query at a time: `--ref 8dc2f2d~1`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


async def measure(tree: Path, readers: int, interests: int) -> None:
    sys.path.insert(0, str(tree))
    from sqlalchemy import event

    from benchmarks.bench_telegram_broadcast import BROADCAST_CHAT0, setup_database
    from core.kernel.clock import system_clock
    from core.members.accounts import NewMember, add_member
    from core.store.models import Interest

    workdir = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    try:
        db = await setup_database(workdir / "digest.db")
        async with db.uow() as uow:
            for number in range(readers):
                new = NewMember(
                    f"Person {number}",
                    "mayor",
                    "12073452",
                    telegram_chat_id=BROADCAST_CHAT0 + number,
                    consent=True,
                )
                member = await add_member(uow, new, system_clock())
                if number < interests:
                    keywords = "Bürgerbus Mitfahrbank"
                    uow.session.add(
                        Interest(member_id=member.id, keywords=keywords, updated_at=system_clock())
                    )
            await uow.commit()
        url = db.engine.url.render_as_string(hide_password=False)
        await db.dispose()
        os.environ["ZR_DATABASE_URL"] = url
        os.environ["ZR_DATA_DIR"] = str(workdir / "data")
        from scheduler.service import ticker_for
        from zukunftsraum.bootstrap import build_app
        from zukunftsraum.settings import Settings

        app = await build_app(Settings())
        ticker = ticker_for(app)
        statements: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        engine = app.db.engine.sync_engine
        for tick in (1, 2):
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            wall, cpu = time.perf_counter(), time.process_time()
            report = await ticker._tick()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            event.remove(engine, "before_cursor_execute", count)
            runs = report.counts.get("member_digest") if report else None
            print(
                f"  tick {tick}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                f"{len(statements)} SQL statements; member digests (runs, queued): {runs}"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def head(tree: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()


def run_in(tree: Path, args: argparse.Namespace) -> None:
    """This script against the code of ``tree``, in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZR_")}
    env["PYTHONPATH"] = str(tree)
    command = [sys.executable, __file__, "--readers", str(args.readers)]
    command += ["--interests", str(args.interests), "--tree", str(tree)]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode:
        print(f"  failed: {(result.stderr.splitlines() or ['?'])[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=2_000)
    parser.add_argument("--interests", type=int, default=200)
    parser.add_argument("--ref", default="", help="also measure this commit, same minutes")
    parser.add_argument("--tree", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tree is not None:
        asyncio.run(measure(args.tree, args.readers, args.interests))
        return
    print(f"{args.readers} readers ({args.interests} with saved interests), SQLite:")
    print(f"this tree (at {head(ROOT)}):")
    run_in(ROOT, args)
    if not args.ref:
        return
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(other), args.ref],
            check=True,
        )
        try:
            print(f"{args.ref}:")
            run_in(other, args)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False
            )


if __name__ == "__main__":
    main()
