"""Reply extraction against other projects' fixtures in ../shared/conformance/email-replies.

Cases listed in data/reply_conformance_passing.txt passed when the list was written and must
keep passing; the others are reported as expected failures. Refresh the list with
``python benchmarks/reply_conformance.py --write-passing`` after an improvement.
"""

from __future__ import annotations

import pytest

from tests.conftest import read_id_list, require_shared
from tests.support.conformance import check_listed

PASSING_FILE = "reply_conformance_passing.txt"


@pytest.fixture(scope="module")
def cases():
    require_shared("conformance/email-replies")
    from benchmarks.reply_cases import load_cases

    return {case.id: case for case in load_cases()}


def test_every_listed_case_still_exists(cases):
    missing = read_id_list(PASSING_FILE) - set(cases)
    assert not missing, f"listed cases not found in the fixtures: {sorted(missing)}"


def test_listed_cases_pass_and_others_are_reported(cases):
    from benchmarks.reply_cases import run_case

    def failure(case):
        if not case.applicable:
            return None
        outcome = run_case(case)
        return None if outcome.passed else str(outcome.failed)

    check_listed(cases.items(), read_id_list(PASSING_FILE), failure, "reply fixtures")
