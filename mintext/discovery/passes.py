"""Segmentation passes over chunks of a corpus's Han runs: costs, best paths, word counts.

A :class:`Chunk` is an id chunk with the table rows of its n-grams, its runs
and its gap scores. :func:`segment_chunks` segments chunks under per-row word
costs and counts the words used; :class:`ChunkPool` does it for the
refinement chunks in forked worker processes; :class:`FinalPass` segments the
whole corpus from the file on disk (in worker processes with ``jobs > 1``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mintext.cluster.executor import Executor, check_visible
from mintext.discovery.gaps import GapEvidence
from mintext.discovery.lattice import Runs, best_word_lengths, length_spans, sorted_by_length
from mintext.discovery.ngramstats import SPELLED, ChunkRows, NgramStats, RowFinder, row_counts
from mintext.discovery.wordmodel import Spelling, WordModel
from mintext.io.progress import progress_bar
from mintext.io.workers import WorkerPool, can_fork
from mintext.ngrams.counting import run_remaining
from mintext.ngrams.hanstream import HanStream, read_ids
from mintext.ngrams.lookup import CodeIndex
from mintext.ngrams.vocabulary import pack_at


@dataclass
class Chunk:
    """An id chunk prepared for refinement: n-gram rows, runs and gap scores."""

    rows: ChunkRows
    runs: Runs
    gaps: np.ndarray

    @property
    def ids(self) -> np.ndarray:
        return self.rows.ids


def with_sentinels(row_costs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Row costs with two ``inf`` appended to each order, read by rows -1 and -2 (:data:`SPELLED`, whose
    cost is then replaced by the spelling cost); made once per model, not per chunk."""
    return {n: np.append(costs, [np.inf, np.inf]) for n, costs in row_costs.items()}


def cost_matrix(
    chunk: Chunk,
    row_costs: dict[int, np.ndarray],
    evidence: GapEvidence | None,
    spelling: Spelling | None,
) -> np.ndarray:
    """Cost of each word (length L, start i) in a chunk: the cost of its table row plus gap evidence.

    ``row_costs`` come from :func:`with_sentinels`: row -1 (the n-gram would
    cross a run end) costs ``inf``; rows marked :attr:`SPELLED`
    cost the ``spelling`` of their characters (``inf`` with no ``spelling``: such words cannot be used).
    """
    max_len, n = len(row_costs), chunk.ids.size
    costs = np.empty((max_len, n))
    logs = None
    for length in range(1, max_len + 1):
        rows = chunk.rows.rows[length]
        # rows -1 and -2 read the infs appended by with_sentinels ("wrap": numpy buffers a take into out
        # in its default mode, which checks bounds; wrap reads negative rows from the end just the same)
        np.take(row_costs[length], rows, out=costs[length - 1], mode="wrap")
        if spelling is None:
            continue
        spelled = rows == SPELLED
        if not spelled.any():
            continue
        if length == 1:  # no order-1 table is pruned; costed as any spelled word, for completeness
            costs[0, spelled] = spelling(chunk.ids[spelled][:, None].astype(np.int64))
            continue
        logs = spelling.base.position_logs(chunk.ids) if logs is None else logs
        end = n - length + 1  # a spelled word lies inside its run, so it starts before the end
        np.copyto(costs[length - 1, :end], spelling.along(logs, length), where=spelled[:end])
    if evidence is not None and evidence.weight:
        evidence.add_word_costs(costs, chunk.gaps)
    return costs


def path_counts(
    chunk: Chunk, spans: tuple[np.ndarray, np.ndarray], stats: NgramStats, max_len: int
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Word counts (per order, per table row) of the segmentation into the words ``spans`` (their
    ``(starts, lengths)``), and the codes of the words used that the table does not hold (pruned: seen once)."""
    counts, unlisted = {}, {}
    for order, at, rows in chunk.rows.words(spans, max_len):
        rows = rows.astype(np.int64)
        spelled = np.flatnonzero(rows == SPELLED)
        codes = np.zeros(0, dtype=np.uint64)
        if spelled.size:  # rows the sparse lookup of the final pass left out, or pruned n-grams
            codes = pack_at(chunk.ids, at[spelled], order, stats.bits)
            rows[spelled] = stats.rows(codes, order)
            codes = codes[rows[spelled] < 0]
        counts[order] = row_counts(rows, stats.codes[order].size)
        unlisted[order] = codes
    return counts, unlisted


def prepare_chunk(rows: ChunkRows, evidence: GapEvidence) -> Chunk:
    """A chunk with its runs and gap scores, ready to be segmented."""
    gaps = evidence.scores(rows.rows[2]) if 2 in rows.rows else np.zeros(rows.ids.size)
    return Chunk(rows, Runs.of(rows.ids), gaps)


class LongWordRows:
    """Table rows for words of length 3+ found by looking up only where a live word can start.

    A word of three or more characters that has no cached mass and is not
    banned costs its spelling alone, which the character ids give directly, so
    its table row is not needed. Only positions whose leading bigram begins a
    live word (:meth:`WordModel.live`) are looked up. Rows come out as: the
    table row for a live word, :data:`SPELLED` for any other n-gram inside a run,
    -1 where the n-gram would cross the end of its run.
    """

    def __init__(self, model: WordModel) -> None:
        stats = model.stats
        self.bits = stats.bits
        self.index: dict[int, tuple[CodeIndex, np.ndarray, np.ndarray]] = {}
        for order in range(3, model.max_len + 1):
            live = np.flatnonzero(model.live(order))
            codes = stats.codes[order][live]
            starts = np.zeros(stats.codes[2].size + 1, dtype=bool)  # +1: row -1 reads False
            starts[stats.rows(stats.prefix_codes(codes, order, 2), 2)] = True
            self.index[order] = (CodeIndex(codes), live, starts)

    def rows(self, ids: np.ndarray, rows2: np.ndarray, remaining: np.ndarray, order: int) -> np.ndarray:
        index, live, starts = self.index[order]
        rows = np.where(remaining >= order, np.int32(SPELLED), np.int32(-1))  # int32 straight away
        candidate = np.flatnonzero((remaining >= order) & starts[rows2])
        if candidate.size:
            codes = pack_at(ids, candidate, order, self.bits)
            found = index.find(codes)
            rows[candidate[found >= 0]] = live[found[found >= 0]]
        return rows


def final_chunk(ids: np.ndarray, finder: RowFinder, max_len: int, long_rows: LongWordRows, evidence: GapEvidence) -> Chunk:
    """A chunk for the final pass: full rows up to bigrams, sparse rows for longer words."""
    remaining = run_remaining(ids)
    rows = finder.position_rows(ids, min(2, max_len), remaining)
    for order in range(3, max_len + 1):
        rows.rows[order] = long_rows.rows(ids, rows.rows[2], remaining, order)
    return prepare_chunk(rows, evidence)


class FinalPass:
    """The final model, frozen and picklable: segments chunks of the Han stream file and counts words.

    Worker processes receive one of these and read their chunks from the file
    themselves; only offsets, per-row counts and the codes of the (few) words
    used without a table row travel between processes.
    """

    def __init__(self, model: WordModel, evidence: GapEvidence, han: HanStream) -> None:
        stats = model.stats
        self.finder, self.max_len, self.evidence = stats.row_finder(2), model.max_len, evidence
        self.sizes = {n: stats.codes[n].size for n in range(1, model.max_len + 1)}
        self.costs = with_sentinels(model.costs)
        self.spelling = model.spelling()
        self.long_rows = LongWordRows(model)
        self.files, self.lookup_table = han.files, han.vocabulary.lookup_table

    def counts(self, span: tuple[int, int]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """One chunk of the file: per order, counts per table row and the codes of spelled words used."""
        ids = sorted_by_length(read_ids(self.files, span[0], span[1], self.lookup_table))
        chunk = final_chunk(ids, self.finder, self.max_len, self.long_rows, self.evidence)
        lengths, _ = best_word_lengths(cost_matrix(chunk, self.costs, self.evidence, self.spelling), chunk.runs)
        counts, spelled = {}, {}
        for order, at, rows in chunk.rows.words(length_spans(lengths), self.max_len):
            counts[order] = row_counts(rows, self.sizes[order])
            spelled[order] = pack_at(ids, at[rows == SPELLED], order, self.finder.bits)
        return counts, spelled

    def sparse_counts(self, span: tuple[int, int]) -> tuple[dict[int, SparseCounts], dict[int, np.ndarray]]:
        """:meth:`counts` with the per-row counts as :func:`sparse` pairs (what a cluster worker sends back)."""
        counts, spelled = self.counts(span)
        return sparse(counts), spelled

    def run(
        self, stats: NgramStats, spans: list[tuple[int, int]], jobs: int = 1, progress: bool = False,
        executor: Executor | None = None,
    ) -> tuple[dict[int, np.ndarray], Unlisted]:
        """Counts (per order, per table row of ``stats``) over all ``spans``, with ``jobs`` worker
        processes (or on ``executor``, the model shared once), and the words used that the table does not hold."""
        total = {n: np.zeros(size) for n, size in self.sizes.items()}
        unlisted: dict[int, list[np.ndarray]] = {n: [] for n in self.sizes}
        if executor is None:  # a bar of characters segmented; on a cluster, of tasks finished
            bar = progress_bar(progress, total=sum(e - s for s, e in spans), desc="segmenting", unit="char", unit_scale=True)
        else:
            bar = progress_bar(progress, total=len(spans), desc="segmenting", unit="task")
        with bar:
            if executor is None:
                results = _map_spans(self, spans, jobs)
            else:
                check_visible(executor, self.files.paths[0])
                results = executor.imap(_sparse_span_counts, spans, executor.share(self), done=bar.update)
            for span, (counts, spelled) in zip(spans, results, strict=True):
                add_counts(total, counts)
                for order, codes in spelled.items():
                    if codes.size:
                        rows = stats.rows(codes, order)
                        total[order] += np.bincount(rows[rows >= 0], minlength=self.sizes[order])
                        unlisted[order].append(codes[rows < 0])
                if executor is None:
                    bar.update(span[1] - span[0])
        return total, _tally(unlisted)


def _sparse_span_counts(span: tuple[int, int], final: FinalPass) -> tuple[dict[int, SparseCounts], dict[int, np.ndarray]]:
    """A cluster task: :meth:`FinalPass.sparse_counts` of one span."""
    return final.sparse_counts(span)


_WORKER_PASS: FinalPass | None = None


def _worker_init(final: FinalPass) -> None:
    global _WORKER_PASS
    _WORKER_PASS = final


def _worker_counts(span: tuple[int, int]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    assert _WORKER_PASS is not None
    return _WORKER_PASS.counts(span)


def _map_spans(final: FinalPass, spans: list[tuple[int, int]], jobs: int) -> Iterator[tuple[dict, dict]]:
    """:meth:`FinalPass.counts` of each span, in order: here, or in ``jobs`` workers (forked ones share
    the model's tables, spawned ones get a pickled copy)."""
    if jobs == 1 or len(spans) < 2:
        yield from map(final.counts, spans)
        return
    with WorkerPool(min(jobs, len(spans)), _worker_init, (final,)) as pool:
        yield from pool.imap(_worker_counts, spans)


def segment_chunks(
    chunks: Iterable[Chunk],
    row_costs: dict[int, np.ndarray],
    stats: NgramStats,
    evidence: GapEvidence | None,
    spelling: Spelling | None,
) -> tuple[dict[int, np.ndarray], Unlisted]:
    """Best segmentation of every chunk under ``row_costs``: word counts per order and table row, and
    the words the table does not hold (per order, distinct codes and their counts). Words marked
    :data:`SPELLED` cost their ``spelling`` (with none, they cannot be used)."""
    return segment_with_sentinels(chunks, with_sentinels(row_costs), stats, evidence, spelling)


def segment_with_sentinels(
    chunks: Iterable[Chunk],
    row_costs: dict[int, np.ndarray],
    stats: NgramStats,
    evidence: GapEvidence | None,
    spelling: Spelling | None,
) -> tuple[dict[int, np.ndarray], Unlisted]:
    """:func:`segment_chunks` with ``row_costs`` already through :func:`with_sentinels`."""
    max_len = len(row_costs)
    counts = {n: np.zeros(stats.codes[n].size) for n in range(1, max_len + 1)}
    unlisted: dict[int, list[np.ndarray]] = {n: [] for n in range(1, max_len + 1)}
    for chunk in chunks:
        lengths, _ = best_word_lengths(cost_matrix(chunk, row_costs, evidence, spelling), chunk.runs)
        found, missing = path_counts(chunk, length_spans(lengths), stats, max_len)
        add_counts(counts, found)
        for order, codes in missing.items():
            unlisted[order].append(codes)
    return counts, _tally(unlisted)


Unlisted = dict[int, tuple[np.ndarray, np.ndarray]]


def _tally(codes: dict[int, list[np.ndarray]]) -> Unlisted:
    """Distinct codes and their counts, per order."""
    out = {}
    for order, parts in codes.items():
        joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        out[order] = np.unique(joined, return_counts=True)
    return out


def _merge_unlisted(parts: list[Unlisted]) -> Unlisted:
    """Sum several :data:`Unlisted` tallies."""
    out = {}
    for order in {o for p in parts for o in p}:
        codes = np.concatenate([p[order][0] for p in parts if order in p])
        counts = np.concatenate([p[order][1] for p in parts if order in p])
        unique, inverse = np.unique(codes, return_inverse=True)
        out[order] = (unique, np.bincount(inverse, weights=counts).astype(np.int64))
    return out


_FORKED: dict[str, object] = {}


def _inherit(chunks: list[Chunk], stats: NgramStats, evidence: GapEvidence) -> None:
    """In a forked worker: keep the chunks, table and evidence it shares with the parent."""
    _FORKED.update(chunks=chunks, stats=stats, evidence=evidence)


def _forked_counts(task: tuple) -> tuple[dict[int, np.ndarray], Unlisted]:
    """In a forked worker: :func:`segment_chunks` of some of the inherited chunks."""
    indices, row_costs, spelling, with_evidence = task
    chunks = [_FORKED["chunks"][i] for i in indices]
    return segment_chunks(chunks, row_costs, _FORKED["stats"], _FORKED["evidence"] if with_evidence else None, spelling)


class ChunkPool:
    """Segments the refinement chunks under new costs each round, in ``jobs`` processes.

    The workers are forked after the chunks are prepared and inherit them, so
    a round sends only the cost arrays. Where ``fork`` is not available (or
    with one job) the chunks are segmented in this process.
    """

    def __init__(self, chunks: list[Chunk], stats: NgramStats, max_len: int, evidence: GapEvidence, jobs: int) -> None:
        self.chunks, self.stats, self.max_len, self.evidence = chunks, stats, max_len, evidence
        self._pool: WorkerPool | None = None
        if jobs > 1 and len(chunks) > 1 and can_fork():
            workers = min(jobs, len(chunks))
            self._pool = WorkerPool(workers, _inherit, (chunks, stats, evidence))
            self._tasks = [list(range(k, len(chunks), workers)) for k in range(workers)]

    def counts(
        self, row_costs: dict[int, np.ndarray], spelling: Spelling | None, with_evidence: bool = True
    ) -> tuple[dict[int, np.ndarray], Unlisted]:
        """:func:`segment_chunks` of every chunk (``spelling`` goes to the workers pickled)."""
        if self._pool is None:
            return segment_chunks(self.chunks, row_costs, self.stats, self.evidence if with_evidence else None, spelling)
        total = {n: np.zeros(self.stats.codes[n].size) for n in range(1, self.max_len + 1)}
        unlisted = []
        tasks = [(task, row_costs, spelling, with_evidence) for task in self._tasks]
        for part, missing in self._pool.map(_forked_counts, tasks):
            add_counts(total, part)
            unlisted.append(missing)
        return total, _merge_unlisted(unlisted)

    def close(self) -> None:
        """Stop the workers (see :meth:`WorkerPool.close`)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pool is not None and exc_type is not None:
            self._pool.kill()
        self.close()


SparseCounts = tuple[np.ndarray, np.ndarray]  # the rows with a count and their counts


def sparse(counts: dict[int, np.ndarray]) -> dict[int, SparseCounts]:
    """Per order, the rows of ``counts`` that are not 0 and their values (what travels from a cluster worker)."""
    out = {}
    for order, values in counts.items():
        rows = np.flatnonzero(values)
        out[order] = (rows, values[rows])
    return out


def add_counts(total: dict[int, np.ndarray], part: dict[int, np.ndarray] | dict[int, SparseCounts]) -> None:
    """Add per-order counts, dense arrays or :func:`sparse` pairs, to ``total`` in place."""
    for order, values in part.items():
        if isinstance(values, tuple):
            rows, counts = values
            total[order][rows] += counts
        else:
            total[order] += values


