"""Baskets read on the workers of a cluster: the client plans the inputs in pieces, each worker parses its own.

:func:`read_baskets_on` reads what :func:`~mintext.association.baskets.read_baskets`
reads, for the ``basket`` and ``fimi`` formats (one basket per line) from files:

1. the client plans the pieces (:func:`~mintext.io.pieces.corpus_pieces`): a
   plain file in an encoding where a newline byte is always a newline is cut
   into byte ranges just after a newline, two or more per worker thread; a
   compressed file, or one in UTF-16/32, is one piece;
2. a task per piece decodes it as the whole input decodes there and parses its
   lines (:func:`~mintext.association.baskets.line_baskets`), with item ids of
   its own; the result is kept on the worker, and only the piece's item names,
   basket counts and longest basket come back;
3. the item ids are given here in the order the names are first seen in the
   inputs (each piece's own order, the pieces in input order), which is the
   order of the local reader for text items; only the item names and so the
   output matter (items are shown and sorted by name). Each kept piece is
   renumbered where it lives into a partition of
   :mod:`~mintext.association.distributed`.

CSV quoting can hold a line break inside an item, so a piece of a ``basket``
input that has a double quote is given up and its input read again as one
piece. Standard input and the ``long`` format (a basket's rows may be anywhere
in its input) are read here and their partitions shipped
(:meth:`ClusterBaskets.shipped`). A decoding error is reported as the local
read reports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mintext.association.baskets import (
    Baskets,
    check_found,
    check_read_options,
    format_for,
    line_baskets,
    line_separator,
    read_baskets,
    space_separated_hint,
)
from mintext.cluster.executor import Executor
from mintext.errors import InputError
from mintext.io.pieces import DEFAULT_RANGE_BYTES, InputPiece, corpus_pieces, piece_blocks, raise_as_read_here
from mintext.io.progress import progress_bar
from mintext.io.sources import Corpus, DecodeStats

Partition = tuple[np.ndarray, np.ndarray]  # CSR arrays (indptr from 0, indices) of a run of baskets

PIECES_PER_WORKER = 2
MIN_RANGE_BYTES = 1 << 20

@dataclass(frozen=True)
class PieceSummary:
    """What comes back of a piece read on a worker: its item names (by its own ids), its baskets, the empty
    ones skipped, its longest basket, the byte sequences replaced, and whether it was given up for a quote."""

    items: list[str]
    n_baskets: int = 0
    empty_baskets: int = 0
    longest: int = 0
    replaced: int = 0
    quoted: bool = False


@dataclass
class ClusterBaskets:
    """Baskets kept in partitions on a cluster's workers (``partitions``: the executor's handles), with what the
    client needs of them: the item names by id, the basket count, the item counts and the longest basket."""

    items: list[str]
    n_baskets: int
    partitions: list
    counts: np.ndarray = field(repr=False)
    longest: int = 0

    @property
    def n_items(self) -> int:
        return len(self.items)

    def item_counts(self) -> np.ndarray:
        """Number of baskets that contain each item id (int64, length ``n_items``), counted on the workers."""
        return self.counts

    def space_separated_hint(self) -> str | None:
        """As :meth:`Baskets.space_separated_hint <mintext.association.baskets.Baskets.space_separated_hint>`."""
        return space_separated_hint(self.items, self.longest) if self.n_baskets else None

    def __repr__(self) -> str:
        return (f"ClusterBaskets({self.n_baskets:,} baskets, {self.n_items:,} items, "
                f"{len(self.partitions)} partitions on the workers)")

    @classmethod
    def shipped(cls, executor: Executor, baskets: Baskets, parts: int) -> ClusterBaskets:
        """``baskets`` read here, cut into ``parts`` partitions of about equal item occurrences, each shipped to
        and kept on a worker."""
        kept = executor.keep(partition_of, partitions(baskets, parts))
        return cls(baskets.items, baskets.n_baskets, kept, baskets.item_counts(), baskets.longest)


def read_baskets_on(
    executor: Executor,
    inputs: Sequence[str] | str,
    *,
    format: str | None = None,
    sep: str | None = None,
    tid: str | None = None,
    item: str | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    skip_empty: bool = False,
    stats: DecodeStats | None = None,
    range_bytes: int | None = None,
    progress: bool = False,
) -> ClusterBaskets:
    """:func:`~mintext.association.baskets.read_baskets` with the baskets kept on ``executor``'s workers (see the
    module docstring); the same options, the same checks and errors. ``range_bytes``: the size of a byte range
    (default: the plain files cut into about two pieces a worker thread, between 1 and 64 MiB). ``progress``: a
    bar of the pieces read on the workers, on stderr."""
    check_read_options(format, sep, tid, item)
    stats = stats if stats is not None else DecodeStats()
    options = {"format": format, "sep": sep, "tid": tid, "item": item, "encoding": encoding, "errors": errors,
               "skip_empty": skip_empty, "stats": stats}
    with Corpus(inputs, encoding, errors) as corpus:
        formats = [format or format_for(source.path) for source in corpus.sources]
        if "long" in formats or any(source.path is None for source in corpus.sources):
            baskets = read_baskets([s.path or "-" for s in corpus.sources], **options)
            return ClusterBaskets.shipped(executor, baskets, PIECES_PER_WORKER * executor.workers)
        seps = [line_separator(fmt, sep, source.path) for fmt, source in zip(formats, corpus.sources, strict=True)]
        range_bytes = range_bytes or _range_bytes(corpus, executor.workers)
        pieces = list(corpus_pieces(corpus, range_bytes))
        with progress_bar(progress, desc="reading", unit=" tasks") as bar:
            kept, summaries = _read_pieces(executor, corpus, pieces, seps, skip_empty, bar.update)
        stats.replaced += sum(s.replaced for s in summaries)
        names = [source.name for source in corpus.sources]
    return _joined(executor, kept, summaries, names)


def _range_bytes(corpus: Corpus, workers: int) -> int:
    """Byte ranges that cut the inputs into about :data:`PIECES_PER_WORKER` pieces a worker thread."""
    total = sum(os.path.getsize(source.path) for source in corpus.sources)
    return int(min(DEFAULT_RANGE_BYTES, max(MIN_RANGE_BYTES, total // (PIECES_PER_WORKER * max(1, workers)) + 1)))


def _read_pieces(
    executor: Executor, corpus: Corpus, pieces: list[InputPiece], seps: list[str | None], skip_empty: bool,
    done: Callable[[], Any] | None = None,
) -> tuple[list, list[PieceSummary]]:
    """Every piece read and kept on the workers (inputs with a quoted piece read again whole); the handles and
    the summaries, in input order; ``done()`` as each piece is read."""
    options = (corpus.encoding, corpus.errors, skip_empty)
    kept, summaries = _kept(executor, corpus, pieces, seps, options, done)
    quoted = sorted({piece.source for piece, summary in zip(pieces, summaries, strict=True) if summary.quoted})
    if not quoted:
        return kept, summaries
    again = [InputPiece(index, corpus.sources[index].name, corpus.sources[index].path) for index in quoted]
    whole = dict(zip(quoted, zip(*_kept(executor, corpus, again, seps, options, done), strict=True), strict=True))
    out_kept, out_summaries = [], []
    for piece, handle, summary in zip(pieces, kept, summaries, strict=True):
        if piece.source in whole:
            handle, summary = whole.pop(piece.source)
        elif piece.source in quoted:
            continue  # a later piece of an input read again whole
        out_kept.append(handle)
        out_summaries.append(summary)
    return out_kept, out_summaries


def _kept(
    executor: Executor, corpus: Corpus, pieces: list[InputPiece], seps: list[str | None], options: tuple,
    done: Callable[[], Any] | None,
) -> tuple[list, list[PieceSummary]]:
    """Each piece read and kept where it is read (:func:`read_basket_piece`), and its summary, in order; the
    first piece that fails is reported as the local read reports it."""
    kept: list = []
    summaries: list[PieceSummary] = []
    try:
        for piece in pieces:  # one at a time: an executor that runs tasks at once fails at its piece
            kept.extend(executor.keep(read_basket_piece, [(piece, seps[piece.source])], *options, done=done))
        for summary in executor.imap(summary_of, kept):
            summaries.append(summary)
    except InputError:
        raise_as_read_here(corpus, pieces[len(kept) if len(kept) < len(pieces) else len(summaries)])
        raise
    return kept, summaries


def _joined(executor: Executor, kept: list, summaries: list[PieceSummary], names: list[str]) -> ClusterBaskets:
    """The pieces' item names joined into one set of ids (first seen first), each kept piece renumbered where
    it lives; the client's view of the result."""
    ids: dict[str, int] = {}
    remaps = []
    for summary in summaries:
        remaps.append(np.fromiter((ids.setdefault(name, len(ids)) for name in summary.items), dtype=np.int32,
                                  count=len(summary.items)))
    n_baskets = sum(s.n_baskets for s in summaries)
    check_found(names, n_baskets, len(ids), sum(s.empty_baskets for s in summaries))
    partitions_kept = executor.keep(renumbered, [[handle, remap] for handle, remap in zip(kept, remaps, strict=True)])
    counts = np.zeros(len(ids), dtype=np.int64)
    for part_counts in executor.imap(item_counts, partitions_kept, len(ids)):
        counts += part_counts
    return ClusterBaskets(list(ids), n_baskets, partitions_kept, counts, max(s.longest for s in summaries))


# --------------------------------------------------------------------------- tasks (run on the workers)


class _Quoted(Exception):
    """A piece of a ``basket`` input (not a whole input) holds a double quote."""


def read_basket_piece(
    piece_and_sep: tuple[InputPiece, str | None], encoding: str, errors: str, skip_empty: bool
) -> tuple[Baskets, PieceSummary]:
    """A task: the baskets of one piece, parsed as the local reader parses that part of its input, with ids of
    their own; or, for a part of a ``basket`` input that holds a double quote, nothing (``quoted``)."""
    piece, sep = piece_and_sep
    stats = DecodeStats()
    blocks = piece_blocks(piece, encoding, errors, False, stats)
    if sep is not None and len(sep) == 1 and not piece.whole:
        blocks = _unquoted(blocks)
    try:
        baskets, empty = line_baskets(blocks, sep, piece.name, skip_empty=skip_empty)
    except _Quoted:
        return Baskets([], np.zeros(1, np.int64), np.zeros(0, np.int32)), PieceSummary([], quoted=True)
    return baskets, PieceSummary(baskets.items, baskets.n_baskets, empty, baskets.longest, stats.replaced)


def _unquoted(blocks: Iterable[str]) -> Iterator[str]:
    for block in blocks:
        if '"' in block:
            raise _Quoted
        yield block


def summary_of(kept: tuple[Baskets, PieceSummary]) -> PieceSummary:
    """A task: the summary of a kept piece."""
    return kept[1]


def renumbered(kept_and_remap: list) -> Partition:
    """A task: a kept piece as a partition in the joined ids (``remap[own id]``), each basket's ids ascending."""
    (baskets, _), remap = kept_and_remap
    indptr = baskets.indptr
    indices = remap[baskets.indices].astype(np.int64)
    basket_of = np.repeat(np.arange(baskets.n_baskets, dtype=np.int64), np.diff(indptr))
    order = np.lexsort((indices, basket_of))
    return indptr - indptr[0], indices[order].astype(np.int32)


def partitions(baskets: Baskets, parts: int) -> list[Partition]:
    """The baskets cut into ``parts`` contiguous ranges of about equal item occurrences, as CSR pairs
    ``(indptr from 0, indices)``."""
    n = baskets.n_baskets
    targets = np.linspace(0, baskets.indptr[-1], parts + 1)[1:-1]
    cuts = np.unique(np.concatenate(([0], np.searchsorted(baskets.indptr, targets), [n])))
    out = []
    for start, end in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        indptr = baskets.indptr[start : end + 1]
        out.append((indptr - indptr[0], baskets.indices[indptr[0] : indptr[-1]]))
    return out


def partition_of(part: Partition) -> Partition:
    """A worker's copy of its partition (the task that puts it there, run again if the worker dies)."""
    return part


def item_counts(part: Partition, n_items: int) -> np.ndarray:
    """Baskets of a partition that hold each item id."""
    return np.bincount(part[1], minlength=n_items).astype(np.int64, copy=False)
