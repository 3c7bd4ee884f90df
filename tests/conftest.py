from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = Path(__file__).resolve().parent / "data"


def require_shared(subpath: str) -> Path:
    """Path below ../shared; skip when absent, but fail under CI where it must be present."""
    path = SHARED / subpath
    if path.exists():
        return path
    message = f"conformance material not found at {path} (../shared beside the project)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def read_id_list(name: str) -> set[str]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}
