"""Exact counts of character n-grams of orders 1..K inside Han runs, vectorised and memory-capped.

Input is an *id stream*: ``uint32`` character ids (see :mod:`mintext.ngrams.vocabulary`)
with a 0 after each run; n-grams never contain a 0. Counting is map-reduce:

- map, :func:`count_chunk`: one chunk of ids -> a sorted table per order. The
  ``K`` ids starting at every position are packed into one ``uint64`` window
  and the windows are sorted **once**; the table of order k is read off the
  sorted windows by dropping the last characters (a right shift keeps the
  order), summing equal neighbours and leaving out the keys that hold a 0
  (a window that crosses the end of its run). Orders too wide for 64 bits
  are counted separately with multi-word keys (``np.lexsort``).
- reduce: chunk tables are merged like a binary counter (a table is merged
  with the one below it only when that one is at most twice its size), so the
  work is O(n log n), not quadratic. Merging uses a stable sort, which is
  linear on concatenated sorted runs.
- memory cap: when the tables held exceed a quarter of ``memory`` they are
  spilled to a temporary directory (:class:`mintext.ngrams.spill.SpillDir`) and merged
  back at the end key range by key range; only the final table (after
  ``min_count``) grows with the corpus.

:func:`count_ngrams` drives it over an iterable of id chunks (``jobs > 1`` runs
the map step in :class:`~mintext.io.workers.WorkerPool` processes); :func:`mintext.ngrams.hanstream.count_corpus` counts a
:class:`~mintext.io.sources.Corpus` through :class:`~mintext.ngrams.hanstream.HanStream` (decoded once).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from mintext.errors import UsageError
from mintext.io.chars import HAN, char_classes, codepoints, han_stream
from mintext.io.progress import progress_bar
from mintext.io.workers import WorkerPool
from mintext.ngrams.spill import (
    COUNT_DTYPE,
    SpillDir,
    Table,
    comparable,
    merge_runs,
    merge_tables,
    search,
    stable_order,
    sum_sorted,
    table_nbytes,
)
from mintext.ngrams.vocabulary import CODE_BITS, WIDE_DTYPE, CharVocabulary, code_words, is_wide, pack_at

MAX_ORDER_LIMIT = 8
MAX_BITS = 32
DEFAULT_MAX_ORDER = 4
DEFAULT_MEMORY = 2 << 30
MAP_BYTES_PER_ID = 48  # peak memory of count_chunk per id, result included (tracemalloc: 32-44)
MAX_BATCH_IDS = 1 << 23
MIN_BATCH_IDS = 256
MAX_CARRY_CHARS = 1 << 20  # a Han run longer than this is cut between text blocks


# --------------------------------------------------------------------------- validation


def check_max_order(max_order: int) -> int:
    """``max_order`` if it is in 1..8, else :class:`UsageError`."""
    if not isinstance(max_order, (int, np.integer)) or not 1 <= max_order <= MAX_ORDER_LIMIT:
        raise UsageError(f"max_order must be between 1 and {MAX_ORDER_LIMIT}, got {max_order}")
    return int(max_order)


def check_bits(bits: int) -> int:
    """``bits`` (per character id) if it is in 1..32, else :class:`UsageError`."""
    if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise UsageError(f"bits must be between 1 and {MAX_BITS}, got {bits}")
    return int(bits)


def _check_positive(name: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def _as_ids(ids: np.ndarray, bits: int) -> np.ndarray:
    """``ids`` as ``uint32`` after checking that every id is in 0 .. 2**bits - 1."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "ui"):
        raise UsageError(f"ids must be a 1-D integer array, got shape {ids.shape} of {ids.dtype}")
    if ids.size:
        low, high = ids.min(), ids.max()
        if low < 0 or high >> bits:
            bad = int(low) if low < 0 else int(high)
            raise UsageError(f"character ids must be between 0 and {(1 << bits) - 1} for bits={bits}, got {bad}")
    return ids.astype(np.uint32, copy=False)


# --------------------------------------------------------------------------- map step


@dataclass(frozen=True)
class ChunkCounts:
    """The counts of one chunk: per order (index k-1 for order k) sorted distinct codes and their counts.

    ``chars`` is the number of characters (non-zero ids) of the chunk.
    Picklable, so it travels between processes unchanged.
    """

    bits: int
    codes: tuple[np.ndarray, ...]
    counts: tuple[np.ndarray, ...]
    chars: int

    @property
    def max_order(self) -> int:
        """The highest order counted."""
        return len(self.codes)

    @property
    def tables(self) -> list[Table]:
        """``(keys, counts)`` per order."""
        return list(zip(self.codes, self.counts, strict=True))


def run_remaining(ids: np.ndarray) -> np.ndarray:
    """For each position, how many non-zero ids start there (0 on a separator).

    The end of the array ends a run, as a separator would. An n-gram of order
    k starts at i exactly when ``run_remaining(ids)[i] >= k``.
    """
    n = ids.size
    # the next separator (or the end) of each position: separator k is next for the positions after
    # separator k - 1 up to itself
    ends = np.append(np.flatnonzero(ids == 0), n)
    next_zero = np.repeat(ends, np.diff(ends, prepend=-1))[:n]
    next_zero -= np.arange(n, dtype=np.int64)
    return next_zero


def count_chunk(ids: np.ndarray, max_order: int, bits: int) -> ChunkCounts:
    """Count the n-grams of orders 1..``max_order`` inside the runs of one id chunk.

    ``ids``: 1-D array of character ids in 1 .. 2**bits - 1, with 0 between
    runs (the end of the array also ends a run). Returns a :class:`ChunkCounts`
    whose order-k codes pack k ids with ``bits`` bits each. A pure function.
    """
    max_order, bits = check_max_order(max_order), check_bits(bits)
    ids = _as_ids(ids, bits)
    width = min(max_order, CODE_BITS // bits)
    tables = _narrow_tables(ids, width, bits)
    if max_order > width:
        remaining = run_remaining(ids)
        tables += [_wide_table(ids, remaining, order, bits) for order in range(width + 1, max_order + 1)]
    return ChunkCounts(bits, tuple(t[0] for t in tables), tuple(t[1] for t in tables), int(tables[0][1].sum()))


def window_codes(ids: np.ndarray, width: int, bits: int) -> np.ndarray:
    """The ``width`` ids starting at every position packed in a ``uint64`` (ids past the chunk's end are 0).

    Windows are not cut at separators: a window that crosses a 0 holds a zero
    field, and :func:`_without_zero_field` tells it apart at each order.
    """
    n = ids.size
    windows = ids.astype(np.uint64)
    for j in range(1, width):
        windows <<= np.uint64(bits)
        windows[: max(n - j, 0)] |= ids[j:]
    return windows


def _without_zero_field(keys: np.ndarray, order: int, bits: int) -> np.ndarray:
    """Indices of the keys (``order`` fields of ``bits`` bits) whose fields are all non-zero.

    The SWAR test: subtracting 1 from every field borrows through a zero
    field and sets its top bit while the field's own top bit is clear; a
    borrow reaches a higher field only from a zero field, so "some field is
    zero" is exact.
    """
    if order == 1:
        return np.flatnonzero(keys)
    ones = sum(1 << (i * bits) for i in range(order))
    tops = np.uint64(ones << (bits - 1))
    flags = np.subtract(keys, np.uint64(ones))
    np.bitwise_and(flags, np.invert(keys), out=flags)
    np.bitwise_and(flags, tops, out=flags)
    return np.flatnonzero(flags == 0)


def _run_lengths(sorted_keys: np.ndarray) -> Table:
    """Distinct keys of a sorted 1-D key array and how often each occurs."""
    m = sorted_keys.shape[0]
    if m == 0:
        return sorted_keys, np.zeros(0, dtype=COUNT_DTYPE)
    starts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1])
    starts += 1
    starts = np.concatenate((np.zeros(1, dtype=starts.dtype), starts))
    return sorted_keys[starts], np.diff(starts, append=m).astype(COUNT_DTYPE, copy=False)


def _narrow_tables(ids: np.ndarray, width: int, bits: int) -> list[Table]:
    """Tables of orders 1..``width`` (``width * bits <= 64``) from one sort of the windows.

    The windows starting at a separator sort first (their first field is 0)
    and are cut off; the table of order k is the windows' first k fields
    (a right shift keeps the order), summed, minus keys with a zero field.
    """
    windows = window_codes(ids, width, bits)
    windows.sort()
    first_character = np.searchsorted(windows, np.uint64(1 << ((width - 1) * bits)))
    keys, counts = _run_lengths(windows[first_character:])
    del windows
    tables: list[Table] = []
    for order in range(width, 0, -1):
        complete = _without_zero_field(keys, order, bits)
        tables.append((keys[complete], counts[complete]))
        if order > 1:
            keys, counts = sum_sorted(keys >> np.uint64(bits), counts)
    return tables[::-1]


def _wide_table(ids: np.ndarray, remaining: np.ndarray, order: int, bits: int) -> Table:
    """The table of an order whose codes need several 64-bit words (rows sorted with lexsort)."""
    starts = np.flatnonzero(remaining >= order)
    rows = pack_at(ids, starts, order, bits)
    rows = rows[stable_order(rows)]
    return sum_sorted(rows, np.ones(rows.shape[0], dtype=COUNT_DTYPE))


# --------------------------------------------------------------------------- the result


class NgramTable:
    """Counts of n-grams of orders 1..max_order: per order, sorted distinct codes and their counts.

    Codes pack character ids with ``bits`` bits each (:mod:`mintext.ngrams.vocabulary`):
    a 1-D ``uint64`` array per order, or 2-D big-endian rows for orders with
    ``order * bits > 64``. ``N`` is the number of characters counted (the sum of
    order-1 counts before ``min_count`` dropped rare n-grams).
    """

    def __init__(
        self, codes: Sequence[np.ndarray], counts: Sequence[np.ndarray], *, bits: int, N: int,
        min_count: int | Sequence[int] = 1,
    ) -> None:
        """Wrap per-order sorted codes and counts (index k-1 for order k); the arrays are not copied.

        ``min_count``: the threshold that was applied, one int for every order or one per order.
        """
        if len(codes) != len(counts) or not codes:
            raise UsageError("an n-gram table needs codes and counts for orders 1..max_order")
        self.bits = bits
        self.N = int(N)
        self.min_counts = per_order(min_count, len(codes))
        self.min_count = self.min_counts[0] if len(set(self.min_counts)) == 1 else self.min_counts
        self._codes = [_read_only(c) for c in codes]
        self._counts = [_read_only(np.asarray(c, dtype=COUNT_DTYPE)) for c in counts]

    @property
    def max_order(self) -> int:
        """The highest order counted."""
        return len(self._codes)

    def _check_order(self, order: int) -> int:
        if not isinstance(order, (int, np.integer)) or not 1 <= order <= self.max_order:
            raise UsageError(f"order must be between 1 and {self.max_order}, got {order}")
        return int(order)

    def items(self, order: int) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, counts)`` of one order: codes strictly increasing, counts ``int64`` (read-only)."""
        order = self._check_order(order)
        return self._codes[order - 1], self._counts[order - 1]

    def distinct(self, order: int) -> int:
        """Number of distinct n-grams of one order kept."""
        return int(self.items(order)[1].size)

    def total(self, order: int) -> int:
        """Sum of the counts of one order (occurrences kept)."""
        return int(self.items(order)[1].sum())

    def count_of(self, codes: np.ndarray, order: int) -> np.ndarray:
        """Counts (``int64``) of n-gram codes of ``order``; 0 for codes not in the table."""
        keys, counts = self.items(order)
        wide = is_wide(order, self.bits)
        queries = np.asarray(codes, dtype=WIDE_DTYPE if wide else np.uint64)
        if wide:
            queries = queries.reshape(-1, code_words(order, self.bits))
        if keys.shape[0] == 0:
            return np.zeros(queries.shape[0], dtype=COUNT_DTYPE)
        at = np.minimum(search(keys, queries), keys.shape[0] - 1)
        found = comparable(keys)[at] == comparable(queries)
        return np.where(found, counts[at], 0)

    def to_counter(self, vocabulary: CharVocabulary) -> dict[str, int]:
        """All n-grams as ``{string: count}`` (for tests and small inputs)."""
        result: dict[str, int] = {}
        for order in range(1, self.max_order + 1):
            keys, counts = self.items(order)
            words = vocabulary.decode_many(keys, order, bits=self.bits)
            result.update(zip(words, counts.tolist(), strict=True))
        return result

    @property
    def nbytes(self) -> int:
        """Bytes held by codes and counts."""
        return sum(k.nbytes + c.nbytes for k, c in zip(self._codes, self._counts, strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NgramTable):
            return NotImplemented
        return (self.bits, self.N, self.max_order) == (other.bits, other.N, other.max_order) and all(
            np.array_equal(a, b) for a, b in zip(self._codes + self._counts, other._codes + other._counts, strict=True)
        )

    def __repr__(self) -> str:
        distinct = ", ".join(f"{self.distinct(k):,}" for k in range(1, self.max_order + 1))
        return (
            f"NgramTable(max_order={self.max_order}, N={self.N:,}, distinct=[{distinct}], "
            f"bits={self.bits}, min_count={self.min_count}, {self.nbytes / 2**20:.1f} MiB)"
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write the table to one ``.npz`` file (uncompressed)."""
        arrays = {f"keys_{k}": key for k, key in enumerate(self._codes, start=1)}
        arrays.update({f"counts_{k}": c for k, c in enumerate(self._counts, start=1)})
        meta = np.array([self.bits, self.N, self.max_order, *self.min_counts], dtype=np.int64)
        np.savez(path, meta=meta, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NgramTable:
        """Read a table written by :meth:`save`."""
        with np.load(path) as data:
            bits, n, max_order, *min_counts = (int(v) for v in data["meta"])
            keys = [data[f"keys_{k}"] for k in range(1, max_order + 1)]
            counts = [data[f"counts_{k}"] for k in range(1, max_order + 1)]
        return cls(keys, counts, bits=bits, N=n, min_count=min_counts)


def per_order(min_count: int | Sequence[int], max_order: int) -> tuple[int, ...]:
    """``min_count`` as one threshold per order 1..``max_order`` (each at least 1)."""
    values = [min_count] * max_order if isinstance(min_count, (int, np.integer)) else list(min_count)
    if len(values) != max_order:
        raise UsageError(f"min_count needs one value per order 1..{max_order}, got {len(values)}")
    return tuple(_check_positive("min_count", int(v)) for v in values)


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view (the caller's array keeps its flags)."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


def empty_tables(max_order: int, bits: int) -> list[Table]:
    """Empty tables of orders 1..max_order, with the key kind each order uses."""
    tables = []
    for order in range(1, max_order + 1):
        if is_wide(order, bits):
            keys = np.zeros((0, code_words(order, bits)), dtype=WIDE_DTYPE)
        else:
            keys = np.zeros(0, dtype=np.uint64)
        tables.append((keys, np.zeros(0, dtype=COUNT_DTYPE)))
    return tables


# --------------------------------------------------------------------------- reduce step


@dataclass(frozen=True)
class MemoryPlan:
    """How a memory budget (bytes) is shared: map batches, tables held before spilling, merge ranges."""

    batch_ids: int
    spill_bytes: int
    merge_rows: int

    @classmethod
    def from_budget(cls, memory: int, jobs: int = 1, batch_size: int | None = None) -> MemoryPlan:
        """An eighth of ``memory`` for the batches in flight, a quarter for held tables,
        an eighth for the input rows of a key range of the final merge (16 bytes a row)."""
        batch = batch_size or min(MAX_BATCH_IDS, max(MIN_BATCH_IDS, memory // (8 * MAP_BYTES_PER_ID * jobs)))
        return cls(batch_ids=batch, spill_bytes=memory // 4, merge_rows=max(16, memory // (8 * 16)))


class TableAccumulator:
    """Adds chunk tables like a binary counter, spilling to ``spill`` beyond ``spill_bytes``."""

    def __init__(self, max_order: int, bits: int, spill: SpillDir, spill_bytes: int) -> None:
        self.max_order = max_order
        self.bits = bits
        self.spill = spill
        self.spill_bytes = spill_bytes
        self.levels: list[list[Table]] = []
        self.chars = 0

    @staticmethod
    def _nbytes(level: list[Table]) -> int:
        return sum(table_nbytes(t) for t in level)

    @staticmethod
    def _merge_levels(below: list[Table], top: list[Table]) -> list[Table]:
        """Merge two levels order by order, letting go of each order's inputs once merged."""
        merged = []
        while below:
            merged.append(merge_tables([below.pop(0), top.pop(0)]))
        return merged

    def add(self, chunk: ChunkCounts) -> None:
        """Take in the tables of one chunk."""
        self.chars += chunk.chars
        self.levels.append(chunk.tables)
        while len(self.levels) >= 2 and self._nbytes(self.levels[-2]) <= 2 * self._nbytes(self.levels[-1]):
            top, below = self.levels.pop(), self.levels.pop()
            self.levels.append(self._merge_levels(below, top))
        if sum(self._nbytes(level) for level in self.levels) > self.spill_bytes:
            self.spill.write(self._collapse())

    def _collapse(self) -> list[Table]:
        """All levels merged into one table per order (each order's inputs let go once merged)."""
        levels, self.levels = self.levels, []
        merged = []
        for k in range(self.max_order):
            inputs = [level[k] for level in levels]
            for level in levels:
                level[k] = None
            merged.append(merge_tables(inputs))
            del inputs
        return merged

    def result(self, *, merge_rows: int, min_counts: Sequence[int]) -> list[Table]:
        """The merged tables of everything added (spilled runs included), counts >= ``min_count``.

        When runs were spilled, what is still held is spilled too, so that the
        final merge holds only its key range and the kept output.
        """
        if self.spill.runs and self.levels:
            self.spill.write(self._collapse())
        runs = self.spill.runs + self.levels
        if not runs:
            return empty_tables(self.max_order, self.bits)
        return [merge_runs([run[k] for run in runs], max_rows=merge_rows, min_count=min_counts[k]) for k in range(self.max_order)]


def split_chunks(ids: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Cut an id stream into consecutive pieces of about ``size`` ids, only just after a 0.

    Every piece but possibly the last ends with a separator, so no n-gram is cut.
    A cut is made at the first separator at or after each multiple of ``size``
    (a run longer than ``size`` makes a longer piece). Pieces are views of ``ids``.
    """
    size = _check_positive("chunk size", size)
    ids = np.asarray(ids)
    n = ids.size
    if n == 0:
        return
    boundaries = np.append(np.flatnonzero(ids == 0), n - 1)
    targets = np.arange(size - 1, n, size)
    ends = np.unique(boundaries[np.searchsorted(boundaries, targets)]) + 1
    start = 0
    for end in ends.tolist():
        yield ids[start:end]
        start = end
    if start < n:
        yield ids[start:]


def id_batches(chunks: Iterable[np.ndarray], batch_ids: int) -> Iterator[np.ndarray]:
    """Re-cut chunks into batches of about ``batch_ids`` ids; the end of every chunk ends a run."""
    pending: list[np.ndarray] = []
    held = 0
    for chunk in chunks:
        chunk = np.asarray(chunk)
        if chunk.ndim != 1:
            raise UsageError(f"id chunks must be 1-D arrays, got shape {chunk.shape}")
        if chunk.size == 0:
            continue
        if chunk[-1] != 0:
            chunk = np.append(chunk, np.zeros(1, dtype=chunk.dtype))
        for piece in split_chunks(chunk, batch_ids) if chunk.size > batch_ids else [chunk]:
            pending.append(piece)
            held += piece.size
            if held >= batch_ids:
                yield np.concatenate(pending) if len(pending) > 1 else pending[0]
                pending, held = [], 0
    if pending:
        yield np.concatenate(pending)


def _map(batches: Iterable[np.ndarray], max_order: int, bits: int, jobs: int) -> Iterator[ChunkCounts]:
    """``count_chunk`` over batches, in order; with ``jobs > 1`` in worker processes, ``2 * jobs`` batches in flight."""
    if jobs == 1:
        for batch in batches:
            yield count_chunk(batch, max_order, bits)
        return
    with WorkerPool(jobs) as pool:
        yield from pool.imap(partial(count_chunk, max_order=max_order, bits=bits), batches, window=2 * jobs)


def count_ngrams(
    chunks: Iterable[np.ndarray],
    max_order: int = DEFAULT_MAX_ORDER,
    *,
    bits: int,
    memory: int = DEFAULT_MEMORY,
    jobs: int = 1,
    min_count: int | Sequence[int] = 1,
    progress: bool = False,
    tmpdir: str | os.PathLike | None = None,
    batch_size: int | None = None,
) -> NgramTable:
    """Count all n-grams of orders 1..``max_order`` (1..8) inside the runs of id chunks.

    ``chunks``: 1-D arrays of character ids below ``2**bits`` with 0 between
    runs; the end of each chunk also ends a run (use :func:`split_chunks` to
    cut one long stream). ``memory``: bytes the counting may use; beyond a
    quarter of it, tables are spilled under ``tmpdir`` (removed afterwards).
    ``jobs``: processes for the map step. ``min_count``: n-grams counted fewer
    times are dropped from the result (``N`` still counts every character);
    one int, or one per order.
    ``batch_size``: ids per map task (default from ``memory``).
    The result does not depend on the chunking, ``jobs``, ``memory`` or ``batch_size``.
    """
    max_order, bits = check_max_order(max_order), check_bits(bits)
    memory, jobs = _check_positive("memory", memory), _check_positive("jobs", jobs)
    min_counts = per_order(min_count, max_order)
    batch_size = None if batch_size is None else _check_positive("batch_size", batch_size)
    plan = MemoryPlan.from_budget(memory, jobs, batch_size)
    counted = _map(id_batches(chunks, plan.batch_ids), max_order, bits, jobs)
    return merge_counted(counted, max_order, bits=bits, plan=plan, min_counts=min_counts, progress=progress, tmpdir=tmpdir)


def merge_counted(
    counted: Iterable[ChunkCounts], max_order: int, *, bits: int, plan: MemoryPlan, min_counts: Sequence[int],
    progress: bool = False, tmpdir: str | os.PathLike | None = None,
) -> NgramTable:
    """The reduce step of :func:`count_ngrams`: chunk tables (from any map, in any order) merged into one
    :class:`NgramTable` within ``plan``, spilling under ``tmpdir``, n-grams below ``min_counts`` dropped."""
    with SpillDir(tmpdir) as spill, progress_bar(progress, desc="counting n-grams", unit="char", unit_scale=True) as bar:
        accumulator = TableAccumulator(max_order, bits, spill, plan.spill_bytes)
        for counts in counted:
            accumulator.add(counts)
            bar.update(counts.chars)
        tables = accumulator.result(merge_rows=plan.merge_rows, min_counts=min_counts)
    return NgramTable([t[0] for t in tables], [t[1] for t in tables], bits=bits, N=accumulator.chars, min_count=min_counts)


# --------------------------------------------------------------------------- from text


def han_streams(blocks: Iterable[str]) -> Iterator[np.ndarray]:
    """:func:`~mintext.io.chars.han_stream` of consecutive text blocks, without splitting a Han run between blocks.

    A run that reaches the end of a block is held back and joined to the next
    block (unless it is longer than ``MAX_CARRY_CHARS``, where it is cut).
    """
    carry = ""
    for block in blocks:
        text = carry + block
        stream = han_stream(text)
        carry = ""
        if text and char_classes(codepoints(text[-1]))[0] == HAN:
            zeros = np.flatnonzero(stream[:-1] == 0)
            run_start = int(zeros[-1]) + 1 if zeros.size else 0
            run_length = stream.size - 1 - run_start
            if run_length <= MAX_CARRY_CHARS:
                carry = text[-run_length:]
                stream = stream[:run_start]
        if stream.size:
            yield stream
    if carry:
        yield han_stream(carry)
