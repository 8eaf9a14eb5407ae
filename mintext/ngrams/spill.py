"""Sorted count tables: merging them, spilling them to disk, merging runs back in bounded memory.

A *table* here is a pair ``(keys, counts)``: ``keys`` strictly increasing
n-gram codes (1-D ``uint64``, or 2-D big-endian ``>u8`` rows for wide codes,
see :mod:`mintext.ngrams.vocabulary`) and ``counts`` the matching ``int64`` counts.

- :func:`merge_tables` adds tables (concatenate, stable sort, sum equal keys);
- :class:`SpillDir` writes runs (one table per order) as ``.npy`` files to a
  temporary directory, read back piece by piece through :class:`StoredArray`;
  it is removed when closed, also on errors and KeyboardInterrupt when used as
  a context manager;
- :func:`merge_runs` merges many tables (in memory or on disk) key range by
  key range, so that only ``max_rows`` rows of input are in memory at a time,
  dropping keys whose total count is below ``min_count``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from mintext.io.stopping import temporary_directory

Table = tuple[np.ndarray, np.ndarray]

COUNT_DTYPE = np.int64


# --------------------------------------------------------------------------- keys


def key_columns(keys: np.ndarray) -> list[np.ndarray]:
    """The key words as native ``uint64`` columns, most significant first."""
    if keys.ndim == 1:
        return [keys]
    return [keys[:, w].astype(np.uint64) for w in range(keys.shape[1])]


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Indices that sort ``keys`` stably (timsort: linear on concatenated sorted runs)."""
    if keys.ndim == 1:
        return np.argsort(keys, kind="stable")
    return np.lexsort(key_columns(keys)[::-1])


def key_changes(sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean mask of length ``len(keys) - 1``: True where key i+1 differs from key i."""
    if sorted_keys.ndim == 1:
        return sorted_keys[1:] != sorted_keys[:-1]
    return (sorted_keys[1:] != sorted_keys[:-1]).any(axis=1)


def comparable(keys: np.ndarray) -> np.ndarray:
    """A 1-D view of ``keys`` that compares like the keys (wide rows: their bytes, memcmp order)."""
    if keys.ndim == 1:
        return keys
    rows = np.ascontiguousarray(keys, dtype=keys.dtype)
    return rows.view(np.dtype((np.void, rows.shape[1] * rows.itemsize))).reshape(rows.shape[0])


def search(sorted_keys: np.ndarray, queries: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted`` for keys of either kind."""
    return np.searchsorted(comparable(sorted_keys), comparable(queries), side=side)


def empty_keys(like: np.ndarray | StoredArray) -> np.ndarray:
    """An empty key array of the same kind (1-D codes or rows of words) as ``like``."""
    return np.zeros((0,) + tuple(like.shape[1:]), dtype=like.dtype)


# --------------------------------------------------------------------------- tables


def table_nbytes(table: Table) -> int:
    """Bytes held by a table."""
    return int(table[0].nbytes + table[1].nbytes)


def sum_sorted(keys: np.ndarray, counts: np.ndarray) -> Table:
    """Sum the counts of equal adjacent keys of a sorted key array.

    Group totals are differences of the running sum at each group's last row
    (twice as fast as ``np.add.reduceat`` on groups of one or two rows).
    """
    m = keys.shape[0]
    if m == 0:
        return keys, counts
    last = np.flatnonzero(key_changes(keys))
    if last.size == m - 1:
        return keys, counts
    last = np.append(last, m - 1)
    totals = np.cumsum(counts)[last]
    totals[1:] -= totals[:-1].copy()
    return keys[last], totals


def merge_tables(tables: Sequence[Table]) -> Table:
    """Add several tables into one (keys present in several tables get the sum of their counts)."""
    tables = [t for t in tables if t[0].shape[0]] or list(tables[:1])
    if len(tables) == 1:
        return tables[0]
    keys = np.concatenate([t[0] for t in tables])
    order = stable_order(keys)
    keys = keys[order]
    counts = np.concatenate([t[1] for t in tables])[order]
    del order
    return sum_sorted(keys, counts)


def keep_frequent(table: Table, min_count: int) -> Table:
    """The rows of a table with count >= ``min_count``."""
    keys, counts = table
    if min_count <= 1:
        return keys, counts
    keep = np.flatnonzero(counts >= min_count)
    return keys[keep], counts[keep]


# --------------------------------------------------------------------------- runs on disk


class StoredArray:
    """A sorted array saved as ``.npy``, read piece by piece.

    Nothing stays mapped: a search maps the file only for the binary search
    (a few pages), and :meth:`read` copies one slice, so the resident memory of
    a merge is the slices it holds, not the runs on disk.
    """

    def __init__(self, path: str, array: np.ndarray) -> None:
        """Describe ``array``, just written to ``path`` with :func:`numpy.save`."""
        self.path = path
        self.shape = array.shape
        self.dtype = array.dtype
        self.nbytes = int(array.nbytes)
        self.row_items = int(np.prod(array.shape[1:], dtype=np.int64))
        self.offset = os.path.getsize(path) - self.nbytes  # the data follows the header

    def __len__(self) -> int:
        return self.shape[0]

    def _mapped(self) -> np.ndarray:
        return np.memmap(self.path, dtype=self.dtype, mode="r", offset=self.offset, shape=self.shape)

    def every(self, stride: int) -> np.ndarray:
        """Rows ``stride, 2*stride, ...`` (a sample), in memory."""
        return np.array(self._mapped()[stride::stride])

    def search(self, queries: np.ndarray) -> np.ndarray:
        """``searchsorted`` (left) of ``queries`` in the stored keys."""
        return search(self._mapped(), queries)

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo:hi``, in memory."""
        rows = max(0, hi - lo)
        itemsize = self.dtype.itemsize * self.row_items
        data = np.fromfile(self.path, dtype=self.dtype, count=rows * self.row_items, offset=self.offset + lo * itemsize)
        return data.reshape((rows,) + self.shape[1:])


RunArray = np.ndarray | StoredArray


def _every(array: RunArray, stride: int) -> np.ndarray:
    return array.every(stride) if isinstance(array, StoredArray) else array[stride::stride]


def _search(array: RunArray, queries: np.ndarray) -> np.ndarray:
    return array.search(queries) if isinstance(array, StoredArray) else search(array, queries)


def _read(array: RunArray, lo: int, hi: int) -> np.ndarray:
    return array.read(lo, hi) if isinstance(array, StoredArray) else array[lo:hi]


class SpillDir:
    """A temporary directory of spilled runs; each run is one table per order.

    Runs are written with :func:`numpy.save` (``run-00000/keys-2.npy``,
    ``counts-2.npy``...) and kept as :class:`StoredArray` pairs. The directory
    is created on the first :meth:`write` (under ``parent``, default the system
    temp dir) and removed by :meth:`close`, or at exit if that is never reached.
    """

    def __init__(self, parent: str | os.PathLike | None = None) -> None:
        self.parent = parent
        self.path: str | None = None
        self.runs: list[list[tuple[RunArray, RunArray]]] = []

    def write(self, tables: Sequence[Table]) -> None:
        """Write one run (``tables[k]`` = the table of order k+1)."""
        if self.path is None:
            self.path, self._remove_dir = temporary_directory(self, "mintext-ngrams-", self.parent)
        run_dir = os.path.join(self.path, f"run-{len(self.runs):05d}")
        os.mkdir(run_dir)
        stored = []
        for order, (keys, counts) in enumerate(tables, start=1):
            stored.append((self._save(run_dir, f"keys-{order}", keys), self._save(run_dir, f"counts-{order}", counts)))
        self.runs.append(stored)

    @staticmethod
    def _save(run_dir: str, name: str, array: np.ndarray) -> RunArray:
        if array.shape[0] == 0:
            return array  # nothing worth a file
        path = os.path.join(run_dir, name + ".npy")
        np.save(path, array)
        return StoredArray(path, array)

    @property
    def nbytes(self) -> int:
        """Bytes of all runs written so far."""
        return sum(keys.nbytes + counts.nbytes for run in self.runs for keys, counts in run)

    def close(self) -> None:
        """Forget the runs and remove the directory (safe to call twice)."""
        self.runs = []
        if self.path is not None:
            self._remove_dir()
            self.path = None

    def __enter__(self) -> SpillDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- merging runs


def merge_runs(runs: Sequence[tuple[RunArray, RunArray]], *, max_rows: int, min_count: int = 1) -> Table:
    """Merge sorted tables (in memory or :class:`StoredArray` on disk) into one in-memory table.

    Works key range by key range: splitters are sampled from the runs so that a
    range holds at most about ``max_rows`` input rows, each range is read out
    of every run (``searchsorted``), merged, and filtered to counts >=
    ``min_count``. Peak memory is the kept output plus about ``max_rows`` rows.
    """
    if not runs:
        raise ValueError("merge_runs needs at least one (possibly empty) run")
    like = runs[0][0]
    runs = [run for run in runs if len(run[0])]
    if not runs:
        return empty_keys(like), np.zeros(0, dtype=COUNT_DTYPE)
    if len(runs) == 1 and not isinstance(runs[0][0], StoredArray):
        return keep_frequent(runs[0], min_count)
    splitters = _splitters(runs, max_rows) if len(runs) > 1 or len(runs[0][0]) > max_rows else None
    if splitters is None or len(splitters) == 0:
        return keep_frequent(merge_tables([(_read(k, 0, len(k)), _read(c, 0, len(c))) for k, c in runs]), min_count)
    bounds = [np.concatenate(([0], _search(keys, splitters), [len(keys)])) for keys, _ in runs]
    pieces = []
    for r in range(len(splitters) + 1):
        parts = []
        for (keys, counts), cuts in zip(runs, bounds, strict=True):
            lo, hi = int(cuts[r]), int(cuts[r + 1])
            if hi > lo:
                parts.append((_read(keys, lo, hi), _read(counts, lo, hi)))
        if parts:
            pieces.append(keep_frequent(merge_tables(parts), min_count))
    return _concatenate(pieces, like=like)


def _splitters(runs: Sequence[tuple[RunArray, RunArray]], max_rows: int) -> np.ndarray:
    """Sorted distinct keys that cut the union of the runs into ranges of at most ~``max_rows`` rows.

    Each run contributes every ``stride``-th key as a sample; a splitter every
    ``per_range`` samples bounds a range by ``(per_range + len(runs)) * stride``
    rows, which is below ``max_rows`` for the strides chosen here.
    """
    stride = max(1, max_rows // (4 * len(runs)))
    per_range = max(1, max_rows // (2 * stride))
    samples = np.concatenate([_every(keys, stride) for keys, _ in runs])
    chosen = samples[stable_order(samples)][per_range - 1 :: per_range]
    if chosen.shape[0] == 0:
        return chosen
    starts = np.flatnonzero(np.concatenate(([True], key_changes(chosen))))
    return chosen[starts]


def _concatenate(pieces: list[Table], like: RunArray) -> Table:
    if not pieces:
        return empty_keys(like), np.zeros(0, dtype=COUNT_DTYPE)
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])
