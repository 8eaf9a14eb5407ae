"""Statistics of the n-grams of a corpus: counts, branching entropy, solidity.

All arrays are aligned with the rows of an :class:`~mintext.ngrams.counting.NgramTable`
(order by order), so a statistic of many n-grams is one gather.

- *Right branching entropy* of a string x: the entropy of what follows x in
  the corpus, each run end counted as a distinct event (a string that often
  ends a run is a likely word end). ``H = log t - (1/t) sum_c n(xc) log n(xc)``
  with ``t`` the count of x. Left branching entropy likewise with what precedes.
- *Solidity* of an n-gram w (n >= 2): the smallest pointwise mutual
  information over its binary splits, ``min log(N c(w) / (c(a) c(b)))``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mintext.ngrams.counting import NgramTable, run_remaining, window_codes
from mintext.ngrams.lookup import CodeIndex
from mintext.ngrams.vocabulary import CharVocabulary, is_wide

# row of an n-gram inside a run that the table does not hold because it was pruned (seen fewer
# times than the table's min_count for its order): such a word costs its spelling alone
SPELLED = -2


@dataclass
class ChunkRows:
    """A chunk of ids with, for each order n, the table row of the n-gram starting at each position (-1: none)."""

    ids: np.ndarray
    rows: dict[int, np.ndarray]

    def words(self, spans: tuple[np.ndarray, np.ndarray], max_len: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """For each length 1..``max_len``: ``(length, starts, rows)`` of the words given as ``spans``
        (``(starts, lengths)``, as :func:`mintext.discovery.lattice.word_spans` or
        :func:`~mintext.discovery.lattice.length_spans` give them), rows as in :attr:`rows`."""
        starts, lengths = spans
        for order in range(1, max_len + 1):
            at = starts[lengths == order]
            yield order, at, self.rows[order][at]


def row_counts(rows: np.ndarray, size: int) -> np.ndarray:
    """How often each of ``size`` table rows occurs in ``rows`` (negative rows ignored), as float64."""
    return np.bincount(rows[rows >= 0], minlength=size).astype(np.float64)


def dense_character_rows(codes: np.ndarray, characters: int) -> np.ndarray:
    """Rows of 1-gram codes when every character id ``1..characters`` has a row (id i at row i - 1), else -1."""
    codes = np.asarray(codes, dtype=np.int64)
    return np.where((codes >= 1) & (codes <= characters), codes - 1, -1)


def dense_id_rows(ids: np.ndarray, characters: int) -> np.ndarray:
    """:func:`dense_character_rows` of every position of an id chunk (int32; -1 on separators)."""
    rows = ids.astype(np.int32)
    rows -= 1
    rows[rows >= characters] = -1
    return rows


class RowFinder:
    """Finds the table rows of n-grams by code, for a few orders; small enough to send to worker processes."""

    def __init__(
        self, bits: int, indexes: dict[int, CodeIndex], characters: int, dense_characters: bool,
        pruned: frozenset[int] = frozenset(),
    ) -> None:
        self.bits = bits
        self.indexes = indexes
        self.characters = characters
        self.dense_characters = dense_characters
        self.pruned = pruned  # orders whose table dropped rare n-grams

    def rows(self, codes: np.ndarray, order: int) -> np.ndarray:
        """Row of each code in the order's table, -1 where the n-gram never occurs."""
        if order == 1 and self.dense_characters:
            return dense_character_rows(codes, self.characters)
        return self.indexes[order].find(codes)

    def position_rows(self, ids: np.ndarray, max_order: int, remaining: np.ndarray | None = None) -> ChunkRows:
        """Rows of the n-grams (orders 1..``max_order``) starting at each position of an id chunk.

        ``ids`` use the table's vocabulary, with 0 between runs; an n-gram
        that would cross a 0 gets row -1, and one inside a run that a pruned
        order does not hold gets :data:`SPELLED` (-1 in other orders).
        ``remaining`` (optional): :func:`run_remaining` of ``ids``, if already known.
        """
        remaining = run_remaining(ids) if remaining is None else remaining
        # the codes of every order are prefixes of the longest order's windows (read where the n-gram fits)
        windows = window_codes(ids, max_order, self.bits)
        rows = {}
        for order in range(1, max_order + 1):
            if order == 1 and self.dense_characters:
                rows[order] = dense_id_rows(ids, self.characters)
                continue
            start = np.flatnonzero(remaining >= order)
            found = np.full(ids.size, -1, dtype=np.int32)
            if start.size:
                codes = windows[start] >> np.uint64(self.bits * (max_order - order))
                looked_up = self.rows(codes, order)
                if order in self.pruned:
                    looked_up[looked_up < 0] = SPELLED
                found[start] = looked_up
            rows[order] = found
        return ChunkRows(ids, rows)


class NgramStats:
    """Counts, branching entropies and solidity for the n-grams of ``table``.

    Entropies are defined for orders ``1 .. max_order - 1`` (they need the
    next order); ``rows(codes, order)`` finds n-grams in the table.
    """

    def __init__(self, table: NgramTable, vocabulary: CharVocabulary) -> None:
        self.table = table
        self.vocabulary = vocabulary
        self.bits = table.bits
        self.max_order = table.max_order
        if is_wide(self.max_order, self.bits):
            raise ValueError(f"n-grams of order {self.max_order} do not fit 64 bits with {self.bits} bits per character")
        self.N = int(table.N)
        self.codes = {n: table.items(n)[0] for n in range(1, self.max_order + 1)}
        self.counts = {n: table.items(n)[1].astype(np.float64) for n in range(1, self.max_order + 1)}
        self._index: dict[int, CodeIndex] = {}
        # every character of the vocabulary was counted: the row of id i is i - 1
        self._dense_characters = bool(np.array_equal(self.codes[1], np.arange(1, self.codes[1].size + 1)))
        self.right_entropy: dict[int, np.ndarray] = {}
        self.left_entropy: dict[int, np.ndarray] = {}
        for n in range(1, self.max_order):
            self.right_entropy[n], self.left_entropy[n] = self._branching_entropy(n)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}:{self.codes[n].size}" for n in self.codes)
        return f"NgramStats(N={self.N}, distinct by order {{{sizes}}})"

    # ------------------------------------------------------------------ lookups

    def index(self, order: int) -> CodeIndex:
        """The hash index of the order's codes (built on first use)."""
        if order not in self._index:
            self._index[order] = CodeIndex(self.codes[order])
        return self._index[order]

    def rows(self, codes: np.ndarray, order: int) -> np.ndarray:
        """Row of each code in the order's table, -1 where the n-gram never occurs."""
        if order == 1 and self._dense_characters:
            return dense_character_rows(codes, self.codes[1].size)
        return self.index(order).find(codes)

    def sorted_rows(self, sorted_codes: np.ndarray, order: int) -> np.ndarray:
        """Rows of codes known to be present and sorted (a merge, cheaper than hashing)."""
        return np.searchsorted(self.codes[order], sorted_codes)

    def row_finder(self, max_order: int) -> RowFinder:
        """A :class:`RowFinder` for orders 1..``max_order`` (sharing this table's indexes)."""
        indexes = {n: self.index(n) for n in range(1, max_order + 1) if n > 1 or not self._dense_characters}
        pruned = frozenset(n for n, m in enumerate(self.table.min_counts, start=1) if m > 1)
        return RowFinder(self.bits, indexes, self.codes[1].size, self._dense_characters, pruned)

    def position_rows(self, ids: np.ndarray, max_order: int) -> ChunkRows:
        """Rows of the n-grams (orders 1..``max_order``) starting at each position (see :class:`RowFinder`)."""
        return self.row_finder(max_order).position_rows(ids, max_order)

    def count_of(self, codes: np.ndarray, order: int) -> np.ndarray:
        """Counts of n-grams given by code (0 where absent)."""
        rows = self.rows(codes, order)
        return _at_rows(self.counts[order], rows, 0.0)

    def prefix_codes(self, codes: np.ndarray, order: int, length: int) -> np.ndarray:
        """Codes of the first ``length`` characters of order-``order`` codes."""
        return codes >> np.uint64(self.bits * (order - length))

    def suffix_codes(self, codes: np.ndarray, order: int, length: int) -> np.ndarray:
        """Codes of the last ``length`` characters of order-``order`` codes."""
        return codes & np.uint64((1 << (self.bits * length)) - 1)

    def infix_codes(self, codes: np.ndarray, order: int, start: int, length: int) -> np.ndarray:
        """Codes of the ``length`` characters starting at ``start`` of order-``order`` codes."""
        return self.suffix_codes(self.prefix_codes(codes, order, start + length), start + length, length)

    # ------------------------------------------------------------------ statistics

    def _branching_entropy(self, order: int) -> tuple[np.ndarray, np.ndarray]:
        longer_codes = self.codes[order + 1]
        longer_counts = self.counts[order + 1]
        weight = longer_counts * np.log(longer_counts)
        size = self.codes[order].size
        right_rows = self.sorted_rows(self.prefix_codes(longer_codes, order + 1, order), order)
        left_rows = self.rows(self.suffix_codes(longer_codes, order + 1, order), order)
        totals = self.counts[order]
        log_totals = np.log(np.maximum(totals, 1.0))
        right = log_totals - np.bincount(right_rows, weights=weight, minlength=size) / totals
        left = log_totals - np.bincount(left_rows, weights=weight, minlength=size) / totals
        return np.maximum(right, 0.0), np.maximum(left, 0.0)

    def occurrences(self, codes: np.ndarray, order: int) -> np.ndarray:
        """Counts of n-grams known to occur in the corpus: those a pruned order dropped occurred once
        (the pruned orders of discovery drop exactly the n-grams seen once)."""
        counts = self.count_of(codes, order)
        if self.table.min_counts[order - 1] == 2:
            counts[counts == 0] = 1.0
        return counts

    def solidity(self, codes: np.ndarray, order: int) -> np.ndarray:
        """Smallest PMI over the binary splits of each n-gram (NaN for order 1); the n-grams must occur."""
        if order < 2:
            return np.full(len(codes), np.nan)
        whole = np.log(np.maximum(self.occurrences(codes, order), 1e-300))
        best = np.full(len(codes), np.inf)
        for k in range(1, order):
            left = self.count_of(self.prefix_codes(codes, order, k), k)
            right = self.count_of(self.suffix_codes(codes, order, order - k), order - k)
            pmi = np.log(self.N) + whole - np.log(np.maximum(left, 1e-300)) - np.log(np.maximum(right, 1e-300))
            best = np.minimum(best, pmi)
        return best

    def entropies_of(self, codes: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
        """``(left, right)`` branching entropies of n-grams given by code (NaN where unknown)."""
        if order >= self.max_order:
            nan = np.full(len(codes), np.nan)
            return nan, nan.copy()
        rows = self.rows(codes, order)
        # an n-gram a pruned order dropped occurred once: one neighbour on each side, entropy 0
        absent = 0.0 if self.table.min_counts[order - 1] == 2 else np.nan
        return _at_rows(self.left_entropy[order], rows, absent), _at_rows(self.right_entropy[order], rows, absent)


def _at_rows(values: np.ndarray, rows: np.ndarray, absent: float) -> np.ndarray:
    """``values[rows]`` as float64, ``absent`` where the row is -1 (gathers only the rows asked for)."""
    out = np.full(len(rows), absent)
    found = rows >= 0
    out[found] = values[rows[found]]
    return out
