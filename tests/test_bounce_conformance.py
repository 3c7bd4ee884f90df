"""Bounce classification against sisimai and flanker fixtures in ../shared/conformance/bounces.

Cases listed in data/bounce_conformance_passing.txt passed when the list was written and must
keep passing; the others are reported. Refresh the list with
``python benchmarks/bounce_conformance.py --write-passing`` after an improvement.
"""

from __future__ import annotations

import pytest

from tests.conftest import read_id_list, require_shared

PASSING_FILE = "bounce_conformance_passing.txt"


@pytest.fixture(scope="module")
def cases():
    require_shared("conformance/bounces")
    from benchmarks.bounce_cases import load_cases

    return {case.id: case for case in load_cases()}


def test_every_listed_case_still_exists(cases):
    missing = read_id_list(PASSING_FILE) - set(cases)
    assert not missing, f"listed cases not found in the fixtures: {sorted(missing)}"


def test_listed_cases_pass_and_others_are_reported(cases):
    from benchmarks.bounce_cases import run_case

    kept = read_id_list(PASSING_FILE)
    regressions, known = [], []
    for case_id, case in sorted(cases.items()):
        outcome = run_case(case)
        if outcome.passed:
            continue
        got = f"{outcome.result.kind}/{outcome.result.severity} ({outcome.result.reason})"
        line = f"{case_id}: expected {case.kind}/{case.severity}, got {got}"
        (regressions if case_id in kept else known).append(line)
    assert not regressions, "regressions:\n" + "\n".join(regressions)
    if known:
        print(f"\n{len(known)} bounce fixtures fail (known, not asserted):")
        print("\n".join(known))


def test_whole_corpus_parses_without_errors(cases):
    from mail.parsing import parse_mail

    for case in cases.values():
        parse_mail(case.path.read_bytes())
