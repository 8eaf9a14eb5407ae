"""Frequent itemsets depth-first by their rarest item, written as they are found, in memory that does not grow
with their number.

The level-wise miner (:func:`~mintext.association.itemsets.frequent_itemsets`)
holds every frequent itemset until it has sorted them all. Here the itemsets
are split into *groups* by their rarest frequent item ``a`` (the items ranked
by count ascending, ties in item order): group ``a`` is ``{a}`` and every
frequent itemset of the *conditional baskets* of ``a``, the baskets that
contain ``a`` restricted to the items ranked after it, each with ``a`` added
(its count there is its count with ``a`` in the whole input). The groups are
disjoint and together hold every frequent itemset once. Each group is mined
with the level-wise miner (vectorised over packed bitsets, with perfect
extensions) and handed out at once, so only one group is held at a time: a
group that would need more than ``memory`` is split again the same way, by
its rarest item after ``a``, recursively (depth first, as in Eclat or LCM,
with the level-wise miner at the leaves).

Order (part of the output, the same from run to run): groups by their item's
rank (count ascending, then the natural item order); within a group, ``{a}``
first, then the itemsets by length, then count (descending), then their other
items; a group split again follows the same rule inside, with ``a`` a prefix.
The content is that of :func:`frequent_itemsets`; for its order, sort (the
level-wise miner's output is sorted).

>>> from mintext.association.baskets import Baskets
>>> data = Baskets.from_iterable([["a", "b"], ["a", "b", "c"], ["a"], ["c"]])
>>> [(level.itemsets.tolist(), level.counts.tolist()) for level in stream_itemsets(data, min_count=2)]
[([[1]], [2]), ([[0, 1]], [2]), ([[2]], [2]), ([[0]], [3])]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mintext.association.baskets import Baskets
from mintext.association.itemsets import (
    DEFAULT_MEMORY,
    Level,
    MemoryLimitError,
    frequent_itemsets,
    item_ranks,
    support_threshold,
)
from mintext.errors import UsageError


def stream_itemsets(
    baskets: Baskets,
    *,
    min_support: float | None = None,
    min_count: int | None = None,
    max_len: int | None = None,
    memory: int = DEFAULT_MEMORY,
) -> Iterator[Level]:
    """Every frequent itemset, in blocks of one length (a :class:`Level` of item ids, each row in natural item
    order, and counts), in the order of the module docstring.

    Thresholds and ``max_len`` as in :func:`frequent_itemsets`; ``memory``
    bounds each group (a group needing more is split). Raises
    :class:`UsageError` for impossible options, before the first block.
    """
    if max_len is not None and (int(max_len) != max_len or max_len < 1):
        raise UsageError(f"--max-len must be a whole number >= 1, got {max_len}")
    if baskets.n_baskets == 0:
        raise UsageError("there are no baskets to mine")
    threshold = support_threshold(baskets.n_baskets, min_support, min_count)
    order = _Order(item_ranks(baskets.items))
    return _groups(baskets, np.zeros(0, np.int32), threshold, max_len, memory, order)


class _Order:
    """The natural item order: each item id's position in it, and back."""

    def __init__(self, position: np.ndarray) -> None:
        self.position = position
        self.item_at = np.empty(len(position), np.int32)
        self.item_at[position] = np.arange(len(position), dtype=np.int32)

    def with_prefix(self, prefix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``rows`` (n, k) of item ids, each with the items of ``prefix`` added, in natural order."""
        full = np.empty((len(rows), len(prefix) + rows.shape[1]), np.int64)
        full[:, : len(prefix)] = self.position[prefix]
        full[:, len(prefix) :] = self.position[rows]
        full.sort(axis=1)
        return self.item_at[full]


def _groups(
    baskets: Baskets, prefix: np.ndarray, threshold: int, max_len: int | None, memory: int, order: _Order
) -> Iterator[Level]:
    """The itemsets ``prefix + X`` for every X frequent in ``baskets`` (baskets that all hold ``prefix``, whose
    items are ranked after it), group by group: X's rarest item, then the rest (see the module docstring)."""
    counts = baskets.item_counts()
    frequent = np.flatnonzero(counts >= threshold)
    ranked = frequent[np.lexsort((order.position[frequent], counts[frequent]))]  # count ascending, then item order
    rank_of = np.full(baskets.n_items, -1, np.int64)
    rank_of[ranked] = np.arange(len(ranked))
    occurrence_rank = rank_of[baskets.indices]
    by_item = _baskets_of_each_item(baskets, occurrence_rank, len(ranked))
    for rank, item in enumerate(ranked.tolist()):
        group = np.append(prefix, np.int32(item)).astype(np.int32)
        yield Level(order.with_prefix(group, np.zeros((1, 0), np.int32)), np.array([counts[item]], np.int64))
        if max_len is not None and len(group) >= max_len:
            continue
        inner = _conditional(baskets, occurrence_rank, by_item[rank], rank)
        if len(inner.indices):
            yield from _mined(inner, group, threshold, max_len, memory, order)


def _mined(
    baskets: Baskets, prefix: np.ndarray, threshold: int, max_len: int | None, memory: int, order: _Order
) -> Iterator[Level]:
    """``prefix + X`` for every X frequent in ``baskets``: mined at once when that fits in ``memory``, else
    split into groups again."""
    try:
        found = frequent_itemsets(
            baskets, min_count=threshold, max_len=None if max_len is None else max_len - len(prefix), memory=memory
        )
    except MemoryLimitError:
        yield from _groups(baskets, prefix, threshold, max_len, memory, order)
        return
    for level in found.levels:
        yield Level(order.with_prefix(prefix, level.itemsets), level.counts)


def _baskets_of_each_item(baskets: Baskets, occurrence_rank: np.ndarray, n_ranked: int) -> list[np.ndarray]:
    """For each rank, the baskets (ascending) that hold the item of that rank."""
    basket_of = np.repeat(np.arange(baskets.n_baskets), np.diff(baskets.indptr))
    ranked = occurrence_rank >= 0
    ranks, owners = occurrence_rank[ranked], basket_of[ranked]
    by_rank = np.argsort(ranks, kind="stable")
    bounds = np.searchsorted(ranks[by_rank], np.arange(n_ranked + 1))
    owners = owners[by_rank]
    return [owners[bounds[r] : bounds[r + 1]] for r in range(n_ranked)]


def _conditional(baskets: Baskets, occurrence_rank: np.ndarray, holding: np.ndarray, rank: int) -> Baskets:
    """The baskets ``holding`` the item of ``rank``, each restricted to the frequent items ranked after it."""
    starts = baskets.indptr[holding]
    lengths = baskets.indptr[holding + 1] - starts
    total = int(lengths.sum())
    cells = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    keep = occurrence_rank[cells] > rank
    kept = np.zeros(len(holding) + 1, np.int64)
    np.cumsum(np.add.reduceat(keep, np.cumsum(lengths) - lengths) if total else np.zeros(0, np.int64),
              out=kept[1:])
    return Baskets(baskets.items, kept, baskets.indices[cells[keep]])
