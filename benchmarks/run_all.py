"""Run every benchmark in turn; each prints its figures beside its baseline.

    .venv/bin/python benchmarks/run_all.py           # full sizes (Telegram broadcast ~7 min)
    .venv/bin/python benchmarks/run_all.py --quick   # smaller sizes, a few minutes in all

PostgreSQL figures need ZR_TEST_DATABASE_URL (as for the tests).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments for --quick)
BENCHMARKS = [
    ("bench_municipalities.py", []),
    ("tune_matching.py", []),
    ("bench_matching_quality.py", []),
    ("bench_matching_speed.py", ["--posts", "20000", "--queries", "100"]),
    ("bench_matching_startup.py", ["--posts", "10000"]),
    ("bench_import_export.py", ["--posts", "300"]),
    ("reply_conformance.py", []),
    ("bounce_conformance.py", []),
    ("bench_email_ingest.py", ["--messages", "300", "--latency-runs", "10"]),
    ("bench_email_hostile.py", ["--messages", "2000", "--clean", "500", "--send", "300"]),
    ("bench_email_kills.py", ["--quick"]),
    (
        "bench_telegram_broadcast.py",
        [
            "--messages",
            "600",
            "--chats",
            "120",
            "--tight-messages",
            "150",
            "--latency-messages",
            "40",
        ],
    ),
    ("bench_grants_concurrency.py", ["--drafts", "100"]),
    ("bench_reminder_sweep.py", ["--events", "50"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    failed = []
    for script, quick_args in BENCHMARKS:
        print(f"\n=== {script}", flush=True)
        command = [sys.executable, str(HERE / script), *(quick_args if args.quick else [])]
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
