"""Which index slot holds which post: a column indexed by post id instead of a dictionary.

At 100,000 open posts a dict of int to int held about 11 MB (the dict and an int object for
every key and value); post ids are the database's, small and dense, so an int32 per id up
to the largest one costs 0.4 MB. Ids far beyond (never from a sequence, but possible in
principle) go to a small dictionary instead of stretching the column.
"""

from __future__ import annotations

import numpy as np

NONE = -1
# Ids below this may be kept in the column (4 bytes each; a sequence reaches it only
# after 64 million posts).
DENSE_IDS = 1 << 26
# The column grows to an id only while ids are dense: below this many times the number
# of posts plus a headroom (256 KB of column). One far-off id such as 2^26 - 1 would
# otherwise cost 256 MB; it goes to the dictionary until enough posts follow.
DENSE_SHARE = 4
DENSE_HEADROOM = 1 << 16


class SlotMap:
    def __init__(self) -> None:
        self._dense = np.full(0, NONE, dtype=np.int32)
        self._sparse: dict[int, int] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, post_id: object) -> bool:
        return isinstance(post_id, int | np.integer) and self.get(int(post_id)) is not None

    def get(self, post_id: int) -> int | None:
        if 0 <= post_id < self._dense.size:
            slot = int(self._dense[post_id])
            return None if slot == NONE else slot
        return self._sparse.get(post_id)

    def __setitem__(self, post_id: int, slot: int) -> None:
        if self.get(post_id) is None:
            self._count += 1
        if 0 <= post_id < self._dense.size:
            self._dense[post_id] = slot
            return
        dense_enough = post_id < min(DENSE_IDS, DENSE_SHARE * self._count + DENSE_HEADROOM)
        if post_id < 0 or not dense_enough:
            self._sparse[post_id] = slot
            return
        size = min(max(post_id + 1, 2 * self._dense.size, 1024), DENSE_IDS)
        grown = np.full(size, NONE, dtype=np.int32)
        grown[: self._dense.size] = self._dense
        self._dense = grown
        # Ids kept in the dictionary while the column was shorter move into it, so that
        # ``get`` finds every id below the column's size there.
        for moved in [i for i in self._sparse if 0 <= i < size]:
            self._dense[moved] = self._sparse.pop(moved)
        self._dense[post_id] = slot

    def pop(self, post_id: int) -> int | None:
        """The post's slot, forgotten; None when it has none."""
        slot = self.get(post_id)
        if slot is None:
            return None
        self._count -= 1
        if 0 <= post_id < self._dense.size:
            self._dense[post_id] = NONE
        else:
            del self._sparse[post_id]
        return slot
