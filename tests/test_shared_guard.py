"""Material from ../shared: skipped locally when absent, a failure under CI."""

from __future__ import annotations

import pytest

from tests.support import shared


def test_missing_shared_skips_locally(monkeypatch, tmp_path):
    monkeypatch.setattr(shared, "SHARED_DIR", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        shared.shared_path("conformance", "bounces")


def test_missing_shared_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(shared, "SHARED_DIR", tmp_path / "absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        shared.shared_path("conformance", "bounces")
