"""The projected vectors that pick the cosine shortlist, kept as int8 rows with a scale."""

from __future__ import annotations

import numpy as np

from core.matching.semantic import DIM, quantize
from core.matching.vectors import BLOCK, VectorColumn, _projection, query_vector


def test_shortlist_follows_the_float_projection_within_its_steps():
    rng = np.random.default_rng(3)
    count = BLOCK + 1_500  # two blocks
    floats = rng.standard_normal((count, DIM)).astype(np.float32)
    floats[: count // 2] += 2.0 * rng.standard_normal(DIM).astype(np.float32)  # a cluster
    rows = quantize(floats / np.linalg.norm(floats, axis=1, keepdims=True))
    column = VectorColumn()
    column.append([rows[i] for i in range(count)])
    column.clear(7)
    assert all(block.dtype == np.int8 for block in column._coarse)
    query = query_vector(rows[11])
    eligible = np.ones(count, dtype=bool)
    limit = 200
    found = column.shortlist(query, eligible, limit)
    assert found.size == limit and 7 not in found.tolist()
    units = rows.astype(np.float32)
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    estimate = (units @ _projection()) @ (query @ _projection())
    estimate[7] = -np.inf
    bar = np.sort(estimate)[-limit]
    assert estimate[found].min() >= bar - 0.03
    assert 11 in found.tolist()
