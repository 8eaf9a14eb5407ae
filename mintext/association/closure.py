"""Closed and maximal itemsets mined directly (LCM), without enumerating the other frequent itemsets.

LCM (Uno, Kiyomi and Arimura, 2004) walks a tree whose nodes are exactly
the closed itemsets. Items get ranks 0 .. F - 1 (count ascending, then item
id); each closed itemset Q has a *core* rank (the item whose addition made
it; -1 at the root ``clo({})``, the items in every basket). A candidate
child of Q is ``Q + j`` for a frequent extension j ranked after Q's core;
its closure ``R = clo(Q + j)`` (Q, j and every item in all of its baskets)
is a child when it is *prefix preserving*: it adds no item ranked before
j. Every closed itemset is reached from the root in exactly one way, so
each one is found once and no other itemset is visited.

Here a whole frontier of candidates is worked at once, over packed tid
bitsets (one bit per basket): for every candidate (``tids = tids(Q) &
tids(j)``, count known) and every item k frequent with Q, the count of
``Q + j + k`` is ``popcount(tids & tids(k))``. Those counts give, in a few
vectorised steps, the closure (the k of equal count), the prefix check
(none ranked before j), the items still frequent with R (its *pool*) and
the candidates below R (each pool item ranked after j, whose ANDed words
are kept as its tid bitset). Candidates wait on a stack of chunks; a chunk
is taken with more from the top of the stack up to a bounded number of
(candidate, item) pairs and their words, so memory stays bounded and the
walk is depth first. Two savings: a pool item ranked before j whose
count with ``Q + j`` is settled by bounds (frequent, and not in the
closure) is not counted (see ``_Closures._expand``); and the subtree of
each single item j is counted over bitsets of the baskets that hold j
only (rebuilt from a byte table of frequent items x baskets, items of
similar counts stacked so that their candidates are worked together), for
the items frequent with j only (its pool, from exact pair counts).

Maximal itemsets are the closed R with an empty pool (no frequent item
can be added). With them, three prunings that cannot lose one:

- *look-ahead* (as in MAFIA): if R plus all its pool items ranked after
  its core (its *tail*) is frequent, everything below R lies within that
  set, so R's subtree is skipped, and the set is reported when no item
  ranked before the core is frequent with it (then nothing can be added to
  it: it is maximal);
- *settled by bounds* (before a candidate Q + j is counted): everything
  below it lies within Q + j plus Q's pool items ranked after j; when Q's
  count bounds prove that set frequent together with one more pool item
  (ranked before j), nothing below Q + j is maximal, and it is dropped
  uncounted (see ``_Closures._settled``);
- results are made unique (a set found by look-ahead may also be reached
  from another node).

>>> from mintext.association.baskets import Baskets
>>> data = Baskets.from_iterable([["a", "b"], ["a", "b", "c"], ["a"]])
>>> mined_condensed(data, min_count=1, kind="closed").to_frame()
     itemset  length  count   support
0       (a,)       1      3  1.000000
1     (a, b)       2      2  0.666667
2  (a, b, c)       3      1  0.333333
>>> mined_condensed(data, min_count=1, kind="maximal").to_frame()
     itemset  length  count   support
0  (a, b, c)       3      1  0.333333
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mintext.association.baskets import Baskets
from mintext.association.itemsets import (
    _HIGH_BIT_FIRST,
    DEFAULT_MEMORY,
    FrequentItemsets,
    Level,
    MemoryLimitError,
    _BitScatter,
    _display_order,
    _popcounts,
    _size,
    item_of_exponent,
    masked_level,
    natural_order,
    result_bytes,
)

KINDS = ("closed", "maximal")
PAIR_WORDS = 1 << 20  # words of (candidate, item) ANDs worked at once (8 MiB)
DENSE_SHARE = 0.05  # the closure miner is chosen when frequent items fill at least this share of the bitsets
TABLE_SHARE = 8  # ... and a byte per (frequent item, basket) takes at most memory / TABLE_SHARE
GROUP_WIDTH = 1.25  # roots whose conditional bitsets are worked together differ at most this much in width
GROUP_FLAGS = 1 << 25  # bytes of flags (item, root, basket) made at once for a group's conditional bitsets


def pays(baskets: Baskets, min_count: int, memory: int = DEFAULT_MEMORY) -> bool:
    """Whether to mine closed (maximal) itemsets with LCM rather than from every frequent itemset: on dense data
    (the frequent items' occurrences fill at least ``DENSE_SHARE`` of an items x baskets table; there the
    frequent itemsets far outnumber the closed ones) whose items x baskets table of bytes fits easily in
    ``memory``."""
    counts = baskets.item_counts()
    frequent = counts[counts >= min_count]
    cells = len(frequent) * max(1, baskets.n_baskets)
    return bool(len(frequent)) and int(frequent.sum()) >= DENSE_SHARE * cells and cells <= memory // TABLE_SHARE


def mined_condensed(
    baskets: Baskets, *, min_count: int, kind: str, memory: int = DEFAULT_MEMORY
) -> FrequentItemsets:
    """The closed (``kind="closed"``) or maximal (``"maximal"``) itemsets with count >= ``min_count``, sorted as
    :class:`FrequentItemsets` are (length, count descending, items). Raises :class:`MemoryLimitError` when the
    results and the work would pass ``memory`` bytes."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    miner = _Closures(baskets, min_count, kind == "maximal", memory)
    members, counts = miner.run()
    if kind == "maximal":
        members, counts = _unique_rows(members, counts)
    levels = miner.masks.levels(members, counts)
    return FrequentItemsets(items=baskets.items, levels=levels, n_baskets=baskets.n_baskets, min_count=min_count)


@dataclass
class _Chunk:
    """Candidates ``Q + j``: Q's items (as masks, see :class:`_Masks`), ``j``, the candidate's tid bitset and
    count, Q's count, and Q's pool (the items k frequent with Q, not in it, with bounds ``low <= count(Q + k) <=
    high``), candidate by candidate: candidate i's pool is ``item[offsets[i]:offsets[i + 1]]`` (ranks
    ascending; j among them until the candidate is worked)."""

    members: np.ndarray  # (n, M) uint64
    core: np.ndarray  # (n,) int64: j
    tids: np.ndarray  # (n, W) uint64
    counts: np.ndarray  # (n,) int64
    above: np.ndarray  # (n,) int64: Q's count
    universe: np.ndarray  # (n,) int64: the row of rank 0 in the bitsets the candidate is counted with
    offsets: np.ndarray  # (n + 1,) int64: where each candidate's pool starts in item, low and high
    item: np.ndarray  # (P,) int64: pool ranks
    low: np.ndarray  # (P,) int32
    high: np.ndarray  # (P,) int32

    ROWS = ("members", "core", "tids", "counts", "above", "universe")  # one entry per candidate
    POOL = ("item", "low", "high")  # one entry per (candidate, pool item)

    def __len__(self) -> int:
        return len(self.counts)

    def pairs(self) -> int:
        """(candidate, item) pairs this chunk's counting works on (its pools hold j until it is worked)."""
        return len(self.item) - len(self)

    def nbytes(self) -> int:
        return (self.members.nbytes + self.tids.nbytes + 40 * len(self)
                + self.item.nbytes + self.low.nbytes + self.high.nbytes)

    def split(self) -> tuple[_Chunk, _Chunk]:
        half = len(self) // 2
        return self.part(0, half), self.part(half, len(self))

    def part(self, start: int, end: int) -> _Chunk:
        """Candidates ``start .. end - 1``."""
        first, last = int(self.offsets[start]), int(self.offsets[end])
        return _Chunk(*(getattr(self, name)[start:end] for name in _Chunk.ROWS), self.offsets[start:end + 1] - first,
                      *(getattr(self, name)[first:last] for name in _Chunk.POOL))

    @staticmethod
    def joined(chunks: list[_Chunk]) -> _Chunk:
        if len(chunks) == 1:
            return chunks[0]
        sizes = np.cumsum([0] + [len(c.item) for c in chunks[:-1]])
        offsets = np.concatenate([chunks[0].offsets[:1]] + [c.offsets[1:] + size for c, size in zip(chunks, sizes, strict=True)])
        return _Chunk(*(np.concatenate([getattr(c, name) for c in chunks]) for name in _Chunk.ROWS), offsets,
                      *(np.concatenate([getattr(c, name) for c in chunks]) for name in _Chunk.POOL))


def _segments(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments ``starts[i] .. starts[i] + lengths[i] - 1`` one after another: the offsets of each in the result
    (``len(starts) + 1``), and the positions they cover."""
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1] - starts, lengths)


class _Closures:
    """One LCM run over packed tid bitsets, in rank space (rank r: the r-th least frequent frequent item)."""

    def __init__(self, baskets: Baskets, threshold: int, maximal: bool, memory: int) -> None:
        self.threshold = threshold
        self.maximal = maximal
        self.memory = memory
        self.n_baskets = baskets.n_baskets
        counts = baskets.item_counts()
        frequent = np.flatnonzero(counts >= threshold)
        order = np.lexsort((frequent, counts[frequent]))
        self.item_ids = frequent[order].astype(np.int32)  # rank -> item id
        self.item_counts = counts[self.item_ids].astype(np.int64)
        self.bits = _item_bitsets(baskets, self.item_ids)
        self.masks = _Masks(self.item_ids, baskets.items)
        self.found_members: list[np.ndarray] = []
        self.found_counts: list[np.ndarray] = []
        self.held = self.bits.nbytes
        self.stacked = 0

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Every closed (maximal) itemset: its items as masks (see :class:`_Masks`), and its count."""
        if not self.n_items:
            return self._results()
        universal = self.item_counts == self.n_baskets
        pool = ~universal
        everywhere = self.masks.of(universal[None, :])
        if universal.any() and (not self.maximal or not pool.any()):
            self._found(everywhere, np.array([self.n_baskets], np.int64))
        if self.maximal and pool.any() and self._frequent_with_all(pool):
            return self._results()
        table = _item_table(self.bits, self.n_baskets)
        together = _pair_counts(self.bits) >= self.threshold
        together[:, universal] = False
        self.held += table.nbytes + together.nbytes
        for roots in _root_groups(self.item_counts, np.flatnonzero(pool), self.n_items):
            pools = together[roots]  # j's pool: the items frequent with it (j among them)
            bits = _conditional_bitsets(table, roots, np.flatnonzero(pools.any(axis=0)))
            self.held += bits.nbytes
            self._walk([self._root_chunk(roots, pools, everywhere, bits)], bits)
            self.held -= bits.nbytes
        return self._results()

    def _root_chunk(self, roots: np.ndarray, pools: np.ndarray, everywhere: np.ndarray, bits: np.ndarray) -> _Chunk:
        """The candidates ``clo({}) + j`` for the roots j (``pools``: for each, the flags of its pool's ranks),
        counted over ``bits`` (the roots' conditional bitsets, one universe of ``n_items`` rows each)."""
        n = len(roots)
        universe = np.arange(n, dtype=np.int64) * self.n_items
        at, items = np.nonzero(pools)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(np.count_nonzero(pools, axis=1), out=offsets[1:])
        bounds = self.item_counts[items].astype(np.int32)
        return _Chunk(np.repeat(everywhere, n, axis=0), roots, bits[universe + roots], self.item_counts[roots],
                      np.full(n, self.n_baskets, np.int64), universe, offsets, items.astype(np.int64), bounds,
                      bounds.copy())

    def _walk(self, stack: list[_Chunk], bits: np.ndarray) -> None:
        """Work the candidates of ``stack`` and all below them, depth first, over the item bitsets ``bits``."""
        self.stacked = sum(chunk.nbytes() for chunk in stack)
        while stack:
            chunk = self._take(stack, bits.shape[1])
            self.stacked -= chunk.nbytes()
            while chunk.pairs() * bits.shape[1] > PAIR_WORDS and len(chunk) > 1:
                chunk, rest = chunk.split()
                stack.append(rest)
                self.stacked += rest.nbytes()
            below = self._expand(chunk, bits)
            if below is not None and len(below):
                stack.append(below)
                self.stacked += below.nbytes()
                self._check_memory()

    def _frequent_with_all(self, pool: np.ndarray) -> bool:
        """At the root, for maximal itemsets: whether all the frequent items together are frequent (then they
        are the one maximal itemset, reported)."""
        count = int(np.bitwise_count(np.bitwise_and.reduce(self.bits[pool], axis=0)).sum())
        if count < self.threshold:
            return False
        self._found(self.masks.of(np.ones((1, self.n_items), bool)), np.array([count], np.int64))
        return True

    def _take(self, stack: list[_Chunk], width: int) -> _Chunk:
        """The top chunk, joined with the ones below it while their pairs' words stay within ``PAIR_WORDS``."""
        taken = [stack.pop()]
        words = taken[0].pairs() * width
        while stack and words + stack[-1].pairs() * width <= PAIR_WORDS:
            taken.append(stack.pop())
            words += taken[-1].pairs() * width
        return _Chunk.joined(taken)

    def _expand(self, chunk: _Chunk, bits: np.ndarray) -> _Chunk | None:
        """Close the candidates of ``chunk``, report the closed (maximal) ones, and return their candidates.

        A pool item k ranked before j need not be counted when the bounds
        settle it (Q + j + k is in at least ``count(Q + j) + low(Q + k) -
        count(Q)`` baskets, and in at most ``high(Q + k)``): when that is at
        least the threshold and ``high(Q + k) < count(Q + j)``, k is frequent
        with R and not in its closure; R keeps it with those bounds. Every
        other pair is counted (``popcount(tids & bits(k))``), the items ranked
        after j always: they make R's candidates and their tid bitsets.
        """
        n = len(chunk)
        rows = np.arange(n)
        at = np.repeat(rows, np.diff(chunk.offsets))
        others = np.flatnonzero(chunk.item != chunk.core[at])  # j is in the candidate now
        at, item, low, high = at[others], chunk.item[others], chunk.low[others], chunk.high[others]
        count_j = chunk.counts[at]
        least = count_j - chunk.above[at] + low
        before = item < chunk.core[at]
        sure = before & (high < count_j) & (least >= self.threshold)
        kept = np.ones(n, bool)
        if self.maximal:
            kept &= ~self._settled(chunk, at, before, least)
            sure |= ~kept[at]  # a settled candidate's pairs are not counted
        counted = np.flatnonzero(~sure)
        at_c, item_c = at[counted], item[counted]
        words = np.repeat(chunk.tids, np.bincount(at_c, minlength=n), axis=0)
        np.bitwise_and(words, np.take(bits, chunk.universe[at_c] + item_c, axis=0), out=words)
        counts = _popcounts(words).astype(np.int64) if len(at_c) else np.zeros(0, np.int64)
        same = counts == count_j[counted]
        before_c = before[counted]
        kept[at_c[same & before_c]] = False  # the closure adds an item ranked before j: not prefix preserving
        members = chunk.members.copy()
        self.masks.add(members, rows, chunk.core)
        self.masks.add(members, at_c[same], item_c[same])
        frequent = (counts >= self.threshold) & ~same & kept[at_c]
        in_pool = sure & kept[at]  # R's pool: settled by bounds, or counted and frequent (not in the closure)
        in_pool[counted[frequent]] = True
        low[sure], low[counted], high[counted] = least[sure], counts, counts
        pooled = np.flatnonzero(in_pool)
        pool_size = np.bincount(at[pooled], minlength=n)
        pool_start = np.cumsum(pool_size) - pool_size
        chosen = np.flatnonzero(frequent & ~before_c)  # R's candidates
        child_words = words[chosen]
        if not self.maximal:
            self._found(members[kept], chunk.counts[kept])
        else:
            leaves = kept & (pool_size == 0)
            self._found(members[leaves], chunk.counts[leaves])
            keep = self._look_ahead(chunk, members, item[pooled], pool_start, pool_size, at_c[chosen], item_c[chosen],
                                    child_words, bits)
            if not keep.all():
                chosen, child_words = chosen[keep], child_words[keep]
        if not len(chosen):
            return None
        parents = at_c[chosen]
        offsets, take = _segments(pool_start[parents], pool_size[parents])
        pool = pooled[take]
        return _Chunk(members[parents], item_c[chosen], child_words, counts[chosen], chunk.counts[parents],
                      chunk.universe[parents], offsets, item[pool], low[pool], high[pool])

    def _settled(self, chunk: _Chunk, at: np.ndarray, before: np.ndarray, least: np.ndarray) -> np.ndarray:
        """For maximal itemsets, before the candidates ``Q + j`` of ``chunk`` are counted (``at``, ``before``,
        ``least``: for each pair with a pool item k other than j, its candidate, whether k is ranked before j, and
        the least count of ``Q + j + k``): which candidates are settled by Q's bounds alone. Everything below
        ``Q + j`` lies within ``U = Q + j + T`` (T: the pool items ranked after j); U is in at least ``count(Q +
        j) - sum over T of (count(Q + j) - least)`` baskets, and ``U + i``, for a pool item i ranked before j,
        in at least that plus ``least(i) - count(Q + j)``. When that reaches the threshold (then so does U's),
        nothing below ``Q + j`` is maximal: it lies in U, and U + i is frequent."""
        count_j = chunk.counts[at]
        lacking = np.bincount(at, weights=np.where(before, 0, count_j - least), minlength=len(chunk))
        least_u = chunk.counts - lacking.astype(np.int64)
        settled = np.zeros(len(chunk), bool)
        settled[at[before & (least_u[at] + least - count_j >= self.threshold)]] = True
        return settled

    def _look_ahead(
        self, chunk: _Chunk, members: np.ndarray, pool_item: np.ndarray, pool_start: np.ndarray,
        pool_size: np.ndarray, owners: np.ndarray, item: np.ndarray, words: np.ndarray, bits: np.ndarray,
    ) -> np.ndarray:
        """For maximal itemsets, given R's candidates R + k (``owners``: R's row, ``item``: k, ``words``: their
        tid bitsets, candidate by candidate) and R's pools (R's row r: ``pool_item[pool_start[r]:][:pool_size[r]]``):
        which remain once every R whose tail (the items k) is frequent with it is settled: R + tail is reported
        when no other pool item (one ranked before its core) is frequent with it, and R's candidates are
        dropped."""
        keep = np.ones(len(owners), bool)
        if not len(owners):
            return keep
        firsts = np.r_[True, owners[1:] != owners[:-1]]
        group = np.cumsum(firsts) - 1  # each candidate's R, numbered
        tails = np.bitwise_and.reduceat(words, np.flatnonzero(firsts), axis=0)
        counts = _popcounts(tails).astype(np.int64)
        whole = counts >= self.threshold
        if not whole.any():
            return keep
        nodes = owners[firsts][whole]
        tails, counts = tails[whole], counts[whole]
        in_whole = whole[group]
        node_of = (np.cumsum(whole) - 1)[group[in_whole]]
        offsets, take = _segments(pool_start[nodes], pool_size[nodes])
        at_rest = np.repeat(np.arange(len(nodes)), np.diff(offsets))
        item_rest = pool_item[take]
        rest = np.flatnonzero(item_rest < chunk.core[nodes][at_rest])  # pool items ranked before the core
        at_rest, item_rest = at_rest[rest], item_rest[rest]
        extra = np.take(tails, at_rest, axis=0)
        np.bitwise_and(extra, np.take(bits, chunk.universe[nodes[at_rest]] + item_rest, axis=0), out=extra)
        blocked = np.zeros(len(nodes), bool)
        if len(at_rest):
            blocked[at_rest[_popcounts(extra) >= self.threshold]] = True
        whole_sets = members[nodes]
        self.masks.add(whole_sets, node_of, item[in_whole])
        self._found(whole_sets[~blocked], counts[~blocked])
        return ~in_whole

    def _found(self, members: np.ndarray, counts: np.ndarray) -> None:
        if not len(counts):
            return
        self.found_members.append(members)
        self.found_counts.append(counts)
        self.held += self.found_members[-1].nbytes + counts.nbytes + len(counts) * result_bytes(1)
        self._check_memory()

    def _check_memory(self) -> None:
        if self.held + self.stacked > self.memory:
            raise MemoryLimitError(
                f"the closed itemsets and the candidates being worked need {_size(self.held + self.stacked)}, over "
                f"the memory limit of {_size(self.memory)}; raise --min-support/--min-count or raise --memory"
            )

    def _results(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.found_counts:
            return np.zeros((0, self.masks.n_words), np.uint64), np.zeros(0, np.int64)
        return np.concatenate(self.found_members), np.concatenate(self.found_counts)


def _item_bitsets(baskets: Baskets, item_ids: np.ndarray) -> np.ndarray:
    """(F, W) words: bit b of row r is set when basket b holds the item of rank r."""
    n = baskets.n_baskets
    width = (n + 63) // 64
    rank_of = np.full(baskets.n_items, -1, np.int64)
    rank_of[item_ids] = np.arange(len(item_ids))
    ranks = rank_of[baskets.indices]
    basket_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(baskets.indptr))
    keep = ranks >= 0
    scatter = _BitScatter(len(item_ids) * width)
    scatter.add(ranks[keep] * (64 * width) + basket_of[keep])
    return scatter.words().reshape(len(item_ids), width)


def _item_table(bits: np.ndarray, n_baskets: int) -> np.ndarray:
    """(F, n_baskets + 1) booleans: whether basket b holds the item of rank r (none holds it at b = n_baskets)."""
    flags = np.zeros((len(bits), n_baskets + 1), bool)
    flags[:, :n_baskets] = np.unpackbits(bits.view(np.uint8), axis=1, count=n_baskets, bitorder="little")
    return flags


def _root_groups(item_counts: np.ndarray, roots: np.ndarray, n_items: int) -> list[np.ndarray]:
    """The candidates at the root (single items, by rank) in groups worked together: widths (words over their
    baskets) within ``GROUP_WIDTH`` of each other, and at most ``GROUP_FLAGS`` bytes of flags to make."""
    widths = (item_counts[roots] + 63) // 64
    order = np.argsort(widths, kind="stable")
    groups, start = [], 0
    for end in range(1, len(order) + 1):
        first = widths[order[start]]
        if end == len(order) or widths[order[end]] > GROUP_WIDTH * first or (
                (end - start + 1) * n_items * 64 * widths[order[end]] > GROUP_FLAGS):
            groups.append(roots[np.sort(order[start:end])])
            start = end
    return groups


def _pair_counts(bits: np.ndarray) -> np.ndarray:
    """(F, F) counts of the baskets holding both items (ranks), from their (F, W) tid bitsets, a block of
    rows at a time (at most ``PAIR_WORDS`` words of ANDs)."""
    n_items, width = bits.shape
    counts = np.empty((n_items, n_items), np.int64)
    step = max(1, PAIR_WORDS // max(1, n_items * width))
    for start in range(0, n_items, step):
        block = bits[start:start + step, None, :] & bits[None, :, :]
        counts[start:start + step] = np.bitwise_count(block).sum(axis=2, dtype=np.int64)
    return counts


def _conditional_bitsets(table: np.ndarray, roots: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(roots) * F, W) words: for the i-th root, rows i * F .. i * F + F - 1 are the items' bitsets over
    the baskets that hold the root only (renumbered in order, padded to the group's width W); only the items
    of ``rows`` (ranks) are filled, the others left empty."""
    n_items, n = table.shape[0], table.shape[1] - 1
    held = table[roots, :n]
    counts = np.count_nonzero(held, axis=1)
    width = int((counts.max() + 63) // 64)
    at, basket = np.nonzero(held)
    slots = np.full((len(roots), width * 64), n, np.intp)  # padding reads the empty basket n
    slots[at, np.arange(len(at)) - np.repeat(np.cumsum(counts) - counts, counts)] = basket
    flags = np.take(table[rows], slots, axis=1)  # (rows, roots, width * 64)
    words = np.zeros((len(roots), n_items, width), np.uint64)
    words[:, rows] = np.packbits(flags, axis=2, bitorder="little").view(np.uint64).transpose(1, 0, 2)
    return words.reshape(len(roots) * n_items, width)


class _Masks:
    """Itemsets as rows of 64-bit words, and back to sorted levels.

    With at most 64 frequent items a set is one word with the item at
    display position p (natural item order) at bit 63 - p, the masks that
    :func:`~mintext.association.itemsets.masked_level` sorts; with more, rank
    r is bit r % 64 of word r // 64.
    """

    def __init__(self, item_ids: np.ndarray, names: list[str]) -> None:
        f = len(item_ids)
        display = np.array(natural_order([names[i] for i in item_ids.tolist()]), np.intp)
        self.position = np.empty(f, np.int64)  # rank -> display position
        self.position[display] = np.arange(f)
        self.by_display = item_ids[display]
        self.n_items = f
        self.n_words = max(1, (f + 63) // 64)
        ranks = np.arange(f)
        if f <= 64:
            self.word = np.zeros(f, np.intp)
            self.bit = _HIGH_BIT_FIRST[self.position]
        else:
            self.word = ranks // 64
            self.bit = np.left_shift(np.uint64(1), (ranks % 64).astype(np.uint64))

    def of(self, flags: np.ndarray) -> np.ndarray:
        """Masks of boolean rows over the ranks."""
        masks = np.zeros((len(flags), self.n_words), np.uint64)
        rows, ranks = np.nonzero(flags)
        self.add(masks, rows, ranks)
        return masks

    def add(self, masks: np.ndarray, rows: np.ndarray, ranks: np.ndarray) -> None:
        """Set the bits of ``ranks`` in ``masks[rows]`` (rows may repeat)."""
        if self.n_words == 1:
            np.bitwise_or.at(masks[:, 0], rows, self.bit[ranks])
            return
        for w in range(self.n_words):
            here = self.word[ranks] == w
            np.bitwise_or.at(masks[:, w], rows[here], self.bit[ranks[here]])

    def flags(self, masks: np.ndarray) -> np.ndarray:
        """Boolean rows over the ranks."""
        return (masks[:, self.word] & self.bit) != 0

    def levels(self, masks: np.ndarray, counts: np.ndarray) -> list[Level]:
        """Distinct itemsets given as masks, one level per length in the documented order."""
        if not len(counts):
            return []
        sizes = np.bitwise_count(masks).sum(axis=1, dtype=np.int64)
        levels = []
        if self.n_items <= 64:
            items_at = item_of_exponent(self.by_display)
            for k in range(1, int(sizes.max()) + 1):
                rows = sizes == k
                levels.append(masked_level(masks[rows, 0], counts[rows], k, self.n_items, items_at))
            return levels
        flags = self.flags(masks)
        for k in range(1, int(sizes.max()) + 1):
            rows = np.flatnonzero(sizes == k)
            ranks = np.nonzero(flags[rows])[1].reshape(len(rows), k)
            levels.append(_display_order(self.position[ranks], counts[rows], self.by_display))
        return levels


def _unique_rows(masks: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``masks``, each with its (first) count."""
    if len(masks) < 2:
        return masks, counts
    order = np.lexsort(masks.T[::-1])
    masks, counts = masks[order], counts[order]
    first = np.r_[True, (masks[1:] != masks[:-1]).any(axis=1)]
    return masks[first], counts[first]
