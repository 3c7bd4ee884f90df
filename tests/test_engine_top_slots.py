"""The best slots of a score column, whether most of it is zero or nearly none is."""

from __future__ import annotations

import numpy as np
import pytest

from core.matching.engine import _top_slots


@pytest.mark.parametrize("share", [0.001, 0.1, 0.5, 0.9, 1.0])
def test_top_slots_are_the_best_above_the_threshold(share):
    rng = np.random.default_rng(5)
    scores = np.zeros(20_000, dtype=np.float32)
    chosen = rng.choice(scores.size, int(share * scores.size), replace=False)
    scores[chosen] = rng.permutation(chosen.size).astype(np.float32) + 1.0  # distinct
    found = _top_slots(scores, 1e-9, 300)
    expected = np.argsort(-scores, kind="stable")[: min(300, chosen.size)]
    assert sorted(found.tolist()) == sorted(expected.tolist())
