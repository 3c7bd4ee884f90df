"""Post id to index slot, in a column with a dictionary for far-off ids."""

from __future__ import annotations

import numpy as np

from core.matching.slots import DENSE_IDS, SlotMap


def test_slots_are_set_replaced_and_forgotten_like_a_dictionary():
    slots = SlotMap()
    ids = [5, 0, 70_000, DENSE_IDS + 3, -2, 1_023, 1_024]
    for slot, post_id in enumerate(ids):
        slots[post_id] = slot
    assert len(slots) == len(ids)
    assert [slots.get(i) for i in ids] == list(range(len(ids)))
    assert slots.get(6) is None and slots.get(10**12) is None
    assert 70_000 in slots and np.int64(5) in slots and "5" not in slots and 6 not in slots
    slots[5] = 99  # the post moved to a new slot: still one post
    assert len(slots) == len(ids) and slots.get(5) == 99
    assert slots.pop(5) == 99 and slots.pop(5) is None and 5 not in slots
    assert slots.pop(DENSE_IDS + 3) == 3 and slots.pop(-2) == 4
    assert len(slots) == len(ids) - 3
    assert slots._dense.nbytes < 4 * 200_000  # the column, not the far-off ids
