"""Print how well ``classify`` agrees with the bounce conformance suites in ../shared.

With --write-passing the ids of the passing cases are written to
tests/data/bounce_conformance_passing.txt, the regression list the tests enforce.

Usage: python benchmarks/bounce_conformance.py [-v] [--write-passing]   (-v lists the failing cases)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bounce_cases import load_cases, run_case


def main(argv: list[str]) -> int:
    try:
        cases = load_cases()
    except FileNotFoundError as missing:
        print(f"conformance material not found: {missing}")
        return 2
    outcomes = [run_case(case) for case in cases]
    by_suite = defaultdict(list)
    for outcome in outcomes:
        by_suite[outcome.case.suite].append(outcome)
    print(f"{'suite':10} {'pass':>13} {'kind':>13} {'recipients':>13} {'status':>13}")
    for suite, items in sorted(by_suite.items()):
        print(
            f"{suite:10} {_ratio([o.passed for o in items]):>13} "
            f"{_ratio([o.kind_ok for o in items]):>13} "
            f"{_ratio([o.count_ok for o in items if o.count_ok is not None]):>13} "
            f"{_ratio([o.status_ok for o in items if o.status_ok is not None]):>13}"
        )
    print("pass = kind and hard/soft severity both match")
    if "-v" in argv:
        for o in outcomes:
            if not o.passed:
                c, r = o.case, o.result
                print(
                    f"FAIL {c.id}: expected {c.kind}/{c.severity} got {r.kind}/{r.severity} "
                    f"reason={r.reason} status={r.status} n={len(r.recipients)}"
                )
    if "--write-passing" in argv:
        _write_passing([o.case.id for o in outcomes if o.passed])
    return 0


def _write_passing(ids: list[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "tests" / "data" / "bounce_conformance_passing.txt"
    header = "# ids of conformance cases that pass; a regression on any of them fails the tests\n"
    path.write_text(header + "".join(f"{i}\n" for i in sorted(ids)), "utf-8")
    print(f"wrote {len(ids)} ids to {path}")


def _ratio(flags: list[bool]) -> str:
    if not flags:
        return "-"
    passed = sum(flags)
    return f"{passed}/{len(flags)} {100 * passed / len(flags):.0f}%"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
