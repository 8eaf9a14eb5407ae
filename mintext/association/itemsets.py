"""Frequent itemsets: level-wise Apriori over packed bitsets, vectorised with numpy.

The algorithm (``docs/apriori.md`` has the long version):

1. Count items (one ``bincount`` over the baskets' CSR arrays) and keep those
   with ``count >= min_count``. Frequent items get *ranks* in ascending order of
   count, which keeps prefix groups small.
2. Count all pairs of frequent items in one pass over the baskets (each basket
   contributes its pairs; a ``bincount`` over pair codes), and build for each
   frequent pair ``(i, j)`` its bitset: one bit per basket that contains ``i``
   (the pair's rarest item), set when that basket also contains ``j``.
3. Level ``k`` to ``k + 1``: candidates are joins of two frequent ``k``-itemsets
   that share their first ``k - 1`` items (all vectorised: prefix groups, then
   every pair within a group). Optionally prune candidates with an infrequent
   ``k``-subset (a hashed lookup). The support of ``P + y + z`` is the popcount
   of ``bits(P + y) & bits(P + z)``: one AND per candidate, in blocks of
   bounded size. Frequent candidates keep their AND as their bitset.

Every itemset's bitset is indexed by the baskets of its first (rarest) item,
so it has ``ceil(count(first item) / 64)`` words rather than one word per 64
baskets of the whole input: on sparse data that is often a hundredth of it.
Since ranks follow counts, itemsets of equal width are contiguous and each
width class is a dense 2-D array.

>>> from mintext.association.baskets import Baskets
>>> found = frequent_itemsets(Baskets.from_iterable([["a", "b"], ["a", "b", "c"], ["a"]]), min_count=2)
>>> found.to_frame()
  itemset  length  count   support
0    (a,)       1      3  1.000000
1    (b,)       1      2  0.666667
2  (a, b)       2      2  0.666667
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from mintext.association.baskets import Baskets
from mintext.errors import MintextError, UsageError
from mintext.io.progress import progress_bar

DEFAULT_MEMORY = 2 << 30  # bytes of bitsets and itemsets the miner may hold
BLOCK_BYTES = 1 << 23  # temporaries per block of pairs
CANDIDATE_BYTES = 1 << 21  # words per block of candidates: their AND and popcount stay in cache
PAIR_TABLE_CELLS = 1 << 24  # largest dense table of pair counts (F x F cells) kept at once
NARROW_WIDTH = 24  # popcounts of rows narrower than this are added column by column
PRUNE_WIDTH = 512  # prune candidates whose bitsets have at least this many words (see _SubsetIndex)
HASH_SEED = 20240611
MASKED_ITEMS = 64  # with at most this many frequent items, levels are put in display order by bit masks
ITEMSET_COLUMNS = ("itemset", "length", "count", "support")  # of to_frame and of the itemset tables


def result_bytes(k: int) -> int:
    """Bytes a frequent k-itemset keeps in the result: its k int32 item ids and an int64 count."""
    return 4 * k + 8


def work_bytes(k: int) -> int:
    """Bytes a frequent k-itemset needs beyond its words while its level is built and put in display order.

    Counted from the arrays alive at the peak: while mining, its parent row
    (8), last item (4) and count (8) in the kept parts and again in their
    concatenation; then the rank matrix and its gather (4k each), the
    positions and their sorted copy (4k each), the sort orders (8 each, two)
    and the result's rows (4k + 8).
    """
    return 2 * 20 + 4 * k * 4 + 2 * 8 + result_bytes(k)


def masked_work_bytes(k: int) -> int:
    """Bytes a k-itemset needs while a level of 64-bit masks is built and sorted (see :class:`_MaskedLevels`):
    mask, count and extensions (8 each) as made and joined (three copies), the level's masks and counts
    (16), the sort key, order and working masks (8 each, six), its items as they are read back and the
    result's rows."""
    return 3 * 24 + 16 + 6 * 8 + 2 * 4 * k + result_bytes(k)


class MemoryLimitError(MintextError):
    """Mining would need more memory than ``--memory`` allows (exit status 1)."""


# --------------------------------------------------------------------------- thresholds


def mining_threshold(
    baskets: Baskets, min_support: float | None, min_count: int | None, max_len: int | None
) -> int:
    """:func:`support_threshold` of ``baskets`` once ``max_len`` and the baskets are checked: what every miner
    (here or on a cluster) checks before it starts. Raises :class:`UsageError` for a bad ``max_len`` or no baskets."""
    if max_len is not None and (int(max_len) != max_len or max_len < 1):
        raise UsageError(f"--max-len must be a whole number >= 1, got {max_len}")
    if baskets.n_baskets == 0:
        raise UsageError("there are no baskets to mine")
    return support_threshold(baskets.n_baskets, min_support, min_count)


def support_threshold(n_baskets: int, min_support: float | None = None, min_count: int | None = None) -> int:
    """The smallest basket count that is frequent: ``count >= min_count`` or ``count / n >= min_support``.

    Exactly one of ``min_support`` (a fraction in (0, 1]) and ``min_count``
    (a number of baskets, 1 to ``n_baskets``) may be given; with neither, the
    default support 0.01 applies. The count is at least 1: an itemset must
    occur to be reported. Raises :class:`UsageError` for values out of range.
    """
    if min_support is not None and min_count is not None:
        raise UsageError("give --min-support or --min-count, not both")
    if min_count is not None:
        if isinstance(min_count, bool) or int(min_count) != min_count or min_count < 1:
            raise UsageError(f"--min-count must be a whole number >= 1, got {min_count}")
        if min_count > n_baskets:
            raise UsageError(
                f"--min-count {min_count} is larger than the number of baskets ({n_baskets:,}); "
                f"nothing can be frequent: use at most {n_baskets}"
            )
        return int(min_count)
    support = 0.01 if min_support is None else min_support
    if not (isinstance(support, (int, float)) and 0 < support <= 1):
        raise UsageError(f"--min-support must be in (0, 1], got {support}")
    count = max(1, math.ceil(support * n_baskets))
    while count > 1 and (count - 1) / n_baskets >= support:  # float rounding: count / n >= support decides
        count -= 1
    while count / n_baskets < support:
        count += 1
    return count


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class Level:
    """The frequent itemsets of one length: ``itemsets`` (n, k) of item ids and their ``counts``."""

    itemsets: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)


@dataclass(frozen=True, eq=False)
class FrequentItemsets:
    """Frequent itemsets with their basket counts, in a deterministic order.

    ``levels[k - 1]`` holds the itemsets of length ``k``: item ids (names in
    ``items``) with each row's items in item order and rows sorted by count
    (descending), then by their items. Item order is natural: names that are
    whole numbers first, by value, then the others by code point.
    """

    items: list[str]
    levels: list[Level]
    n_baskets: int
    min_count: int
    closures: ClosureCandidates | None = None  # with perfect extensions and no max_len (see ClosureCandidates)

    def __len__(self) -> int:
        return sum(len(level) for level in self.levels)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(level):,}" for level in self.levels)
        return (
            f"FrequentItemsets({len(self):,} itemsets in {self.n_baskets:,} baskets, "
            f"min count {self.min_count:,}; by length: {sizes or 'none'})"
        )

    def to_frame(self):
        """A DataFrame with columns itemset (tuples of item names), length, count and support."""
        import pandas as pd

        names = np.array(self.items, dtype=object)
        itemsets = np.empty(len(self), dtype=object)
        at = 0
        with paused_gc():
            for length, level in enumerate(self.levels, start=1):
                # the names of a level row after row (intp ids: take converts none), then grouped by
                # ``length`` (one iterator zipped with itself)
                flat = iter(names.take(level.itemsets.ravel().astype(np.intp)).tolist())
                itemsets[at : at + len(level)] = np.fromiter(
                    zip(*[flat] * length, strict=True), dtype=object, count=len(level)
                )
                at += len(level)
        counts = np.concatenate([level.counts for level in self.levels]) if self.levels else np.zeros(0, np.int64)
        lengths = np.repeat(np.arange(1, len(self.levels) + 1, dtype=np.int64), [len(level) for level in self.levels])
        columns = dict(zip(ITEMSET_COLUMNS, (itemsets, lengths, counts, counts / self.n_baskets), strict=True))
        return pd.DataFrame(columns, copy=False)  # the arrays are new: no need to copy them


@dataclass(frozen=True, eq=False)
class ClosureCandidates:
    """Every closed itemset is among these, as 64-bit masks (see :class:`_MaskedLevels`) with their counts.

    When the miner leaves out perfect extensions, every frequent itemset is a
    core itemset X plus a subset S of its extensions ext(X), with the count
    of X; unless S is all of ext(X), X + ext(X) is a superset with the same
    count, so the closed itemsets are among the X + ext(X) (``masks``). The
    closure of any of them is one of them too. ``leaf`` marks those whose X
    has no frequent core extension in the mining tree: a maximal itemset's X
    is a leaf (any X + ext(X) + z, z frequent with X, would contain it).
    ``levels(masks, counts)`` puts masks back into sorted levels.
    """

    masks: np.ndarray
    counts: np.ndarray
    leaf: np.ndarray
    levels: Callable[[np.ndarray, np.ndarray], list[Level]]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: building many tuples otherwise triggers collections
    whose cost grows with everything already built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_INTEGER = re.compile(r"-?[0-9]+")


def _natural_key(name: str) -> tuple[int, int, str]:
    return (0, int(name), name) if _INTEGER.fullmatch(name) else (1, 0, name)


def natural_order(names: list[str]) -> list[int]:
    """Indices of ``names`` in natural order: whole numbers by value first, then by code point."""
    return sorted(range(len(names)), key=lambda i: _natural_key(names[i]))


def item_ranks(names: list[str]) -> np.ndarray:
    """Display position of each name in natural order: whole numbers by value first, then by code point."""
    order = natural_order(names)
    ranks = np.empty(len(names), np.int64)
    ranks[order] = np.arange(len(names))
    return ranks


# --------------------------------------------------------------------------- mining


def frequent_itemsets(
    baskets: Baskets,
    *,
    min_support: float | None = None,
    min_count: int | None = None,
    max_len: int | None = None,
    memory: int = DEFAULT_MEMORY,
    progress: bool = False,
) -> FrequentItemsets:
    """All itemsets contained in at least ``min_count`` baskets (or a ``min_support`` fraction of them).

    ``max_len`` bounds the itemset length (None: no bound). ``memory`` bounds
    the bytes of bitsets and itemsets held at once; a level that needs more
    raises :class:`UsageError` (raise the threshold or set ``max_len``).
    ``progress`` shows a bar per level on stderr (when it is a terminal).
    """
    threshold = mining_threshold(baskets, min_support, min_count, max_len)
    n = baskets.n_baskets
    item_counts = baskets.item_counts()
    masked = int(np.count_nonzero(item_counts >= threshold)) <= MASKED_ITEMS
    miner = _Miner(baskets, threshold, memory, progress, item_counts, perfect=masked)
    # frequent items in display order: position among them, by rank, and back to item ids (only the frequent
    # items' names are sorted; names are distinct, so their order is that of all names)
    by_rank = np.concatenate((miner.item_ids, miner.universal_ids))  # the items in every basket rank last
    display = np.array(natural_order([baskets.items[i] for i in by_rank.tolist()]), np.intp)
    position = np.empty(len(display), np.int32)
    position[display] = np.arange(len(display))
    item_ids = by_rank[display]
    if masked:
        sink = _MaskedLevels(position, item_ids, n, miner.check_memory, miner.check_level)
    else:
        sink = _SortedLevels(position, item_ids)
    miner.run(max_len, sink.add)
    sink.finish(max_len)
    closures = sink.closures() if masked and max_len is None else None
    return FrequentItemsets(items=baskets.items, levels=sink.levels, n_baskets=n, min_count=threshold,
                            closures=closures)


_HIGH_BIT_FIRST = np.left_shift(np.uint64(1), np.arange(63, -1, -1, dtype=np.uint64))  # p -> bit 63 - p


def _display_order(positions: np.ndarray, counts: np.ndarray, item_ids: np.ndarray) -> Level:
    """A level in display order, from its itemsets as positions in the display order of the frequent items.

    Each row's items are sorted; rows go by count (descending), then by their
    items, compared as sequences. When fewer 64-bit words than items per row
    can say which items a row has, rows are compared by those bit masks
    (with item p at bit 63 - p % 64 of word p // 64, the larger mask is the
    smaller sequence among sets of equal size).
    """
    n, k = positions.shape
    positions = np.sort(positions, axis=1)
    words = (int(item_ids.size) + 63) // 64
    if n <= 1:
        order = np.arange(n)
    elif words == 1 and k > 1:  # one mask per row; rows are distinct sets, so an unstable sort is enough
        masks = _HIGH_BIT_FIRST[positions].sum(axis=1, dtype=np.uint64)
        order = np.argsort(~masks)
    elif words < k:
        bits = _HIGH_BIT_FIRST[positions % 64]
        keys = [~np.where(positions // 64 == w, bits, 0).sum(axis=1, dtype=np.uint64) for w in range(words)]
        order = np.lexsort(keys[::-1])
    else:
        order = np.lexsort(positions.T[::-1])
    order = _then_by_count(order, counts)
    return Level(item_ids[positions[order]].astype(np.int32, copy=False), counts[order])


def _then_by_count(order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``order`` sorted by count, descending, keeping it among equal counts (radix sort for small counts)."""
    rank = counts.max(initial=0) - counts
    rank = rank.astype(np.uint16) if rank.max(initial=0) < 1 << 16 else rank
    return order[np.argsort(rank[order], kind="stable")]


class _SortedLevels:
    """Levels in display order by sorting their item matrices (any number of frequent items)."""

    def __init__(self, position: np.ndarray, item_ids: np.ndarray) -> None:
        self.position = position
        self.item_ids = item_ids
        self.levels: list[Level] = []

    def add(self, rows: _RankRows, counts: np.ndarray, perfect: tuple[np.ndarray, np.ndarray] | None) -> int:
        """Put a mined level in display order; returns the bytes it holds."""
        if len(rows):
            self.levels.append(_display_order(self.position[rows.matrix], counts, self.item_ids))
        return rows.nbytes + counts.nbytes

    def finish(self, max_len: int | None) -> None:
        pass


class _MaskedLevels:
    """Levels in display order when there are at most 64 frequent items, with perfect extensions.

    Every itemset is a 64-bit mask: item p (its position in the display
    order of the frequent items) is bit 63 - p, so that among sets of equal
    size the larger mask is the smaller sequence of items.

    The miner leaves out *perfect extensions* (Borgelt): when a row P + z
    of a prefix group has the count of P, every basket with P has z, so
    each itemset P + Y found below P has the twin P + Y + z with the same
    count. The miner reports such rows (``perfect``: their parent rows and
    last items) and mines only the other rows, the *core*; here every
    itemset is a core row X plus a subset S of its extensions ``ext(X)``
    (the perfect items of the groups from the root down to X's own; at the
    root, the items in every basket), with the count of X. Level k holds
    the core rows of length k and, for every row (X, S) of level k - 1 and
    every extension e of X below the lowest extension in S, the row
    (X, S + e): each subset is made once, its elements added from the
    highest bit down. A core row's mask is its parent's with its last
    item's bit set (one gather and one OR per level).

    Rows are sorted by one key (count descending, then mask descending)
    when both fit in 64 bits, else by mask and then stably by count. The
    rows' items in display order are read back from the sorted masks,
    lowest set bit first: its bit number is the exponent of its value as a
    float32 (exact, a power of two).
    """

    def __init__(
        self,
        position: np.ndarray,
        item_ids: np.ndarray,
        n_baskets: int,
        check: Callable[[int, int], None],
        keep: Callable[[int, int], None],
    ) -> None:
        """``check(level, transient)`` raises when ``transient`` more bytes would pass the memory limit;
        ``keep(level, nbytes)`` counts ``nbytes`` of a level built after the mining against it."""
        self.n_items = len(item_ids)
        self.bit_of_rank = _HIGH_BIT_FIRST[position]
        self.item_of_exponent = item_of_exponent(item_ids)
        self.check = check
        self.keep = keep
        self.levels: list[Level] = []
        self._candidates: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # see ClosureCandidates
        # the level below, starting from the root (the empty itemset, in every basket): its core rows (masks,
        # counts, extensions inherited from above) and its other rows (masks, counts, extensions left)
        self.k = 0
        self.core = (np.zeros(1, np.uint64), np.array([n_baskets], np.int64), np.zeros(1, np.uint64))
        self.twins = (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint64))

    def add(self, rows: _RankRows, counts: np.ndarray, perfect: tuple[np.ndarray, np.ndarray] | None) -> int:
        """Level k from its core ``rows`` (parents: core rows of level k - 1) and the perfect rows found with
        them; returns the bytes the level holds."""
        masks, below_counts, inherited = self.core
        extensions = inherited.copy()  # the core rows below get the perfect items of their own groups
        if perfect is not None and len(perfect[0]):
            np.bitwise_or.at(extensions, perfect[0], self.bit_of_rank[perfect[1]])
        parents = rows.parents if rows.parents is not None else np.zeros(len(rows), np.intp)
        leaf = np.ones(len(masks), bool)
        leaf[parents] = False
        self._candidates.append((masks | extensions, below_counts, leaf))  # X + ext(X), now that ext(X) is known
        core = (np.take(masks, parents) | self.bit_of_rank[rows.last], counts, np.take(extensions, parents))
        below = tuple(np.concatenate(pair) for pair in zip((masks, below_counts, extensions), self.twins, strict=True))
        self._check_level(rows.k, core, below)
        return self._level(rows.k, core, _extended(*below))

    def _check_level(self, k: int, core: tuple[np.ndarray, ...], below: tuple[np.ndarray, ...]) -> None:
        """Raise before building level k when its core rows and the twins of the rows ``below`` would pass the
        memory limit (the twins: one per extension bit of a row below)."""
        n = len(core[0]) + int(np.bitwise_count(below[2]).sum(dtype=np.int64))
        self.check(k, 48 * len(below[0]) + n * masked_work_bytes(k))

    def finish(self, max_len: int | None) -> None:
        """The levels above the last mined one: extensions of its rows only (the miner found no longer core
        rows, or stopped at ``max_len``)."""
        empty = (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint64))
        if max_len is None and len(self.core[0]):  # mining stopped below (under two frequent items): no more ext
            masks, counts, extensions = self.core
            self._candidates.append((masks | extensions, counts, np.ones(len(masks), bool)))
        while max_len is None or self.k < max_len:
            below = tuple(np.concatenate(pair) for pair in zip(self.core, self.twins, strict=True))
            if not np.any(below[2]):
                break
            self._check_level(self.k + 1, empty, below)
            self.keep(self.k + 1, self._level(self.k + 1, empty, _extended(*below)))

    def closures(self) -> ClosureCandidates:
        """The closure candidates X + ext(X) of every core itemset X (the empty one only if items are in every
        basket), once mining is done without ``max_len``."""
        masks, counts, leaf = (np.concatenate(part) for part in zip(*self._candidates, strict=True))
        keep = masks != 0
        return ClosureCandidates(masks[keep], counts[keep], leaf[keep], self._sorted_levels)

    def _sorted_levels(self, masks: np.ndarray, counts: np.ndarray) -> list[Level]:
        """Itemsets given as masks, one sorted level per length (empty levels for missing lengths)."""
        sizes = np.bitwise_count(masks)
        top = int(sizes.max(initial=0))
        return [self._display(masks[sizes == k], counts[sizes == k], k) for k in range(1, top + 1)]

    def _level(self, k: int, core: tuple[np.ndarray, ...], twins: tuple[np.ndarray, ...]) -> int:
        self.k, self.core, self.twins = k, core, twins
        masks = np.concatenate((core[0], twins[0]))
        counts = np.concatenate((core[1], twins[1]))
        if len(masks):
            self.levels.append(self._display(masks, counts, k))
        return len(masks) * (4 * k + 8)

    def _display(self, masks: np.ndarray, counts: np.ndarray, k: int) -> Level:
        return masked_level(masks, counts, k, self.n_items, self.item_of_exponent)


def item_of_exponent(item_ids: np.ndarray) -> np.ndarray:
    """For :func:`masked_level`: the item id at each bit, indexed by that bit's biased float32 exponent (127 + b
    -> the item of display position 63 - b; -1 where no item is)."""
    table = np.full(191, -1, np.int32)
    table[127 + 63 - np.arange(len(item_ids))] = item_ids
    return table


def masked_level(masks: np.ndarray, counts: np.ndarray, k: int, n_items: int, items_at: np.ndarray) -> Level:
    """A level in display order from distinct k-itemsets given as 64-bit masks (item at display position p is
    bit 63 - p; ``n_items`` positions are used) with their counts; ``items_at`` from :func:`item_of_exponent`.

    Rows are sorted by one key (count descending, then mask descending) when
    both fit in 64 bits, else by mask and then stably by count; each row's
    items are read back lowest set bit first (its bit number is the exponent
    of its value as a float32, exact for a power of two).
    """
    n = len(masks)
    rank = counts.max(initial=0) - counts  # count descending
    if int(rank.max(initial=0)).bit_length() + n_items <= 64:  # masks use their top n_items bits
        order = np.argsort((rank.astype(np.uint64) << np.uint64(n_items)) | (~masks >> np.uint64(64 - n_items)))
    else:  # distinct sets: an unstable sort by mask, then a stable one by count
        order = _then_by_count(np.argsort(~masks), counts)
    masks = masks[order]
    low = np.empty_like(masks)
    as_float = np.empty(n, np.float32)
    exponents = np.empty(n, np.int32)
    items = np.empty((k, n), np.int32)
    for column in range(k - 1, -1, -1):
        np.negative(masks, out=low)
        low &= masks
        as_float[:] = low
        np.right_shift(as_float.view(np.int32), 23, out=exponents)
        np.take(items_at, exponents, out=items[column], mode="clip")
        masks ^= low
    return Level(np.ascontiguousarray(items.T), counts[order])


def _extended(masks: np.ndarray, counts: np.ndarray, extensions: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every row with one more of its extensions, each below the row's remaining extensions' bits:
    (mask | e, count, extensions & (e - 1)) for every bit e of a row's extensions."""
    rows = np.flatnonzero(extensions)
    masks, counts, extensions = masks[rows], counts[rows], extensions[rows]
    rest = extensions.copy()
    found: list[tuple[np.ndarray, ...]] = []
    while len(rest):
        low = rest & np.negative(rest)
        found.append((masks | low, counts, extensions & (low - np.uint64(1))))
        rest ^= low
        more = np.flatnonzero(rest)
        if len(more) < len(rest):
            masks, counts, extensions, rest = masks[more], counts[more], extensions[more], rest[more]
    if not found:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint64)
    return tuple(np.concatenate(part) for part in zip(*found, strict=True))


class _RankRows:
    """The itemsets of one level in rank space, as mined: each row's last item and its parent row.

    ``parents[i]`` is the row of the level below that holds the first k - 1
    items of row i (None for single items). ``matrix``, the (n, k) ranks, is
    built only where it is needed (pruning, and the display order of more than
    64 frequent items): with more than 64 frequent items every level gets it
    from the level below's, with fewer no level has it.
    """

    def __init__(self, last: np.ndarray, parents: np.ndarray | None, k: int, matrix: np.ndarray | None) -> None:
        self.last = last
        self.parents = parents
        self.k = k
        self.matrix = matrix

    def __len__(self) -> int:
        return len(self.last)

    @property
    def nbytes(self) -> int:
        """Bytes of the matrix (built or not): what the level's itemsets take in the result."""
        return 4 * len(self) * self.k

    def next_level(self, last: np.ndarray, parents: np.ndarray) -> _RankRows:
        """The level above: rows ``parents`` of this one, each extended by ``last`` (a matrix if this has one)."""
        matrix = None
        if self.matrix is not None:
            matrix = np.empty((len(last), self.k + 1), np.int32)
            matrix[:, :-1] = np.take(self.matrix, parents, axis=0)
            matrix[:, -1] = last
        return _RankRows(last, parents, self.k + 1, matrix)


@dataclass
class _Bitsets:
    """Bitsets of a sorted level, in blocks of rows of one width.

    A row's width is the number of words of its bitset; widths never decrease
    from row to row, so each block is a dense 2-D array (rows x width). Every
    prefix group (rows sharing their first k - 1 items) lies within one block.
    """

    blocks: list[tuple[int, np.ndarray]]  # (first row of the block, its words: rows x width)

    @classmethod
    def from_runs(cls, parts: list[np.ndarray], rows: list[int]) -> _Bitsets:
        """From consecutive 2-D parts (``rows[i]`` = first row of part i), each made of whole prefix groups.

        Consecutive small parts of one width are joined (fewer, larger blocks
        to work on); a part of ``CANDIDATE_BYTES / 4`` or more stays as it is.
        """
        blocks: list[tuple[int, np.ndarray]] = []
        run: list[np.ndarray] = []
        start = size = 0
        for part, first in zip(parts, rows, strict=True):
            if not len(part):
                continue
            if run and (part.shape[1] != run[0].shape[1] or size + part.nbytes > CANDIDATE_BYTES // 4):
                blocks.append((start, run[0] if len(run) == 1 else np.concatenate(run)))
                run, size = [], 0
            if not run:
                start = first
            run.append(part)
            size += part.nbytes
        if run:
            blocks.append((start, run[0] if len(run) == 1 else np.concatenate(run)))
        return cls(blocks)

    def select(self, keep: np.ndarray) -> _Bitsets:
        """The bitsets of the rows where ``keep`` (a boolean per row) is set, renumbered."""
        blocks = []
        row = 0
        for first, words in self.blocks:
            chosen = keep[first : first + len(words)]
            n = int(np.count_nonzero(chosen))
            if n:
                blocks.append((row, words if n == len(words) else words[chosen]))
            row += n
        return _Bitsets(blocks)

    @property
    def nbytes(self) -> int:
        return sum(block.nbytes for _, block in self.blocks)

    @property
    def widest(self) -> int:
        return self.blocks[-1][1].shape[1] if self.blocks else 0


class _Miner:
    """State of one mining run, in rank space (rank r = the r-th least frequent frequent item)."""

    def __init__(
        self, baskets: Baskets, threshold: int, memory: int, progress: bool, counts: np.ndarray, perfect: bool
    ) -> None:
        """``counts``: of every item. With ``perfect``, perfect extensions are left out of the mining (see
        :class:`_MaskedLevels`): the items in every basket (perfect at the root) get no rank but are listed
        in ``universal_ids``, and ``found`` gets the perfect rows of each level."""
        self.baskets = baskets
        self.threshold = threshold
        self.memory = memory
        self.progress = progress
        self.perfect = perfect
        frequent = np.flatnonzero(counts >= threshold)
        universal = counts[frequent] == baskets.n_baskets
        self.universal_ids = frequent[universal].astype(np.int32) if perfect else np.zeros(0, np.int32)
        if perfect:
            frequent = frequent[~universal]
        order = np.lexsort((frequent, counts[frequent]))
        self.item_ids = frequent[order].astype(np.int32)  # rank -> item id
        self.item_counts = counts[self.item_ids]
        self.rank_of = np.full(baskets.n_items, -1, np.int64)
        self.rank_of[self.item_ids] = np.arange(len(self.item_ids))
        self.held = 0  # bytes of frequent itemsets kept for the result

    @property
    def n_frequent(self) -> int:
        return len(self.item_ids)

    def run(self, max_len: int | None, found: Callable[..., int]) -> None:
        """Mine level by level; ``found(rows, counts, perfect)`` gets each level as soon as it is complete
        (rows sorted lexicographically by rank, so rows with the same parent are contiguous) and returns the
        bytes it keeps. ``perfect`` (None unless ``self.perfect``) holds the parent rows and last items of
        the level's perfect rows, which ``rows`` leave out; at level 1 the parent is the root (row 0)."""
        singles = np.arange(self.n_frequent, dtype=np.int32)
        rows = _RankRows(singles, None, 1, None if self.perfect else singles[:, None])
        at_root = len(self.universal_ids)  # the items in every basket rank after the others
        perfect = (np.zeros(at_root, np.intp), self.n_frequent + np.arange(at_root)) if self.perfect else None
        self.check_level(1, found(rows, self.item_counts, perfect))
        if self.n_frequent < 2 or max_len == 1:
            return
        length = 2
        pairs, counts, bits = self._pairs(keep_bits=max_len != 2)
        perfect = None
        if self.perfect:
            pairs, counts, bits, perfect = _without_perfect_pairs(pairs, counts, bits, self.item_counts)
        rows = _RankRows(pairs[:, 1], pairs[:, 0].astype(np.int64), 2, None if self.perfect else pairs)
        while True:
            self.check_level(length, found(rows, counts, perfect))
            if bits is None or not len(counts):
                break
            length += 1
            rows, counts, bits, perfect = self._next_level(rows, counts, bits, keep_bits=max_len != length)

    def check_level(self, level: int, nbytes: int) -> None:
        """Count ``nbytes`` more of frequent itemsets (of length ``level``) against the memory limit."""
        self.held += nbytes
        self.check_memory(level)

    def check_memory(self, level: int, transient: int = 0) -> None:
        """Raise :class:`MemoryLimitError` if the itemsets found so far plus ``transient`` bytes (bitsets and
        working arrays about to be made) exceed the memory limit."""
        if self.held + transient > self.memory:
            raise MemoryLimitError(
                f"the frequent itemsets up to length {level} need {_size(self.held + transient)}, over the memory "
                f"limit of {_size(self.memory)}; raise --min-support/--min-count, set --max-len, raise --memory, "
                "or write them with --itemsets --stream"
            )

    def _widths(self, first_items: np.ndarray) -> np.ndarray:
        """Words per bitset of itemsets whose first (rarest) item is ``first_items``."""
        return (self.item_counts[first_items] + 63) // 64

    # ----------------------------------------------------------------- pairs

    def _pairs(self, keep_bits: bool) -> tuple[np.ndarray, np.ndarray, _Bitsets | None]:
        """Frequent 2-itemsets (sorted), their counts and (with ``keep_bits``) bitsets."""
        projected = _Projection(self.baskets, self.rank_of, self.item_counts)
        dense_cost = int(np.dot(self.item_counts, np.arange(self.n_frequent - 1, -1, -1)))
        if projected.dense_bytes() <= BLOCK_BYTES * 8 and dense_cost <= 16 * projected.n_pairs():
            return self._pairs_dense(projected, keep_bits)
        return self._pairs_sparse(projected, keep_bits)

    def _pairs_dense(self, projected: _Projection, keep_bits: bool):
        """Pairs from a dense items x baskets table: for each item, the later items' bits over its baskets.

        Every item's baskets get a slot each, padded to whole words (item a's
        i-th basket at bit ``64 * offsets[a] + i``; padding points at an extra
        basket with no items). First items go in batches: one gather of the
        later items' columns at the batch's slots (at most ``BLOCK_BYTES`` of
        booleans), one ``packbits``; then each first item's words are a slice.
        """
        f = self.n_frequent
        n = projected.n_baskets
        widths = self._widths(np.arange(f))
        offsets = np.zeros(f + 1, np.int64)
        np.cumsum(widths, out=offsets[1:])
        basket = np.repeat(np.arange(n), np.diff(projected.indptr))
        table = np.zeros((f, n + 1), bool)
        table[projected.ranks, basket] = True
        starts = projected.item_starts
        slots = np.full(int(offsets[-1]) * 64, n, np.intp)
        slots[np.repeat(offsets[:-1] * 64 - starts[:-1], np.diff(starts)) + np.arange(starts[-1])] = basket[
            projected.by_item
        ]
        later, counts, blocks = [], [], []
        held = n_found = 0
        with progress_bar(self.progress, total=f, desc="pairs", unit="item") as bar:
            first = 0
            while first < f - 1:
                last = first + 1  # this batch: first items first .. last - 1
                while last < f - 1 and (f - first) * int(offsets[last + 1] - offsets[first]) * 64 <= BLOCK_BYTES:
                    last += 1
                columns = np.take(table[first + 1 :], slots[offsets[first] * 64 : offsets[last] * 64], axis=1)
                words = np.packbits(columns, axis=1, bitorder="little").view(np.uint64)
                for a in range(first, last):
                    part = words[a - first :, offsets[a] - offsets[first] : offsets[a + 1] - offsets[first]]
                    found = np.bitwise_count(part).sum(axis=1, dtype=np.int64)
                    frequent = np.flatnonzero(found >= self.threshold)
                    later.append(frequent + a + 1)
                    counts.append(found[frequent])
                    n_found += len(frequent)
                    if keep_bits:
                        blocks.append(part[frequent])
                        held += blocks[-1].nbytes
                    self.check_memory(2, table.nbytes + words.nbytes + held + n_found * (work_bytes(2) + 16))
                    bar.update(1)
                first = last
        sizes = [len(c) for c in counts]
        itemsets = np.column_stack((np.repeat(np.arange(len(sizes)), sizes), np.concatenate(later))).astype(np.int32)
        bits = _Bitsets.from_runs(blocks, np.cumsum([0] + sizes[:-1]).tolist()) if keep_bits else None
        return itemsets, np.concatenate(counts), bits

    def _pairs_sparse(self, projected: _Projection, keep_bits: bool):
        """Pairs from the pairs of items of every basket: counted in a table, then their bits set."""
        f = self.n_frequent
        # keep the pairs between the two passes when they are small enough, else enumerate them again
        stored = [] if 16 * projected.n_pairs() <= self.memory // 4 else None
        with progress_bar(self.progress, total=2 if keep_bits else 1, desc="pairs", unit="pass") as bar:
            codes, counts, row_of = self._count_pairs(projected, stored)
            lookup_bytes = 0 if row_of.table is None else row_of.table.nbytes
            bar.update(1)
            itemsets = np.column_stack((codes // f, codes % f)).astype(np.int32)
            if not keep_bits or not len(codes):
                return itemsets, counts, _Bitsets([]) if keep_bits else None
            widths = self._widths(itemsets[:, 0])
            offsets = np.zeros(len(widths), np.int64)
            np.cumsum(widths[:-1], out=offsets[1:])
            n_words = int(widths.sum())
            scatter = _BitScatter(n_words)
            self.check_memory(2, lookup_bytes + len(codes) * work_bytes(2) + scatter.nbytes)
            for pair_codes, positions in stored if stored is not None else projected.pairs():
                row = row_of(pair_codes)
                hit = row >= 0
                scatter.add(offsets[row[hit]] * 64 + positions[hit])
            words = scatter.words()
            bar.update(1)
        cuts = np.flatnonzero(np.diff(widths)) + 1
        firsts = np.r_[0, cuts].tolist()
        parts = [
            words[offsets[a] : offsets[a] + (b - a) * widths[a]].reshape(b - a, int(widths[a]))
            for a, b in zip(firsts, np.r_[cuts, len(widths)].tolist(), strict=True)
        ]
        return itemsets, counts, _Bitsets.from_runs(parts, firsts)

    def _count_pairs(self, projected: _Projection, stored: list | None):
        """Codes ``first * F + second`` of the frequent pairs (ascending), their counts, and a code -> row lookup.

        Counts go to a dense table of ``F x F`` cells: one ``bincount`` over all
        pairs when they are stored, else in passes over row ranges of at most
        ``PAIR_TABLE_CELLS`` cells (codes buffered so that each ``bincount``
        covers at least half a table's worth of pairs). Blocks of pairs are
        appended to ``stored`` (unless it is None).
        """
        f = self.n_frequent
        cells = min(PAIR_TABLE_CELLS, max(f, self.memory // 64))  # a table and its bincount: 16 bytes a cell
        if stored is not None and f * f <= cells:
            self.check_memory(2, 16 * f * f + 24 * projected.n_pairs())  # the pairs kept, their codes joined
            stored.extend(projected.pairs())
            table = np.bincount(np.concatenate([c for c, _ in stored] or [np.zeros(0, np.int64)]), minlength=f * f)
            codes = np.flatnonzero(table >= self.threshold)
            counts = table[codes]
            table[:] = -1  # the table becomes the code -> row lookup
            table[codes] = np.arange(len(codes))
            return codes, counts, _Lookup(codes, table)
        span = max(1, cells // f) * f  # cells per pass: whole rows of first items
        found_codes, found_counts = [], []
        found = 0
        for low in range(0, f * f, span):
            self.check_memory(2, 16 * span + found * (work_bytes(2) + 16))
            high = min(f * f, low + span)
            table = np.zeros(high - low, np.int64)
            buffered: list[np.ndarray] = []
            size = 0
            for codes, positions in projected.pairs() if not (stored and low) else stored:
                if stored is not None and low == 0:
                    stored.append((codes, positions))
                if low > 0 or high < f * f:
                    codes = codes[(codes >= low) & (codes < high)]
                buffered.append(codes - low if low else codes)
                size += len(codes)
                if size >= len(table) // 2:
                    table += np.bincount(np.concatenate(buffered), minlength=len(table))
                    buffered, size = [], 0
            if buffered:
                table += np.bincount(np.concatenate(buffered), minlength=len(table))
            frequent = np.flatnonzero(table >= self.threshold)
            found_codes.append(frequent + low)
            found_counts.append(table[frequent])
            found += len(frequent)
            self.check_memory(2, found * (work_bytes(2) + 16))  # codes and counts, joined; the pairs' rows
        codes = np.concatenate(found_codes)
        return codes, np.concatenate(found_counts), _Lookup(codes)

    # ----------------------------------------------------------------- levels 3 and up

    def _next_level(
        self, rows: _RankRows, below: np.ndarray, bits: _Bitsets, keep_bits: bool
    ) -> tuple[_RankRows, np.ndarray, _Bitsets | None, tuple[np.ndarray, np.ndarray] | None]:
        """Frequent (k+1)-itemsets (with ``keep_bits``, their bitsets too) from the frequent k-itemsets
        ``rows``, their counts ``below`` and bitsets; with ``self.perfect`` also the perfect rows, apart.

        Candidate ``(a, b)`` (rows of one prefix group, a < b) has the bits
        ``bits(a) & bits(b)``: the ``a`` side is each row repeated once per
        partner (``np.repeat``, contiguous copies), the ``b`` side a gather.
        Frequent candidates keep their words; a part of the new level's
        bitsets holds whole prefix groups (all candidates of a row ``a`` are in
        one block), which is all the next level needs, so parts are not joined.
        A frequent candidate with the count of its row ``a`` is perfect (see
        :class:`_MaskedLevels`): with ``self.perfect`` it is reported apart and
        not joined further. Pruning by subsets needs every frequent k-itemset
        as a row, so it is off then.
        """
        k = rows.k
        partners = _partners(rows.parents)
        prune = not self.perfect and bits.widest >= PRUNE_WIDTH
        subsets = _SubsetIndex(rows.matrix, self.item_counts) if prune else None
        kept_parents, kept_items, kept_counts, kept_words, kept_firsts = [], [], [], [], []
        perfect_parents, perfect_items = [], []
        held = found = n_perfect = 0
        # this level's bitsets, rows, counts, partners (and subset hashes), alive while the next one is built
        below_bytes = bits.nbytes + len(rows) * (4 * k + 28 + (24 if prune else 0))
        with progress_bar(self.progress, total=int(partners.sum()), desc=f"length {k + 1}", unit="cand") as bar:
            for first, block in bits.blocks:
                width = block.shape[1]
                for a, b, start, count in _candidate_blocks(partners[first : first + len(block)], width):
                    bar.update(len(a))
                    if subsets is not None and width >= PRUNE_WIDTH:
                        a, b = subsets.prune(a + first, b + first)
                        a -= first
                        b -= first
                        words = np.take(block, a, axis=0)
                    else:
                        words = np.repeat(block[start : start + len(count)], count, axis=0)
                    np.bitwise_and(words, np.take(block, b, axis=0), out=words)
                    counts = _popcounts(words)
                    frequent = np.flatnonzero(counts >= self.threshold)
                    if self.perfect and len(frequent):
                        perfect = counts[frequent] == below[a[frequent] + first]
                        if perfect.any():
                            perfect_parents.append(a[frequent[perfect]] + first)
                            perfect_items.append(rows.last[b[frequent[perfect]] + first])
                            n_perfect += len(perfect_items[-1])
                            frequent = frequent[~perfect]
                    if not len(frequent):
                        continue
                    every = len(frequent) == len(counts)
                    kept_parents.append((a if every else a[frequent]) + first)
                    kept_items.append(rows.last[(b if every else b[frequent]) + first])
                    kept_counts.append(counts if every else counts[frequent])
                    if keep_bits:
                        kept_words.append(words if every else words[frequent])
                        kept_firsts.append(found)
                        held += kept_words[-1].nbytes
                    found += len(frequent)
                    self.check_memory(k + 1, below_bytes + held + found * work_bytes(k + 1) + 24 * n_perfect)
        perfect = None
        if self.perfect:
            perfect = (_joined(perfect_parents, np.int64), _joined(perfect_items, np.int32))
        new = rows.next_level(_joined(kept_items, np.int32), _joined(kept_parents, np.int64))
        new_bits = _Bitsets.from_runs(kept_words, kept_firsts) if keep_bits else None
        return new, _joined(kept_counts, np.int64).astype(np.int64), new_bits, perfect


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _without_perfect_pairs(
    pairs: np.ndarray, counts: np.ndarray, bits: _Bitsets | None, item_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, _Bitsets | None, tuple[np.ndarray, np.ndarray]]:
    """The pairs that are not perfect (count below their first item's), and the perfect ones as
    (parent row: the first item's, last item)."""
    perfect = counts == item_counts[pairs[:, 0]]
    core = ~perfect
    found = (pairs[perfect, 0].astype(np.int64), pairs[perfect, 1])
    if not perfect.any():
        return pairs, counts, bits, found
    return pairs[core], counts[core], bits.select(core) if bits is not None else None, found


def _popcounts(words: np.ndarray) -> np.ndarray:
    """Bits set in each row of a 2-D array of 64-bit words."""
    ones = np.bitwise_count(words)  # uint8, at most 64 per word
    width = words.shape[1]
    if width >= 1 << 10:  # sums may pass 2**16
        return ones.sum(axis=1, dtype=np.int64)
    if width >= NARROW_WIDTH:  # einsum adds along rows in uint16 faster than sum(axis=1, dtype=uint16)
        return np.einsum("ij->i", ones, dtype=np.uint16)
    total = ones[:, 0].astype(np.uint16)  # few words: adding columns beats a reduction along short rows
    for column in range(1, width):
        total += ones[:, column]
    return total


class _Projection:
    """The baskets restricted to frequent items (CSR of ranks), and for each occurrence the basket's
    position among the baskets of its item."""

    def __init__(self, baskets: Baskets, rank_of: np.ndarray, item_counts: np.ndarray) -> None:
        ranks = rank_of[baskets.indices]
        keep = ranks >= 0
        cumulative = np.zeros(len(keep) + 1, np.int64)
        np.cumsum(keep, out=cumulative[1:])
        self.indptr = cumulative[baskets.indptr]
        self.n_items = len(item_counts)
        self.n_baskets = baskets.n_baskets
        self.ranks = ranks[keep]
        small = self.ranks.astype(np.uint16) if self.n_items <= 1 << 16 else self.ranks  # uint16 sorts by radix
        by_item = np.argsort(small, kind="stable")  # occurrences item by item, baskets ascending
        self.item_starts = np.zeros(self.n_items + 1, np.int64)
        np.cumsum(item_counts, out=self.item_starts[1:])
        self.by_item = by_item
        self.position = np.empty(len(self.ranks), np.int64)
        self.position[by_item] = np.arange(len(self.ranks)) - self.item_starts[self.ranks[by_item]]

    def n_pairs(self) -> int:
        lengths = np.diff(self.indptr)
        return int(np.dot(lengths, lengths - 1) // 2)

    def dense_bytes(self) -> int:
        return self.n_baskets * self.n_items

    def pairs(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every pair of frequent items of every basket, in blocks of (code, position).

        A pair of ranks first < second has code ``first * n_items + second``;
        position is the basket's index among the baskets of the first item.
        """
        lengths = np.diff(self.indptr)
        per_block = max(1, BLOCK_BYTES // 16)
        for length in np.unique(lengths[lengths >= 2]).tolist():
            starts = self.indptr[:-1][lengths == length]
            rows_per_block = max(1, per_block // (length * (length - 1) // 2))
            for r in range(0, len(starts), rows_per_block):
                cells = starts[r : r + rows_per_block, None] + np.arange(length)
                ranks = self.ranks[cells]
                by_rank = np.argsort(ranks, axis=1)  # then left < right means rank a < rank b
                ranks = np.take_along_axis(ranks, by_rank, axis=1)
                positions = np.take_along_axis(self.position[cells], by_rank, axis=1)
                firsts = ranks * self.n_items
                for i, j in _upper_pairs(length, per_block):
                    yield (firsts[:, i] + ranks[:, j]).ravel(), positions[:, i].ravel()


def _upper_pairs(length: int, per_block: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The pairs (i, j), 0 <= i < j < ``length``, in blocks of about ``per_block`` pairs (whole rows of i, at
    least one): what ``np.triu_indices(length, 1)`` holds, a block at a time, so that a basket of 50,000 items
    never holds its 1.25 billion pairs at once."""
    i = 0
    while i < length - 1:
        stop, size = i + 1, length - 1 - i
        while stop < length - 1 and size + length - 1 - stop <= per_block:
            size += length - 1 - stop
            stop += 1
        rows = np.arange(i, stop)
        partners = length - 1 - rows
        left = np.repeat(rows, partners)
        right = left + 1 + np.arange(size) - np.repeat(np.cumsum(partners) - partners, partners)
        yield left, right
        i = stop



def odd_item_codes(n: int, seed: int) -> np.ndarray:
    """``n`` random odd 64-bit codes (from ``seed``), one per item: an itemset's hash is the sum of its items'
    codes (mod 2**64), so adding or dropping an item is one addition or subtraction."""
    codes = np.random.default_rng(seed).integers(0, 2**63, n, dtype=np.uint64)
    return codes * np.uint64(2) + np.uint64(1)


class _SubsetIndex:
    """Looks up k-itemsets of a level by hash, to prune candidates that have an infrequent k-subset.

    An itemset's hash is the sum (mod 2**64) of its items' random odd 64-bit
    codes, so dropping an item is one subtraction. A collision can only keep a
    candidate that should have been pruned, and counting then rejects it: the
    result stays exact. A lookup costs about as much as ANDing a few dozen
    words, and with items in ascending order of count the join already yields
    few candidates with an infrequent subset, so only candidates with wide
    bitsets (``PRUNE_WIDTH`` words or more) are checked.
    """

    def __init__(self, itemsets: np.ndarray, item_counts: np.ndarray) -> None:
        self.item_hash = odd_item_codes(len(item_counts), HASH_SEED)
        self.itemsets = itemsets
        self.hashes = self.item_hash[itemsets].sum(axis=1, dtype=np.uint64)
        self.lookup = _Lookup(np.sort(self.hashes))

    def prune(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keep the candidates ``itemsets[a] + itemsets[b][-1]`` whose k-subsets are all frequent."""
        k = self.itemsets.shape[1]
        keep = np.arange(len(a))
        whole = self.hashes[a] + self.item_hash[self.itemsets[b, -1]]
        for d in range(k - 1):  # dropping item k-1 or k gives itemsets[b] or itemsets[a]
            found = self.lookup(whole - self.item_hash[self.itemsets[a[keep], d]]) >= 0
            keep, whole = keep[found], whole[found]
        return a[keep], b[keep]


class _BitScatter:
    """``n_words`` 64-bit words whose bits are set in batches of places (bit indices, bit 0 of word 0 first).

    Up to ``8 * BLOCK_BYTES`` bits, places are set in one byte per bit and
    packed at the end (faster than ``ufunc.at``); beyond, into the words
    directly. ``nbytes`` is what it holds.
    """

    def __init__(self, n_words: int) -> None:
        self.n_words = n_words
        small = n_words * 64 <= 8 * BLOCK_BYTES
        self.flags = np.zeros(n_words * 64, bool) if small else None
        self._words = None if small else np.zeros(n_words, np.uint64)
        self.nbytes = 8 * n_words + (n_words * 64 if small else 0)

    def add(self, places: np.ndarray) -> None:
        if self.flags is not None:
            self.flags[places] = True
        else:
            np.bitwise_or.at(self._words, places >> 6, np.left_shift(np.uint64(1), (places & 63).astype(np.uint64)))

    def words(self) -> np.ndarray:
        if self.flags is None:
            return self._words
        return np.packbits(self.flags, bitorder="little").view(np.uint64)


class _Lookup:
    """Position of each code in a sorted array of distinct codes, -1 when absent.

    (With repeated codes, a present code gets the position of its first copy.)

    With ``table`` (a dense array indexed by code, -1 where absent) a lookup
    is one gather; otherwise it is a binary search.
    """

    def __init__(self, codes: np.ndarray, table: np.ndarray | None = None) -> None:
        self.codes = codes
        self.table = table

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        if self.table is not None:
            return self.table[queries]
        if not len(self.codes):
            return np.full(len(queries), -1)
        at = np.searchsorted(self.codes, queries)
        at[at == len(self.codes)] = 0
        return np.where(self.codes[at] == queries, at, -1)


def _partners(prefixes: np.ndarray) -> np.ndarray:
    """For each row of a sorted level, how many later rows share its first k - 1 items.

    ``prefixes`` identifies each row's first k - 1 items (equal values are
    contiguous): the first item of a pair, or the row of the level below that
    a longer itemset extends.
    """
    n = len(prefixes)
    starts = np.r_[True, prefixes[1:] != prefixes[:-1]]
    group_start = np.flatnonzero(starts)
    group_end = np.r_[group_start[1:], n]
    ends = np.repeat(group_end, group_end - group_start)
    return ends - np.arange(n) - 1


def _candidate_blocks(partners: np.ndarray, width: int) -> Iterator[tuple[np.ndarray, np.ndarray, int, np.ndarray]]:
    """Candidate (row a, row b) pairs, a < b in one prefix group, in blocks of about ``CANDIDATE_BYTES`` of words.

    Yields ``(a, b, start, count)``: row ``start + i`` is ``a`` of ``count[i]``
    consecutive candidates (with rows ``start + i + 1`` ...), so ``a`` is
    ``np.repeat(np.arange(start, start + len(count)), count)``. A row's
    candidates are never split between blocks.
    """
    per_block = max(1, CANDIDATE_BYTES // (8 * width + 32))
    ends = np.cumsum(partners)
    start = 0
    while start < len(partners):
        done = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + per_block, side="right")))
        count = partners[start:stop]
        total = int(ends[stop - 1]) - done
        if total:
            rows = np.arange(start, stop)
            a = np.repeat(rows, count)
            b = np.arange(1, total + 1) + np.repeat(rows - (ends[start:stop] - count - done), count)
            yield a, b, start, count
        start = stop


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if nbytes < 1024:
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GiB"
