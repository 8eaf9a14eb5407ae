"""A vectorised hash index from uint64 codes to row numbers (open addressing).

Segmentation looks up every substring of every run in the lexicon, tens of
millions of lookups per pass; ``np.searchsorted`` on random keys costs a
binary search each, while a hash table with linear probing needs about one
random access. Building and probing are NumPy loops over whole arrays: each
round of the loop resolves all keys whose current slot settles them.
"""

from __future__ import annotations

import numpy as np

EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_MULTIPLIER = np.uint64(0x9E37_79B9_7F4A_7C15)  # Fibonacci hashing


class CodeIndex:
    """Maps distinct uint64 codes to their position in the array given at build time.

    ``CodeIndex(codes).find(queries)`` returns, for each query, the index ``i``
    with ``codes[i] == query``, or -1. ``codes`` must be distinct and must not
    contain ``2**64 - 1`` (used to mark empty slots).
    """

    def __init__(self, codes: np.ndarray) -> None:
        codes = np.ascontiguousarray(codes, dtype=np.uint64)
        self.size = int(codes.size)
        self._bits = max(4, int(np.ceil(np.log2(max(2 * self.size, 16)))))
        slots = 1 << self._bits
        self._mask = np.int64(slots - 1)
        self._keys = np.full(slots, EMPTY, dtype=np.uint64)
        self._rows = np.full(slots, -1, dtype=np.int32 if self.size < 2**31 else np.int64)
        self._insert(codes)

    def _slot(self, codes: np.ndarray) -> np.ndarray:
        slot = codes * _MULTIPLIER
        slot >>= np.uint64(64 - self._bits)
        return slot.view(np.int64)  # under 2**bits: the same values, without a copy

    def _insert(self, codes: np.ndarray) -> None:
        pending = np.arange(codes.size, dtype=np.int64)
        slot = self._slot(codes)
        while pending.size:
            free = self._keys[slot] == EMPTY
            # several pending codes may want the same free slot: the first of each wins
            winners_slot, first = np.unique(slot[free], return_index=True)
            winners = pending[free][first]
            self._keys[winners_slot] = codes[winners]
            self._rows[winners_slot] = winners
            placed = np.zeros(codes.size, dtype=bool)
            placed[winners] = True
            keep = ~placed[pending]
            pending, slot = pending[keep], (slot[keep] + 1) & self._mask

    def find(self, queries: np.ndarray) -> np.ndarray:
        """Row of each query in the build array, -1 where absent (int64 array, same shape)."""
        queries = np.asarray(queries, dtype=np.uint64)
        flat = queries.ravel()
        slot = self._slot(flat)
        # slots are in range: "clip" only spares numpy's bounds check of every index
        keys = np.take(self._keys, slot, mode="clip")
        hit = keys == flat
        # first probe for everyone: found, or an empty slot (absent), or a collision to follow
        result = np.take(self._rows, slot, mode="clip").astype(np.int64)
        result[~hit] = -1
        todo = np.flatnonzero(~hit & (keys != EMPTY))
        slot = (slot[todo] + 1) & self._mask
        while todo.size:
            keys = np.take(self._keys, slot, mode="clip")
            hit = keys == flat[todo]
            result[todo[hit]] = np.take(self._rows, slot[hit], mode="clip")
            go_on = ~hit & (keys != EMPTY)
            todo, slot = todo[go_on], (slot[go_on] + 1) & self._mask
        return result.reshape(queries.shape)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CodeIndex({self.size} codes, {1 << self._bits} slots)"
