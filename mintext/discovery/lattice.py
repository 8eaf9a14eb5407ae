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

from mintext.io.chars import MAX_RUN


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


# runs are grouped by length: one group per length up to 32, then (32, 64], (64, 128], ... so that
# a group's padding is under half; the last group takes every longer run (Runs.of may be called
# with a larger max_run)
_BUCKET_EDGES = np.array([*range(33), 64, 128, 256, 512, MAX_RUN, np.iinfo(np.int64).max])


def best_segmentation(costs: np.ndarray, runs: Runs) -> tuple[np.ndarray, float]:
    """Minimum-cost segmentation of every run.

    ``costs``: float array of shape ``(K, n)``. Returns ``(word_starts, total)``:
    a boolean array of length ``n`` marking the first character of every word
    on the best paths, and the sum of the best path costs (``inf`` if some run
    cannot be segmented, which cannot happen when single characters have finite
    costs). Among paths of equal cost, the one whose last word is shortest wins,
    from the end of the run backwards.
    """
    word_lengths, total = best_word_lengths(costs, runs)
    return word_lengths > 0, total


def best_word_lengths(costs: np.ndarray, runs: Runs) -> tuple[np.ndarray, float]:
    """:func:`best_segmentation` with the words' lengths: ``(word_lengths, total)``, ``word_lengths`` an
    ``int8`` array of length ``n`` holding at the first character of every word on the best paths the
    word's length, 0 elsewhere (what :func:`word_spans` would find from the word starts)."""
    n = costs.shape[1]
    word_lengths = np.zeros(n, dtype=np.int8)
    if len(runs) == 0:
        return word_lengths, 0.0
    bucket = np.searchsorted(_BUCKET_EDGES, runs.lengths, side="left")
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(_BUCKET_EDGES.size + 1))
    total = 0.0
    for group in range(_BUCKET_EDGES.size):
        members = order[bounds[group] : bounds[group + 1]]
        if members.size:
            total += _segment_group(costs, runs.starts[members], runs.lengths[members], word_lengths)
    return word_lengths, total


def _segment_group(costs: np.ndarray, starts: np.ndarray, lengths: np.ndarray, word_lengths: np.ndarray) -> float:
    """Viterbi over runs of similar length laid out as columns: step t handles offset t of every run."""
    max_len, n = costs.shape
    width, count = int(lengths.max()), starts.size
    lattice = _strided_lattice(costs, starts, lengths, width)
    if lattice is None:
        offsets = np.arange(width)
        positions = np.minimum(offsets[:, None] + starts[None, :], n - 1)  # (width, count)
        beyond = offsets[:, None] >= lengths[None, :]
        lattice = np.empty((max_len, width, count))
        for length in range(max_len):
            np.take(costs[length], positions, out=lattice[length], mode="clip")  # in range: clipped above
            lattice[length][beyond] = np.inf
    best, back = _forward(lattice, width, count)
    columns = np.arange(count)
    total = float(best[lengths, columns].sum())
    cursor = lengths.copy()
    while columns.size:
        step = back[cursor, columns]
        cursor -= step
        word_lengths[starts[columns] + cursor] = step
        going = cursor > 0
        columns, cursor = columns[going], cursor[going]
    return total


def _forward(lattice: np.ndarray, width: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The Viterbi forward pass: ``best[t, c]``, the cost of the best path through the first t characters
    of column c, and ``back[t, c]``, the length of its last word (int8).

    A longer last word replaces a shorter one only when strictly better, so ties keep the shorter
    word; as lengths are tried in increasing order, ``max(back, L * better)`` sets ``back`` to L
    exactly where L is better (lighter than a masked copy).
    """
    max_len = lattice.shape[0]
    best = np.zeros((width + 1, count))
    back = np.ones((width + 1, count), dtype=np.int8)
    candidate = np.empty(count)
    better = np.empty(count, dtype=bool)
    marked = np.empty(count, dtype=np.int8)
    for t in range(1, width + 1):
        row, pointer = best[t], back[t]
        np.add(best[t - 1], lattice[0, t - 1], out=row)
        for length in range(2, min(max_len, t) + 1):
            np.add(best[t - length], lattice[length - 1, t - length], out=candidate)
            np.less(candidate, row, out=better)  # strictly better: ties keep the shorter word
            np.minimum(row, candidate, out=row)
            np.multiply(better, np.int8(length), out=marked)
            np.maximum(pointer, marked, out=pointer)
    return best, back


def _strided_lattice(costs: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray | None:
    """The lattice of runs of one length stored back to back (one separator apart), by reshaping; else None."""
    count = starts.size
    if lengths[0] != width or (lengths != width).any():
        return None
    if count > 1 and ((np.diff(starts) != width + 1).any()):
        return None
    first = int(starts[0])
    end = first + count * (width + 1)
    if end > costs.shape[1] + 1:
        return None
    block = costs[:, first : min(end, costs.shape[1])]
    if block.shape[1] < count * (width + 1):  # the last run ends the chunk without a separator
        block = np.concatenate([block, np.full((costs.shape[0], 1), np.inf)], axis=1)
    return np.ascontiguousarray(block.reshape(costs.shape[0], count, width + 1)[:, :, :width].transpose(0, 2, 1))


def sorted_by_length(ids: np.ndarray) -> np.ndarray:
    """The runs of an id chunk reordered by length (stable), a 0 after each.

    For passes that only count words, whose results do not depend on the
    order of the runs: runs of one length then sit back to back, so
    :func:`best_segmentation` builds their lattice by reshaping.
    """
    runs = Runs.of(ids)
    if len(runs) == 0:
        return np.zeros(0, dtype=ids.dtype)
    # lengths are at most MAX_RUN: as int16, numpy's stable sort is a radix sort
    order = np.argsort(runs.lengths.astype(np.int16), kind="stable")
    lengths = runs.lengths[order]
    first = np.cumsum(lengths + 1) - (lengths + 1)  # where each run goes
    # one gather: position first[k] + j reads starts[order[k]] + j, for j up to the run's length; the
    # slot after the run reads whatever follows it (the next run's piece, or past the end: clipped)
    # and is then set to the separator
    source = np.repeat(runs.starts[order] - first, lengths + 1)
    source += np.arange(source.size)
    out = np.take(ids, source, mode="clip")
    out[first + lengths] = 0
    return out


def concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of the ranges ``starts[k] .. starts[k] + lengths[k]`` (int64)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def length_spans(word_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, lengths)`` of the words of a :func:`best_word_lengths` array (as :func:`word_spans` of its starts)."""
    starts = np.flatnonzero(word_lengths)
    return starts, word_lengths[starts]


def word_spans(word_starts: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, lengths)`` of the words marked by ``word_starts`` in a chunk of ids."""
    starts = np.flatnonzero(word_starts)
    if starts.size == 0:
        return starts, starts.copy()
    # the end of the chunk ends a run too, as in Runs.of
    boundary = np.append(np.flatnonzero(np.asarray(ids) == 0), ids.size)
    # a word ends at the next word start or the next separator, whichever comes first
    next_start = np.append(starts[1:], np.iinfo(np.int64).max)
    next_zero = boundary[np.searchsorted(boundary, starts)]
    ends = np.minimum(next_start, next_zero)
    return starts, ends - starts
