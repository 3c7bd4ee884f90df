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


def test_one_far_off_id_below_the_column_limit_does_not_allocate_the_column():
    slots = SlotMap()
    slots[DENSE_IDS - 1] = 0
    slots[3] = 1
    assert slots._dense.nbytes < 4 * 200_000  # not 256 MB for the one far-off id
    assert slots.get(DENSE_IDS - 1) == 0 and slots.get(3) == 1


def test_ids_kept_aside_move_into_the_column_when_it_grows_past_them():
    slots = SlotMap()
    slots[200_000] = 7  # far off while there are no posts yet: kept aside
    for post_id in range(60_000):
        slots[post_id] = post_id
    slots[250_000] = 8  # now dense enough: the column grows past 200,000
    assert slots._dense.size > 200_000 and not slots._sparse
    assert slots.get(200_000) == 7 and slots.get(250_000) == 8 and len(slots) == 60_002
    assert slots.pop(200_000) == 7 and 200_000 not in slots


def test_sequential_ids_stay_in_the_column():
    slots = SlotMap()
    for post_id in range(1, 100_001):
        slots[post_id] = post_id - 1
    assert not slots._sparse and slots._dense.nbytes < 4 * 200_000
    assert slots.get(100_000) == 99_999
