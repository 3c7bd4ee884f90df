"""Print the pass rate of ``extract_reply`` per conformance suite in ../shared.

With --write-passing the ids of the passing cases are written to
tests/data/reply_conformance_passing.txt, the regression list the tests enforce.

Usage: python benchmarks/reply_conformance.py [-v] [--write-passing]   (-v lists the failing cases)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.reply_cases import load_cases, run_case


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    try:
        cases = load_cases()
    except FileNotFoundError as missing:
        print(f"conformance material not found: {missing}")
        return 2
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # passed, applicable, n/a
    failures = []
    passing = []
    for case in cases:
        row = totals[case.suite]
        if not case.applicable:
            row[2] += 1
            continue
        outcome = run_case(case)
        row[1] += 1
        row[0] += outcome.passed
        if outcome.passed:
            passing.append(case.id)
        else:
            failures.append(outcome)
    print(f"{'suite':32} {'passed':>7} {'cases':>6} {'rate':>7} {'n/a':>5}")
    grand = [0, 0]
    for suite, (passed, applicable, skipped) in sorted(totals.items()):
        grand[0] += passed
        grand[1] += applicable
        print(f"{suite:32} {passed:7} {applicable:6} {_rate(passed, applicable):>7} {skipped:5}")
    print(f"{'all':32} {grand[0]:7} {grand[1]:6} {_rate(*grand):>7}")
    if verbose:
        for outcome in failures:
            print(f"\nFAIL {outcome.case.id}: {'; '.join(outcome.failed)}")
            print("  output: " + repr(outcome.output[:300]))
    if "--write-passing" in argv:
        _write_passing(passing)
    return 0


def _write_passing(ids: list[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "tests" / "data" / "reply_conformance_passing.txt"
    header = "# ids of conformance cases that pass; a regression on any of them fails the tests\n"
    path.write_text(header + "".join(f"{i}\n" for i in sorted(ids)), "utf-8")
    print(f"wrote {len(ids)} ids to {path}")


def _rate(passed: int, total: int) -> str:
    return f"{100 * passed / total:.1f}%" if total else "-"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
