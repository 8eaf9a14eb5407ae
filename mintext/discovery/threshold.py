"""The threshold pipeline of word discovery (algorithms.md section 1, steps 3-5).

1. Keep an n-gram (n >= 2) when it occurs at least ``min_count`` times and its
   solidity (smallest PMI over its binary splits) is at least ``theta[n]``.
2. Rough cut: a gap stays joined when some kept n-gram covers both of its
   characters; every other gap is cut. The pieces are the candidates.
3. Count the candidates; keep those seen ``min_count`` times whose length is
   at most ``max_len``, and "backtrack": a candidate of three or more
   characters must itself be a kept n-gram.

Everything works on the per-position n-gram rows of :class:`ChunkRows`.
"""

from __future__ import annotations

import numpy as np

from mintext.discovery.lattice import word_spans
from mintext.discovery.ngramstats import ChunkRows, NgramStats, row_counts

# published thresholds on solidity (natural log) for n = 2, 3, 4; 5+ continue by +2
DEFAULT_THETA = {2: 2.0, 3: 4.0, 4: 6.0}


def theta_for(order: int) -> float:
    """Solidity threshold for n-grams of ``order`` (0, 2, 4, 6, ... for n = 1, 2, 3, 4, ...)."""
    return DEFAULT_THETA.get(order, 2.0 * (order - 1))


def kept_ngrams(stats: NgramStats, min_count: int) -> dict[int, np.ndarray]:
    """Boolean mask per order (2..max_order) of the n-grams kept by count and solidity."""
    kept = {}
    for order in range(2, stats.max_order + 1):
        codes, counts = stats.codes[order], stats.counts[order]
        mask = counts >= min_count
        if mask.any():
            candidates = np.flatnonzero(mask)
            solid = stats.solidity(codes[candidates], order) >= theta_for(order)
            mask[candidates[~solid]] = False
        kept[order] = mask
    return kept


def rough_cut(chunk: ChunkRows, kept: dict[int, np.ndarray]) -> np.ndarray:
    """Word starts of the rough cut: True where a piece begins (run starts included)."""
    n = chunk.ids.size
    joined = np.zeros(n, dtype=bool)  # joined[i]: gap after position i stays joined
    for order, mask in kept.items():
        rows = chunk.rows.get(order)
        if rows is None:
            continue
        present = rows >= 0
        starts = np.flatnonzero(present)
        covering = starts[mask[rows[starts]]]
        for k in range(order - 1):
            joined[covering + k] = True
    starts = np.zeros(n, dtype=bool)
    if n == 0:
        return starts
    starts[0] = chunk.ids[0] != 0
    starts[1:] = (chunk.ids[1:] != 0) & ~joined[:-1]
    return starts


def piece_counts(chunk: ChunkRows, word_starts: np.ndarray, max_len: int, sizes: dict[int, int]) -> dict[int, np.ndarray]:
    """Counts, per order and table row, of the pieces of length <= ``max_len`` marked by ``word_starts``."""
    return {order: row_counts(rows, sizes[order]) for order, _, rows in chunk.words(word_spans(word_starts, chunk.ids), max_len)}


def candidate_counts(
    chunks: list[ChunkRows], stats: NgramStats, kept: dict[int, np.ndarray], max_len: int, min_count: int
) -> dict[int, np.ndarray]:
    """Counts of the rough-cut candidates that pass the count and backtracking filters."""
    sizes = {n: stats.codes[n].size for n in range(1, max_len + 1)}
    total = {n: np.zeros(sizes[n]) for n in sizes}
    for chunk in chunks:
        for n, c in piece_counts(chunk, rough_cut(chunk, kept), max_len, sizes).items():
            total[n] += c
    for n in total:
        total[n][total[n] < min_count] = 0
        if n >= 3:
            total[n][~kept[n]] = 0
    return total
