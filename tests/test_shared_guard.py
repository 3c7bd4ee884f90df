from __future__ import annotations

import pytest

from tests import conftest


def test_missing_shared_skips_locally(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        conftest.require_shared("conformance/bounces")


def test_missing_shared_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        conftest.require_shared("conformance/bounces")
