"""Which index slot holds which post: a column indexed by post id instead of a dictionary.

At 100,000 open posts a dict of int to int held about 11 MB (the dict and an int object for
every key and value); post ids are the database's, small and dense, so an int32 per id up
to the largest one costs 0.4 MB. Ids far beyond (never from a sequence, but possible in
principle) go to a small dictionary instead of stretching the column.
"""

from __future__ import annotations

import numpy as np

NONE = -1
# Ids below this are kept in the column (at most 4 bytes x this, 256 MB, in the worst case
# of one post with such an id; a sequence reaches it only after 64 million posts).
DENSE_IDS = 1 << 26


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
        if not 0 <= post_id < DENSE_IDS:
            self._sparse[post_id] = slot
            return
        if post_id >= self._dense.size:
            grown = np.full(max(post_id + 1, 2 * self._dense.size, 1024), NONE, dtype=np.int32)
            grown[: self._dense.size] = self._dense
            self._dense = grown
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
