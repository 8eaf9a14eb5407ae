"""The Han runs of a corpus, decoded once and kept on disk as code points.

Discovery reads its corpus many times (characters, n-grams, several rounds of
re-segmentation). Decoding and classifying text once and writing the Han runs
to a temporary file (4 bytes per character, a 0 after each run) makes every
later pass a cheap sequential read of a memory-mapped array, and works the
same for standard input, compressed files and directories.

On a cluster, :class:`ClusterHanStream` has the workers decode the pieces of
the corpus (:mod:`mintext.io.pieces`) into one file each, and the stream is
their concatenation (:class:`StreamFiles`): the same offsets, chunks and
vocabulary as :class:`HanStream`'s one file.
"""

from __future__ import annotations

import bisect
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from mintext.cluster.executor import Executor, check_visible
from mintext.errors import InputError
from mintext.io.pieces import (
    DEFAULT_RANGE_BYTES,
    InputPiece,
    corpus_pieces,
    piece_blocks,
    pieces_in_flight,
    raise_as_read_here,
)
from mintext.io.progress import progress_bar
from mintext.io.sources import Corpus, DecodeStats
from mintext.io.stopping import temporary_directory
from mintext.ngrams.counting import (
    DEFAULT_MAX_ORDER,
    DEFAULT_MEMORY,
    ChunkCounts,
    MemoryPlan,
    NgramTable,
    check_max_order,
    count_chunk,
    count_ngrams,
    han_streams,
    merge_counted,
    per_order,
    split_chunks,
)
from mintext.ngrams.vocabulary import CharVocabulary, count_codepoints

CHUNK_CHARS = 1 << 22
_SEPARATOR_SCAN = 1 << 12  # code points read at a time when looking for the separator after a cut


@dataclass(frozen=True)
class StreamFiles:
    """A Han stream stored as the concatenation of files of uint32 code points (``sizes[k]`` in ``paths[k]``);
    picklable, for the tasks that read spans of it by global offset."""

    paths: tuple[str, ...]
    sizes: tuple[int, ...]

    @property
    def starts(self) -> list[int]:
        """The global offset of each file's first code point."""
        return [0, *np.cumsum(self.sizes[:-1], dtype=np.int64).tolist()]

    def read(self, start: int, end: int) -> np.ndarray:
        """The code points ``start:end`` of the stream (``uint32``), read from the files that hold them."""
        starts = self.starts
        parts = []
        k = max(0, bisect.bisect_right(starts, start) - 1)
        while start < end and k < len(self.paths):
            stop = min(end, starts[k] + self.sizes[k])
            if stop > start:
                offset = 4 * (start - starts[k])
                parts.append(np.fromfile(self.paths[k], dtype=np.uint32, count=stop - start, offset=offset))
                start = stop
            k += 1
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.zeros(0, np.uint32)


def written_streams(streams: Iterable[np.ndarray], out, written: Callable[[int], object]) -> Iterator[np.ndarray]:
    """``streams``, each written to ``out`` (as uint32 code points) and its size told to ``written`` before it
    is passed on."""
    for stream in streams:
        out.write(np.ascontiguousarray(stream, dtype=np.uint32).tobytes())
        written(stream.size)
        yield stream


class HanStream:
    """A corpus's Han runs on disk with its character vocabulary.

    ``HanStream(corpus)`` makes one streaming pass over ``corpus``. Then
    :meth:`chunks` yields id arrays (``uint32``, 0 after each run, never
    cutting a run) as often as needed. Use as a context manager, or call
    :meth:`close`, to remove the temporary file (it is removed at exit
    in any case, whatever stops the run).
    """

    def __init__(self, corpus: Corpus, *, tmpdir: str | os.PathLike | None = None, progress: bool = False) -> None:
        self._dir, self._remove_dir = temporary_directory(self, "mintext-han-", tmpdir)
        self.path = os.path.join(self._dir, "han.u32")
        self.size = 0
        try:
            with open(self.path, "wb") as out, progress_bar(progress, desc="reading", unit="char", unit_scale=True) as bar:
                # characters counted as they are written
                streams = written_streams(han_streams(corpus.blocks()), out, lambda n: self._grow(n, bar))
                self.vocabulary = CharVocabulary.from_streams(streams)
        except BaseException:
            self.close()
            raise
        self._codepoints = np.memmap(self.path, dtype=np.uint32, mode="r") if self.size else np.zeros(0, np.uint32)

    def _grow(self, written: int, bar) -> None:
        self.size += written
        bar.update(written)

    @property
    def files(self) -> StreamFiles:
        """The file(s) holding the stream, for tasks that read spans of it (:func:`read_ids`)."""
        return StreamFiles((self.path,), (self.size,))

    @property
    def characters(self) -> int:
        """Number of Han characters (separators not counted)."""
        return self.vocabulary.total

    def _pieces(self, chunk_chars: int = CHUNK_CHARS) -> Iterator[np.ndarray]:
        if self.size:
            yield from split_chunks(self._codepoints, chunk_chars)

    def spans(self, chunk_chars: int = CHUNK_CHARS) -> list[tuple[int, int]]:
        """``(start, end)`` offsets of the chunks :meth:`chunks` yields (for workers that read the file)."""
        spans, start = [], 0
        for piece in self._pieces(chunk_chars):
            spans.append((start, start + piece.size))
            start += piece.size
        return spans

    def _sampling(self, chunk_chars: int, limit: int | None) -> tuple[int, int]:
        """The chunk size and the step (every k-th chunk) of a sample of about ``limit`` positions."""
        step = 1
        if limit is not None and self.size > limit:
            chunk_chars = min(chunk_chars, max(1 << 16, limit // 16))
            step = max(1, -(-self.size // chunk_chars) // max(1, limit // chunk_chars))
        return chunk_chars, step

    def chunks(self, chunk_chars: int = CHUNK_CHARS, *, limit: int | None = None) -> Iterator[np.ndarray]:
        """Id arrays of about ``chunk_chars`` positions, each ending with a 0.

        With ``limit``, stop after about that many positions, taken evenly
        across the corpus (every k-th chunk), so a sample sees all of it.
        """
        table = self.vocabulary.lookup_table
        chunk_chars, step = self._sampling(chunk_chars, limit)
        for index, piece in enumerate(self._pieces(chunk_chars)):
            if index % step == 0:
                yield table[piece]

    def sample_spans(self, limit: int | None, chunk_chars: int = CHUNK_CHARS) -> list[tuple[int, int]]:
        """``(start, end)`` offsets of the chunks ``chunks(chunk_chars, limit=limit)`` yields, in order."""
        chunk_chars, step = self._sampling(chunk_chars, limit)
        return self.spans(chunk_chars)[::step]

    def close(self) -> None:
        """Remove the temporary file (also done at exit if this is never called)."""
        self._codepoints = np.zeros(0, np.uint32)
        self._remove_dir()

    def __enter__(self) -> HanStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HanStream({self.characters} Han characters, {self.vocabulary.size} distinct)"


class ClusterHanStream(HanStream):
    """A :class:`HanStream` whose pieces (:func:`~mintext.io.pieces.corpus_pieces`) are read on ``executor``.

    Each task decodes its piece as the whole corpus is decoded (:func:`read_piece`), writes its Han runs
    to its own file in a folder under ``tmpdir`` (which the workers must see) and returns the file's size and
    character counts; the counts are added here into the same :class:`CharVocabulary`. Spans are global
    offsets in the concatenation of the files (:class:`StreamFiles`), their cuts found on the workers
    (:func:`segment_ends`), so that :meth:`spans`, :meth:`sample_spans` and :meth:`chunks` are
    :class:`HanStream`'s. A decoding error in a piece is raised as the local run raises it.
    """

    def __init__(
        self, corpus: Corpus, executor: Executor, *, tmpdir: str | os.PathLike | None = None, progress: bool = False,
        range_bytes: int = DEFAULT_RANGE_BYTES,
    ) -> None:
        self._dir, self._remove_dir = temporary_directory(self, "mintext-han-", tmpdir)
        self.executor, self.size = executor, 0
        try:
            check_visible(executor, self._dir)
            self._files = self._read(corpus, range_bytes, progress)
        except BaseException:
            self.close()
            raise

    def _read(self, corpus: Corpus, range_bytes: int, progress: bool) -> StreamFiles:
        """Every piece read on the workers; the files in order, the vocabulary and the decoding counts kept."""
        submitted: deque[InputPiece] = deque()

        def numbered() -> Iterator[tuple[int, InputPiece]]:
            for number, piece in enumerate(corpus_pieces(corpus, range_bytes)):
                submitted.append(piece)
                yield number, piece

        segments: list[Segment] = []
        options = (self._dir, corpus.encoding, corpus.errors, corpus.normalize)
        with progress_bar(progress, desc="reading", unit="task") as bar:
            window = pieces_in_flight(corpus, self.executor.workers, range_bytes)
            results = self.executor.imap(read_piece, numbered(), *options, window=window, done=bar.update)
            try:
                for segment in results:
                    submitted.popleft()
                    segments.append(segment)
            except InputError:
                raise_as_read_here(corpus, submitted[0])
                raise
        corpus.stats.replaced = sum(segment.replaced for segment in segments)
        self.vocabulary = CharVocabulary.from_counts(*added_counts(segments))
        files = StreamFiles(tuple(s.path for s in segments), tuple(s.size for s in segments))
        self.size = sum(files.sizes)
        return files

    @property
    def files(self) -> StreamFiles:
        """The files the workers wrote, in the corpus's order."""
        return self._files

    def spans(self, chunk_chars: int = CHUNK_CHARS) -> list[tuple[int, int]]:
        """:meth:`HanStream.spans`, the cuts of each file found by a task that reads near them."""
        files = self.files
        items = [(path, start, size) for path, start, size in zip(files.paths, files.starts, files.sizes, strict=True) if size]
        ends = [end for found in self.executor.imap(segment_ends, items, chunk_chars) for end in found.tolist()]
        spans = list(itertools.pairwise([0, *ends]))
        if self.size and (not ends or ends[-1] < self.size):
            spans.append((ends[-1] if ends else 0, self.size))
        return spans

    def chunks(self, chunk_chars: int = CHUNK_CHARS, *, limit: int | None = None) -> Iterator[np.ndarray]:
        """:meth:`HanStream.chunks`, each read from the files (with ``limit``, only the sample is read here)."""
        table = self.vocabulary.lookup_table
        for start, end in self.sample_spans(limit, chunk_chars):
            yield table[self.files.read(start, end)]


@dataclass(frozen=True)
class Segment:
    """What a task that read a piece returns: its file, the code points written (separators included),
    its distinct characters and their counts, and the undecodable sequences it replaced or dropped."""

    path: str
    size: int
    codepoints: np.ndarray
    counts: np.ndarray
    replaced: int


def read_piece(numbered: tuple[int, InputPiece], folder: str, encoding: str, errors: str, normalize: bool) -> Segment:
    """A task: the Han runs of one piece (decoded as the corpus decodes it, :func:`~mintext.io.pieces.piece_blocks`)
    written to the file ``folder/NUMBER.u32`` (atomically: a task run again writes the same file)."""
    number, piece = numbered
    path = os.path.join(folder, f"{number:08d}.u32")
    stats, sizes = DecodeStats(), []
    with open(f"{path}.part", "wb") as out:
        streams = han_streams(piece_blocks(piece, encoding, errors, normalize, stats))
        codepoints, counts = count_codepoints(written_streams(streams, out, sizes.append))
    os.replace(f"{path}.part", path)
    return Segment(path, sum(sizes), codepoints, counts, stats.replaced)


def added_counts(segments: Sequence[Segment]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct code points of all ``segments`` (increasing) and their summed counts, as
    :func:`~mintext.ngrams.vocabulary.count_codepoints` counts them over the whole stream."""
    top = max((int(s.codepoints[-1]) for s in segments if s.codepoints.size), default=0)
    totals = np.zeros(top + 1, dtype=np.int64)
    for segment in segments:
        totals[segment.codepoints] += segment.counts
    seen = np.flatnonzero(totals)
    return seen.astype(np.uint32), totals[seen]


def segment_ends(segment: tuple[str, int, int], chunk_chars: int) -> np.ndarray:
    """A task: the ends of the chunks of :func:`~mintext.ngrams.counting.split_chunks` (global offsets) that
    fall in one file of a :class:`StreamFiles`, ``(path, global start, size)``: for each multiple of
    ``chunk_chars`` (less one) in it, just after the first separator at or after it (every file ends with one).
    Only the code points from each such position to its separator are read."""
    path, first, size = segment
    targets = np.arange(-(-(first + 1) // chunk_chars) * chunk_chars - 1, first + size, chunk_chars)
    ends = []
    for target in targets.tolist():
        offset = target - first
        while True:
            window = np.fromfile(path, dtype=np.uint32, count=min(_SEPARATOR_SCAN, size - offset), offset=4 * offset)
            zeros = np.flatnonzero(window == 0)
            if zeros.size:
                ends.append(first + offset + int(zeros[0]) + 1)
                break
            offset += window.size
    return np.unique(np.array(ends, dtype=np.int64))


def read_ids(files: StreamFiles, start: int, end: int, lookup_table: np.ndarray) -> np.ndarray:
    """Ids of the code points ``start:end`` of a Han stream (for worker processes)."""
    return lookup_table[files.read(start, end)]


def count_span(span: tuple[int, int], files: StreamFiles, lookup_table: np.ndarray, max_order: int, bits: int) -> ChunkCounts:
    """The map step on a worker: :func:`~mintext.ngrams.counting.count_chunk` of the ids ``start:end`` of a
    Han stream, read by the worker itself."""
    return count_chunk(read_ids(files, span[0], span[1], lookup_table), max_order, bits)


def count_group(
    spans: list[tuple[int, int]], files: StreamFiles, lookup_table: np.ndarray, max_order: int, bits: int, memory: int
) -> ChunkCounts:
    """A worker's share of the counting: :func:`count_span` of each span, merged there (:func:`merge_group`)."""
    return merge_group((count_span(span, files, lookup_table, max_order, bits) for span in spans), max_order, bits, memory)


def merge_group(tables: Iterable[ChunkCounts], max_order: int, bits: int, memory: int) -> ChunkCounts:
    """A merge of the tree on a worker: ``tables`` added within ``memory`` (spilling to the worker's own
    temporary folder beyond a quarter of it), every count kept."""
    plan = MemoryPlan.from_budget(memory)
    table = merge_counted(tables, max_order, bits=bits, plan=plan, min_counts=[1] * max_order)
    orders = range(1, max_order + 1)
    return ChunkCounts(bits, tuple(table.items(k)[0] for k in orders), tuple(table.items(k)[1] for k in orders), table.N)


def merge_root(
    tables: list[ChunkCounts], max_order: int, bits: int, memory: int, min_counts: Sequence[int]
) -> NgramTable:
    """The last merge of the tree, on a worker: ``tables`` added within ``memory``, ``min_counts`` applied there."""
    plan = MemoryPlan.from_budget(memory)
    return merge_counted(tables, max_order, bits=bits, plan=plan, min_counts=min_counts)


def count_on(
    executor: Executor, han: HanStream, max_order: int, *, memory: int = DEFAULT_MEMORY, min_count: int | Sequence[int] = 1,
    progress: bool = False,
) -> NgramTable:
    """:func:`~mintext.ngrams.counting.count_ngrams` of ``han.chunks()`` with the map and the reduce on
    ``executor``: the workers read spans of the stream themselves (``memory`` sizes each span as it sizes a
    local batch) and merge groups of them (:func:`count_group`, two groups per worker), then the group
    tables are merged pairwise on the workers (:func:`merge_group`, a tree; each merge within ``memory``
    on its worker) and only the last merge's table (:func:`merge_root`, ``min_count`` applied) comes back.
    The same table as the local count (the counts are whole numbers: any grouping adds them exactly)."""
    max_order, bits = check_max_order(max_order), han.vocabulary.bits
    plan = MemoryPlan.from_budget(memory)
    check_visible(executor, han.files.paths[0])
    lookup = executor.share(han.vocabulary.lookup_table)
    spans = han.spans(plan.batch_ids)
    size = max(1, -(-len(spans) // (2 * executor.workers)))
    groups = [spans[k : k + size] for k in range(0, len(spans), size)]
    with progress_bar(progress, total=len(groups) + max(1, len(groups) - 1), desc="counting n-grams", unit="task") as bar:
        level = executor.keep(count_group, groups, han.files, lookup, max_order, bits, memory, done=bar.update)
        while len(level) > 2:
            pairs = [level[k : k + 2] for k in range(0, len(level) - 1, 2)]
            level = [*executor.keep(merge_group, pairs, max_order, bits, memory, done=bar.update), *level[len(pairs) * 2 :]]
        root = executor.imap(merge_root, [level], max_order, bits, memory, per_order(min_count, max_order), done=bar.update)
        return next(iter(root))


def count_corpus(
    corpus: Corpus,
    max_order: int = DEFAULT_MAX_ORDER,
    *,
    memory: int = DEFAULT_MEMORY,
    jobs: int = 1,
    min_count: int = 1,
    progress: bool = False,
    tmpdir: str | os.PathLike | None = None,
) -> tuple[CharVocabulary, NgramTable]:
    """Count the n-grams of a corpus: its Han runs are decoded once into a
    :class:`HanStream` (which counts the characters), then counted.

    Returns the character vocabulary (ids by frequency) and the n-gram table
    whose codes use its ids. Parameters as in :func:`count_ngrams`.
    """
    max_order = check_max_order(max_order)
    with HanStream(corpus, tmpdir=tmpdir, progress=progress) as han:
        table = count_ngrams(
            han.chunks(), max_order, bits=han.vocabulary.bits, memory=memory, jobs=jobs,
            min_count=min_count, progress=progress, tmpdir=tmpdir,
        )
        return han.vocabulary, table
