"""Bounce classification against sisimai and flanker fixtures in ../shared/conformance/bounces.

Cases listed in data/bounce_conformance_passing.txt passed when the list was written and must
keep passing; the others are reported. Refresh the list with
``python benchmarks/bounce_conformance.py --write-passing`` after an improvement.
"""

from __future__ import annotations

import pytest

from tests.conftest import read_id_list, require_shared
from tests.support.conformance import check_listed

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

    def failure(case):
        outcome = run_case(case)
        if outcome.passed:
            return None
        got = f"{outcome.result.kind}/{outcome.result.severity} ({outcome.result.reason})"
        return f"expected {case.kind}/{case.severity}, got {got}"

    check_listed(cases.items(), read_id_list(PASSING_FILE), failure, "bounce fixtures")


def test_whole_corpus_parses_without_errors(cases):
    from mail.parsing import parse_mail

    for case in cases.values():
        parse_mail(case.path.read_bytes())
