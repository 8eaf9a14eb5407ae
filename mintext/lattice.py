"""Best segmentation of many runs at once: a Viterbi pass vectorised across runs.

The input is a chunk of character ids with a 0 after each run, and a cost
matrix ``costs[L - 1, i]`` for the word of length L starting at position i
(``inf`` where no such word may be used). For every run the minimum-cost path
through its word lattice is found; the runs are processed together, one
character offset at a time: at step t, the t-th character of every run that is
at least t long (a prefix of the runs sorted by length) is handled by a few
NumPy operations. Runs longer than ``MAX_RUN`` characters (unpunctuated text)
are cut into pieces of that length, which are segmented independently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_RUN = 1024


@dataclass(frozen=True)
class Runs:
    """The runs of an id chunk: start positions and lengths (long runs already cut)."""

    starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray, max_run: int = MAX_RUN) -> Runs:
        """Find the runs of non-zero ids in ``ids``."""
        nonzero = np.asarray(ids) != 0
        padded = np.concatenate(([False], nonzero, [False]))
        change = np.flatnonzero(padded[1:] != padded[:-1])
        starts, ends = change[0::2], change[1::2]
        lengths = ends - starts
        if lengths.size and lengths.max() > max_run:
            pieces = -(-lengths // max_run)
            first = np.repeat(starts, pieces)
            offset = (np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)) * max_run
            starts = first + offset
            lengths = np.minimum(np.repeat(ends, pieces) - starts, max_run)
        return cls(starts.astype(np.int64), lengths.astype(np.int64))

    def __len__(self) -> int:
        return int(self.starts.size)


def best_segmentation(costs: np.ndarray, runs: Runs) -> tuple[np.ndarray, float]:
    """Minimum-cost segmentation of every run.

    ``costs``: float array of shape ``(K, n)``. Returns ``(word_starts, total)``:
    a boolean array of length ``n`` marking the first character of every word
    on the best paths, and the sum of the best path costs (``inf`` if some run
    cannot be segmented, which cannot happen when single characters have finite
    costs).
    """
    max_len, n = costs.shape
    word_starts = np.zeros(n, dtype=bool)
    if len(runs) == 0:
        return word_starts, 0.0
    order = np.argsort(-runs.lengths, kind="stable")
    starts, lengths = runs.starts[order], runs.lengths[order]
    # best[k]: best cost of the first t characters of run r, at k = slot[r] + t;
    # run r (in position order) owns the slots runs.starts[r] + r .. + lengths[r]
    slot = (runs.starts + np.arange(starts.size))[order]
    best = np.zeros(n + starts.size + 1, dtype=np.float64)
    back = np.zeros(best.size, dtype=np.int8)
    # number of runs at least t long, for t = 1 .. longest
    longest = int(lengths[0])
    active = np.searchsorted(-lengths, -np.arange(1, longest + 1), side="right")
    for t in range(1, longest + 1):
        a = active[t - 1]
        here = slot[:a] + t
        pos = starts[:a] + t  # position just after the t-th character
        value = best[here - 1] + costs[0, pos - 1]
        choice = np.ones(a, dtype=np.int8)
        for length in range(2, min(max_len, t) + 1):
            candidate = best[here - length] + costs[length - 1, pos - length]
            better = candidate < value
            value = np.where(better, candidate, value)
            choice[better] = length
        best[here] = value
        back[here] = choice
    ends = slot + lengths
    total = float(best[ends].sum())
    # follow the back pointers of all runs together
    cursor, offset = ends.copy(), lengths.copy()
    run_start = starts
    while cursor.size:
        length = back[cursor].astype(np.int64)
        offset -= length
        cursor -= length
        word_starts[run_start + offset] = True
        going = offset > 0
        cursor, offset, run_start = cursor[going], offset[going], run_start[going]
    return word_starts, total


def word_spans(word_starts: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, lengths)`` of the words marked by ``word_starts`` in a chunk of ids."""
    starts = np.flatnonzero(word_starts)
    if starts.size == 0:
        return starts, starts.copy()
    boundary = np.flatnonzero(np.asarray(ids) == 0)
    # a word ends at the next word start or the next separator, whichever comes first
    next_start = np.append(starts[1:], np.iinfo(np.int64).max)
    next_zero = boundary[np.searchsorted(boundary, starts)] if boundary.size else np.full(starts.size, ids.size)
    ends = np.minimum(next_start, next_zero)
    return starts, ends - starts
