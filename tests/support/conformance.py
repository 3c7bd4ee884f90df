"""Conformance suites kept as regression tests: listed cases must keep passing."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def check_listed(
    cases: Iterable[tuple[str, object]],
    kept: set[str],
    failure: Callable[[object], str | None],
    label: str,
) -> None:
    """Assert no listed case regressed; print the known failures of the others.

    ``failure(case)`` returns None when the case passes, else a one-line description.
    """
    regressions, known = [], []
    for case_id, case in sorted(cases):
        problem = failure(case)
        if problem is not None:
            (regressions if case_id in kept else known).append(f"{case_id}: {problem}")
    assert not regressions, "regressions:\n" + "\n".join(regressions)
    if known:
        print(f"\n{len(known)} {label} fail (known, not asserted):")
        print("\n".join(known))
