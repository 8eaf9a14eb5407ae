"""The Han runs of a corpus, decoded once and kept on disk as code points.

Discovery reads its corpus many times (characters, n-grams, several rounds of
re-segmentation). Decoding and classifying text once and writing the Han runs
to a temporary file (4 bytes per character, a 0 after each run) makes every
later pass a cheap sequential read of a memory-mapped array, and works the
same for standard input, compressed files and directories.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from mintext.cluster.executor import Executor, check_visible
from mintext.io.progress import progress_bar
from mintext.io.sources import Corpus
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
from mintext.ngrams.vocabulary import CharVocabulary

CHUNK_CHARS = 1 << 22


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
                self.vocabulary = CharVocabulary.from_streams(self._written(han_streams(corpus.blocks()), out, bar))
        except BaseException:
            self.close()
            raise
        self._codepoints = np.memmap(self.path, dtype=np.uint32, mode="r") if self.size else np.zeros(0, np.uint32)

    def _written(self, streams: Iterator[np.ndarray], out, bar) -> Iterator[np.ndarray]:
        """``streams``, each written to ``out`` (as uint32 code points) before it is passed on."""
        for stream in streams:
            out.write(np.ascontiguousarray(stream, dtype=np.uint32).tobytes())
            self.size += stream.size
            bar.update(stream.size)
            yield stream

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


def read_ids(path: str, start: int, end: int, lookup_table: np.ndarray) -> np.ndarray:
    """Ids of the code points ``start:end`` of a Han stream file (for worker processes)."""
    codepoints = np.fromfile(path, dtype=np.uint32, count=end - start, offset=4 * start)
    return lookup_table[codepoints]


def count_span(span: tuple[int, int], path: str, lookup_table: np.ndarray, max_order: int, bits: int) -> ChunkCounts:
    """The map step on a worker: :func:`~mintext.ngrams.counting.count_chunk` of the ids ``start:end`` of a
    Han stream file, read by the worker itself."""
    return count_chunk(read_ids(path, span[0], span[1], lookup_table), max_order, bits)


def count_group(
    spans: list[tuple[int, int]], path: str, lookup_table: np.ndarray, max_order: int, bits: int, memory: int
) -> ChunkCounts:
    """A worker's share of the counting: :func:`count_span` of each span, merged there within ``memory``
    (spilling to the worker's own temporary folder beyond a quarter of it), every count kept."""
    plan = MemoryPlan.from_budget(memory)
    counted = (count_span(span, path, lookup_table, max_order, bits) for span in spans)
    table = merge_counted(counted, max_order, bits=bits, plan=plan, min_counts=[1] * max_order)
    orders = range(1, max_order + 1)
    return ChunkCounts(bits, tuple(table.items(k)[0] for k in orders), tuple(table.items(k)[1] for k in orders), table.N)


def count_on(
    executor: Executor, han: HanStream, max_order: int, *, memory: int = DEFAULT_MEMORY, min_count: int | Sequence[int] = 1,
    progress: bool = False, tmpdir: str | os.PathLike | None = None,
) -> NgramTable:
    """:func:`~mintext.ngrams.counting.count_ngrams` of ``han.chunks()`` with the map step on ``executor``:
    the workers read spans of the file themselves (``memory`` sizes each span as it sizes a local batch) and
    merge groups of them (:func:`count_group`, two groups per worker, each within ``memory`` on its worker);
    the group tables are merged here, in order, within ``memory``. The same table as the local count."""
    max_order, bits = check_max_order(max_order), han.vocabulary.bits
    plan = MemoryPlan.from_budget(memory)
    check_visible(executor, han.path)
    lookup = executor.share(han.vocabulary.lookup_table)
    spans = han.spans(plan.batch_ids)
    size = max(1, -(-len(spans) // (2 * executor.workers)))
    groups = [spans[k : k + size] for k in range(0, len(spans), size)]
    counted = executor.imap(count_group, groups, han.path, lookup, max_order, bits, memory)
    return merge_counted(
        counted, max_order, bits=bits, plan=plan, min_counts=per_order(min_count, max_order), progress=progress, tmpdir=tmpdir
    )


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
