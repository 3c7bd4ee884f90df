"""Locate material in ``../shared`` beside the repository root.

The conformance data is not part of the repository. On a fresh clone elsewhere the tests that
need it skip with a clear reason; under ``CI=true`` the material must be present, so its absence
is a failure rather than a silent skip.
"""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT.parent / "shared"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def shared_path(*parts: str) -> Path:
    """Return ``../shared/<parts>``; skip (or fail under CI) when it does not exist."""
    path = SHARED_DIR.joinpath(*parts)
    if path.exists():
        return path
    unavailable(f"{path} is absent: conformance material is expected in ../shared beside the repo")


def unavailable(reason: str) -> None:
    """Something a test needs is missing: skip locally, but fail under CI=true."""
    if running_in_ci():
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(f"{reason} (absent here; CI fails instead of skipping)")
