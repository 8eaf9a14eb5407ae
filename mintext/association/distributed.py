"""Frequent itemsets on a cluster: the Count Distribution scheme (Agrawal and Shafer, 1996).

The baskets are contiguous partitions, about two per worker thread, each kept
on a worker (:meth:`~mintext.cluster.executor.Executor.keep`): read there from
byte ranges of the input, or shipped from here
(:mod:`~mintext.association.cluster_baskets`). Then, level by level:

1. the item counts are counted per partition and summed here; the frequent
   items become *positions* (their display order, as in
   :func:`~mintext.association.itemsets.frequent_itemsets`), and each worker
   turns its partition into one bitset per frequent item (a bit per basket);
   level 2 is every pair at once: each worker counts the pairs its baskets hold;
2. from level 3 on, the candidates of length k + 1 are generated here from the frequent
   k-itemsets (joins of two that share their first k - 1 items, pruned of those
   with an infrequent k-subset) and shared with every worker once;
3. each worker counts every candidate in its partition (an AND of its items'
   bitsets and a popcount) and sends the counts back; the sum over the
   partitions is the candidate's support, exactly.

Only candidates and counts travel per level; the result is a
:class:`~mintext.association.itemsets.FrequentItemsets` with the same levels,
in the same order, as the local miner's, and the rules are made from it here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mintext.association.cluster_baskets import ClusterBaskets
from mintext.association.itemsets import FrequentItemsets, _display_order, mining_threshold, natural_order
from mintext.cluster.executor import Executor
from mintext.io.progress import progress_bar

COUNT_BLOCK_BYTES = 1 << 25  # ANDed words of a block of candidates on a worker


def item_bitsets(part: tuple[np.ndarray, np.ndarray], position_of: np.ndarray, n_frequent: int) -> np.ndarray:
    """One row of bits per frequent item (``position_of[item]``, -1 if not frequent), bit b set when basket b
    of the partition holds it: a ``(n_frequent, ceil(baskets / 64))`` uint64 array."""
    indptr, indices = part
    n = len(indptr) - 1
    words = max(1, (n + 63) // 64)
    basket = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    position = position_of[indices]
    keep = position >= 0
    basket, position = basket[keep], position[keep].astype(np.int64)
    cell = position * words + basket // 64
    bit = np.left_shift(np.uint64(1), (basket % 64).astype(np.uint64))
    order = np.argsort(cell, kind="stable")
    cell, bit = cell[order], bit[order]
    bits = np.zeros(n_frequent * words, dtype=np.uint64)
    if cell.size:
        starts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
        bits[cell[starts]] = np.bitwise_or.reduceat(bit, starts)  # an item is in a basket once: distinct bits
    return bits.reshape(n_frequent, words)


def pair_counts(part: tuple[np.ndarray, np.ndarray], position_of: np.ndarray, n_frequent: int) -> tuple[np.ndarray, np.ndarray]:
    """Level 2 of a partition, every pair of frequent items at once: the codes ``p * n_frequent + q`` (p < q
    positions) of the pairs its baskets hold, and in how many baskets each."""
    indptr, indices = part
    basket = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    position = position_of[indices].astype(np.int64)
    keep = position >= 0
    basket, position = basket[keep], position[keep]
    order = np.lexsort((position, basket))
    basket, position = basket[order], position[order]
    ends = np.searchsorted(basket, basket, side="right")  # each element: the end of its basket
    partners = ends - np.arange(basket.size) - 1
    left = np.repeat(np.arange(basket.size), partners)
    right = left + 1 + np.arange(left.size) - np.repeat(np.cumsum(partners) - partners, partners)
    return np.unique(position[left] * n_frequent + position[right], return_counts=True)


def candidate_counts(bitsets: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Baskets of a partition that hold every item (positions) of each candidate row."""
    m, k = candidates.shape
    counts = np.zeros(m, dtype=np.int64)
    words = bitsets.shape[1]
    block = max(1, COUNT_BLOCK_BYTES // (8 * words))
    for start in range(0, m, block):
        rows = candidates[start : start + block]
        both = bitsets[rows[:, 0]] & bitsets[rows[:, 1]]
        for j in range(2, k):
            both &= bitsets[rows[:, j]]
        counts[start : start + block] = np.bitwise_count(both).sum(axis=1, dtype=np.int64)
    return counts


def next_candidates(level: np.ndarray) -> np.ndarray:
    """Apriori-gen: from the frequent k-itemsets (rows of ascending positions), the (k + 1)-itemsets all of whose
    k-subsets are among them, rows ascending and sorted."""
    m, k = level.shape
    if m < 2:
        return np.zeros((0, k + 1), dtype=np.int32)
    level = level[np.lexsort(level.T[::-1])]
    if k == 1:
        left, right = np.triu_indices(m, 1)
        return np.stack([level[left, 0], level[right, 0]], axis=1).astype(np.int32)
    same = np.all(level[1:, :-1] == level[:-1, :-1], axis=1)
    group_start = np.flatnonzero(np.concatenate(([True], ~same)))
    group_end = np.append(group_start[1:], m)
    ends = np.repeat(group_end, group_end - group_start)  # each row: the end of its prefix group
    partners = ends - np.arange(m) - 1
    left = np.repeat(np.arange(m), partners)
    offsets = np.arange(left.size) - np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + offsets
    candidates = np.concatenate([level[left], level[right, -1:]], axis=1).astype(np.int32)
    return candidates[_all_subsets_frequent(candidates, level)]


def _all_subsets_frequent(candidates: np.ndarray, level: np.ndarray) -> np.ndarray:
    """For each candidate, whether each k-subset that drops one of its first k - 1 items is in ``level``
    (the two that drop one of the last two items are the rows it was joined from)."""
    keys = _row_keys(level)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    keep = np.ones(len(candidates), dtype=bool)
    for drop in range(candidates.shape[1] - 2):
        subset = np.delete(candidates, drop, axis=1)
        wanted = _row_keys(subset)
        at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
        keep &= sorted_keys[at] == wanted
    return keep


def _row_keys(rows: np.ndarray) -> np.ndarray:
    """Each row of positions as one comparable value (its big-endian bytes)."""
    rows = np.ascontiguousarray(rows.astype(">u4"))
    return rows.view(f"V{4 * rows.shape[1]}").ravel()


def frequent_itemsets_on(
    executor: Executor, baskets: ClusterBaskets, *, min_support: float | None = None, min_count: int | None = None,
    max_len: int | None = None, progress: bool = False,
) -> FrequentItemsets:
    """:func:`~mintext.association.itemsets.frequent_itemsets` by Count Distribution on ``executor`` over the
    partitions of ``baskets`` kept there (:mod:`~mintext.association.cluster_baskets`): the same itemsets, counts
    and order (``closures`` left out: closed and maximal itemsets are then found by comparison). ``progress``: a
    bar of the counting tasks finished on the workers, on stderr."""
    threshold = mining_threshold(baskets, min_support, min_count, max_len)
    with progress_bar(progress, desc="counting", unit=" tasks") as bar:
        return _levels(executor, baskets, threshold, max_len, bar.update)


def _levels(
    executor: Executor, baskets: ClusterBaskets, threshold: int, max_len: int | None, done: Callable[[], Any]
) -> FrequentItemsets:
    """The levels of :func:`frequent_itemsets_on` at ``threshold``; ``done()`` as each task finishes."""
    n = baskets.n_baskets
    kept = baskets.partitions
    counts = baskets.item_counts()
    frequent = np.flatnonzero(counts >= threshold)
    item_ids = frequent[np.array(natural_order([baskets.items[i] for i in frequent.tolist()]), dtype=np.intp)]
    position_of = np.full(baskets.n_items, -1, dtype=np.int32)
    position_of[item_ids] = np.arange(len(item_ids), dtype=np.int32)
    level = np.arange(len(item_ids), dtype=np.int32)[:, None]
    levels = [_display_order(level, counts[item_ids], item_ids)] if len(item_ids) else []
    shared_positions = executor.share(position_of)
    if len(item_ids) > 1 and (max_len is None or max_len > 1):
        level, support = _frequent_pairs(executor, kept, shared_positions, len(item_ids), threshold, done)
        if len(level):
            levels.append(_display_order(level, support, item_ids))
    bitsets = executor.keep(item_bitsets, kept, shared_positions, len(item_ids), done=done) if level.shape[1] == 2 and len(level) else []
    while len(level) and level.shape[1] >= 2 and (max_len is None or level.shape[1] < max_len):
        candidates = next_candidates(level)
        if not len(candidates):
            break
        shared = executor.share(candidates)
        support = sum(executor.imap(_counts_of_shared, bitsets, shared, done=done))
        keep = support >= threshold
        level = candidates[keep]
        if len(level):
            levels.append(_display_order(level, support[keep], item_ids))
    return FrequentItemsets(items=baskets.items, levels=levels, n_baskets=n, min_count=threshold)


def _frequent_pairs(
    executor: Executor, kept: list, position_of: object, n_frequent: int, threshold: int,
    done: Callable[[], Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The frequent pairs (rows of ascending positions) and their counts: :func:`pair_counts` summed."""
    parts = list(executor.imap(pair_counts, kept, position_of, n_frequent, done=done))
    codes = np.concatenate([p[0] for p in parts])
    unique, inverse = np.unique(codes, return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([p[1] for p in parts]).astype(np.float64)).astype(np.int64)
    frequent = counts >= threshold
    unique = unique[frequent]
    return np.stack([unique // n_frequent, unique % n_frequent], axis=1).astype(np.int32), counts[frequent]


def _counts_of_shared(bitsets: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """A worker's task of a level: :func:`candidate_counts` of the shared candidates in its kept partition."""
    return candidate_counts(bitsets, candidates)
