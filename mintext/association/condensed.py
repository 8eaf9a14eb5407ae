"""Closed and maximal itemsets: the frequent itemsets that no frequent superset makes redundant.

- *closed*: no superset has the same count (every frequent itemset's count
  is that of its smallest closed superset, so the closed ones keep all the
  counts);
- *maximal*: no superset is frequent (every frequent itemset is a subset of
  a maximal one, so they keep which itemsets are frequent, not their counts).

Both are read off the levels of :func:`~mintext.association.itemsets.frequent_itemsets`:
an itemset ``X`` of length ``k`` has a superset of the same count (a frequent
superset) exactly when one of its immediate supersets ``X + i`` has it
(counts can only fall as items are added), and every ``X + i`` is in level
``k + 1``. So each row of level ``k + 1`` marks its ``k + 1`` subsets of
length ``k``, found by hash: an itemset's hash is the sum of random odd
64-bit codes of its items, so dropping an item is one subtraction, and the
codes are redrawn until the hashes of each level are distinct (then a lookup
can only find the subset itself, and the result is exact). With ``max_len``
the longest level has no supersets to look at: its itemsets count as closed
and maximal (as with pyfim's ``zmax``).

>>> from mintext.association.baskets import Baskets
>>> from mintext.association.itemsets import frequent_itemsets
>>> found = frequent_itemsets(Baskets.from_iterable([["a", "b"], ["a", "b", "c"], ["a"]]), min_count=1)
>>> condensed(found, "closed").to_frame()
     itemset  length  count   support
0       (a,)       1      3  1.000000
1     (a, b)       2      2  0.666667
2  (a, b, c)       3      1  0.333333
>>> condensed(found, "maximal").to_frame()
     itemset  length  count   support
0  (a, b, c)       3      1  0.333333
"""

from __future__ import annotations

import numpy as np

from mintext.association.baskets import Baskets
from mintext.association.closure import mined_condensed, pays
from mintext.association.itemsets import DEFAULT_MEMORY, FrequentItemsets, Level, frequent_itemsets, odd_item_codes
from mintext.errors import UsageError

KINDS = ("closed", "maximal")
HASH_SEED = 7_919
ROWS_PER_BLOCK = 1 << 18  # rows of a level whose subsets are looked up at once


def condensed(found: FrequentItemsets, kind: str) -> FrequentItemsets:
    """The ``kind`` (``closed`` or ``maximal``) itemsets among ``found``, in the same order, with their counts."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if found.closures is not None and _closures_pay(found, kind):
        return _from_closures(found, kind)
    levels = []
    for k, level in enumerate(found.levels, start=1):
        above = found.levels[k] if k < len(found.levels) else None
        keep = _without_superset(level, above, found, equal_count=kind == "closed")
        levels.append(Level(level.itemsets[keep], level.counts[keep]))
    while levels and not len(levels[-1]):
        levels.pop()
    return FrequentItemsets(items=found.items, levels=levels, n_baskets=found.n_baskets, min_count=found.min_count)


PAIRS_PER_BLOCK = 1 << 22  # mask pairs compared at once
LOOKUP_PAIRS = 100  # a subset looked up by hash costs about as much as comparing this many pairs of masks


def _closures_pay(found: FrequentItemsets, kind: str) -> bool:
    """Whether comparing closure candidates pairwise (within groups of equal count for closed itemsets) costs
    less than looking up every frequent itemset's subsets, as measured: about ``LOOKUP_PAIRS`` pairs a lookup."""
    closures = found.closures
    if kind == "closed":
        _, sizes = np.unique(closures.counts, return_counts=True)
    else:
        sizes = np.array([np.count_nonzero(closures.leaf)])
    pairs = int(np.dot(sizes.astype(np.float64), sizes.astype(np.float64)) // 2)
    lookups = sum(len(level) * (k + 1) for k, level in enumerate(found.levels[1:], start=1))
    return pairs <= LOOKUP_PAIRS * lookups


def _from_closures(found: FrequentItemsets, kind: str) -> FrequentItemsets:
    """Closed or maximal itemsets from the closure candidates of the masked miner (at most 64 frequent items):
    a candidate is closed unless another candidate of the same count contains it (the closure of a non-closed
    candidate is a candidate); a maximal itemset is a leaf candidate that no other leaf candidate contains
    (a frequent superset lies within a maximal itemset, itself a leaf)."""
    closures = found.closures
    masks, first = np.unique(closures.masks, return_index=True)
    counts = closures.counts[first]
    if kind == "closed":
        keep = _not_contained(masks, counts, same_count=True)
    else:
        leaf = np.zeros(len(masks), bool)
        leaf[np.searchsorted(masks, closures.masks[closures.leaf])] = True
        masks, counts = masks[leaf], counts[leaf]
        keep = _not_contained(masks, counts, same_count=False)
    levels = closures.levels(masks[keep], counts[keep])
    while levels and not len(levels[-1]):
        levels.pop()
    return FrequentItemsets(items=found.items, levels=levels, n_baskets=found.n_baskets, min_count=found.min_count)


def _not_contained(masks: np.ndarray, counts: np.ndarray, same_count: bool) -> np.ndarray:
    """A mask of the (distinct) ``masks`` that no other one contains (with ``same_count``: none of the same
    count). A set can only be within a larger one: sorted by group (the count, with ``same_count``) and size
    descending, each row is compared with the rows before it in its group, in blocks of about
    ``PAIRS_PER_BLOCK`` pairs."""
    sizes = np.bitwise_count(masks).astype(np.int64)
    group = counts if same_count else np.zeros(len(masks), np.int64)
    order = np.lexsort((-sizes, group))
    masks, sizes, group = masks[order], sizes[order], group[order]
    contained = np.zeros(len(masks), bool)
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    for first, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        at = first
        while at < end:
            stop = min(end, at + max(1, PAIRS_PER_BLOCK // (end - first)))
            rows, others = slice(at, stop), slice(first, stop)
            within = (masks[rows, None] & ~masks[None, others]) == 0
            within &= sizes[rows, None] < sizes[None, others]
            contained[rows] = within.any(axis=1)
            at = stop
    keep = np.empty(len(masks), bool)
    keep[order] = ~contained
    return keep


def _without_superset(level: Level, above: Level | None, found: FrequentItemsets, equal_count: bool) -> np.ndarray:
    """A mask of the rows of ``level`` (length k) that no row of ``above`` (length k + 1) contains, or, with
    ``equal_count``, none that has the same count."""
    keep = np.ones(len(level), bool)
    if above is None or not len(above) or not len(level):
        return keep
    codes, hashes = _distinct_hashes(level.itemsets, len(found.items))
    order = np.argsort(hashes)
    sorted_hashes = hashes[order]
    for start in range(0, len(above), ROWS_PER_BLOCK):
        rows = above.itemsets[start : start + ROWS_PER_BLOCK]
        whole = codes[rows].sum(axis=1, dtype=np.uint64)
        for dropped in range(rows.shape[1]):
            subsets = order[np.searchsorted(sorted_hashes, whole - codes[rows[:, dropped]])]
            if equal_count:
                subsets = subsets[level.counts[subsets] == above.counts[start : start + ROWS_PER_BLOCK]]
            keep[subsets] = False
    return keep


def _distinct_hashes(itemsets: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Item codes under which the rows of ``itemsets`` have distinct hashes, and those hashes."""
    seed = HASH_SEED
    while True:
        codes = odd_item_codes(n_items, seed)
        hashes = codes[itemsets].sum(axis=1, dtype=np.uint64)
        if len(np.unique(hashes)) == len(hashes):
            return codes, hashes
        seed += 1


def with_count_at_least(found: FrequentItemsets, min_count: int) -> FrequentItemsets:
    """The itemsets of ``found`` whose count is at least ``min_count`` (the frequent itemsets at that threshold,
    when it is not below ``found.min_count``), in the same order."""
    levels = [Level(level.itemsets[level.counts >= min_count], level.counts[level.counts >= min_count])
              for level in found.levels]
    while levels and not len(levels[-1]):
        levels.pop()
    return FrequentItemsets(items=found.items, levels=levels, n_baskets=found.n_baskets,
                            min_count=max(min_count, found.min_count))


def top_itemsets(
    baskets: Baskets,
    n: int,
    *,
    at_most: bool = False,
    closed: bool = False,
    min_count: int = 1,
    max_len: int | None = None,
    memory: int = DEFAULT_MEMORY,
    progress: bool = False,
) -> FrequentItemsets:
    """The frequent (with ``closed``, the closed) itemsets of the highest counts, for a first look without
    choosing a support.

    ``at_most=False`` (``--top N``): every itemset whose count is at least the
    n-th highest count, so n of them, more when several tie at that count.
    ``at_most=True`` (``--max-itemsets N``): the itemsets at the lowest
    threshold that gives at most n of them (none when more than n tie at the
    highest count). Either way the result is every frequent (closed) itemset
    at its ``min_count``, which is at least ``min_count``.

    Mining starts at the n-th (n + 1-th) highest item count, which yields at
    least n (n + 1) frequent itemsets, and halves the threshold while too
    few closed ones are found (mined directly on dense data, see
    :func:`~mintext.association.closure.pays`).
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise UsageError(f"--top and --max-itemsets need a whole number >= 1, got {n}")
    need = n + 1 if at_most else n
    item_counts = np.sort(baskets.item_counts())[::-1]
    threshold = max(min_count, int(item_counts[need - 1]) if len(item_counts) >= need else min_count)
    while True:
        if closed and max_len is None and pays(baskets, threshold, memory):
            found = mined_condensed(baskets, min_count=threshold, kind="closed", memory=memory)
        else:
            found = frequent_itemsets(baskets, min_count=threshold, max_len=max_len, memory=memory,
                                      progress=progress)
            if closed:
                found = condensed(found, "closed")
        if len(found) >= need or threshold <= min_count:
            break
        threshold = max(min_count, threshold // 2)
    if len(found) <= n:
        return found
    counts = np.sort(np.concatenate([level.counts for level in found.levels]))[::-1]
    return with_count_at_least(found, int(counts[n]) + 1 if at_most else int(counts[n - 1]))
