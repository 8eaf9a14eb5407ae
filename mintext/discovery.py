"""Minimal-entropy word discovery: from raw text to a lexicon, with no dictionary and no labels.

The pipeline (see README "How discovery works"):

1. Read the corpus once; keep its Han runs on disk (:mod:`mintext.hanstream`).
2. Count all n-grams of orders 1..K+1 (:mod:`mintext.ngrams`), K = the
   maximum word length; derive branching entropies and solidity.
3. Score every gap between two characters for boundary evidence
   (:mod:`mintext.gaps`).
4. Initial lexicon: the threshold pipeline (solidity per order, rough cut,
   candidate counting, backtracking; :mod:`mintext.threshold`) and the
   segmentation cut at boundary-like gaps, their word counts averaged.
5. Minimal-entropy refinement (:mod:`mintext.wordmodel`): segment the corpus
   with the current word model, re-estimate the counts, drop free-form
   compounds; repeat while the code length of the corpus keeps falling.
6. Final pass over the whole corpus with the final model: word frequencies,
   and the segmented corpus if asked for.

The result is a :class:`pandas.DataFrame` (see :func:`discover`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import IO

import numpy as np
import pandas as pd

from mintext.errors import UsageError
from mintext.gaps import GapEvidence, GapScorer, GapSites
from mintext.hanstream import HanStream, read_ids
from mintext.lattice import Runs, best_segmentation, sorted_by_length, word_spans
from mintext.lexicon import COLUMNS, segmenter_for, sort_lexicon
from mintext.lookup import CodeIndex
from mintext.ngrams import DEFAULT_MEMORY, _pool_context, count_ngrams, run_remaining
from mintext.ngramstats import SPELLED, ChunkRows, NgramStats, RowFinder
from mintext.progress import progress_bar
from mintext.segmenter import Segmenter
from mintext.sources import Corpus
from mintext.threshold import candidate_counts, kept_ngrams
from mintext.vocabulary import pack_ids, unpack_codes
from mintext.wordmodel import ModelParameters, WordModel

log = logging.getLogger("mintext")

DEFAULT_MAX_WORD_LENGTH = 3
DEFAULT_SAMPLE = 4_000_000
CODE_LENGTH_TOLERANCE = 1e-3  # refinement stops when a round lowers the code length by less than 0.1%


@dataclass(frozen=True)
class DiscoveryOptions:
    """Options of a discovery run (recorded in the lexicon's header).

    ``max_word_length``: longest word, 1..6. ``min_count``: threshold stage
    count threshold (``None``: derived from the corpus size). ``rounds``:
    most refinement rounds. ``gap_weight``: weight of the gap evidence during
    refinement. ``autonomy``/``free_share``: the free-form test. ``sample``:
    refinement runs on at most this many characters, spread over the corpus.
    """

    max_word_length: int = DEFAULT_MAX_WORD_LENGTH
    min_count: int | None = None
    rounds: int = 6
    gap_weight: float = 2.0
    autonomy: float = 0.5
    free_share: float = 0.5
    sample: int = DEFAULT_SAMPLE
    model: ModelParameters = field(default_factory=ModelParameters)

    def check(self) -> None:
        """Raise :class:`UsageError` for values outside their valid ranges."""
        if not 1 <= self.max_word_length <= 6:
            raise UsageError(f"max word length must be between 1 and 6, got {self.max_word_length}")
        if self.min_count is not None and self.min_count < 1:
            raise UsageError(f"min count must be at least 1, got {self.min_count}")
        if not 0 <= self.rounds <= 50:
            raise UsageError(f"rounds must be between 0 and 50, got {self.rounds}")
        for name in ("autonomy", "free_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise UsageError(f"{name.replace('_', ' ')} must be between 0 and 1, got {value}")
        if self.gap_weight < 0:
            raise UsageError(f"gap weight must be at least 0, got {self.gap_weight}")
        if self.sample < 1000:
            raise UsageError(f"sample must be at least 1000 characters, got {self.sample}")


def derived_min_count(characters: int) -> int:
    """Count threshold of the threshold stage: 2 up to a million characters, then growing as
    the cube root of the corpus size (a 10x larger corpus supports ~2x stricter evidence)."""
    return max(2, round(2 * (characters / 1e6) ** (1 / 3)))


# --------------------------------------------------------------------------- chunks


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
    evidence: GapEvidence | None = None,
    spelling_cost: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Cost of each word (length L, start i) in a chunk: the cost of its table row plus gap evidence.

    ``row_costs`` come from :func:`with_sentinels`: row -1 (the n-gram would
    cross a run end) costs ``inf``; rows marked :attr:`SPELLED`
    cost ``spelling_cost`` of their characters.
    """
    max_len = len(row_costs)
    costs = np.empty((max_len, chunk.ids.size))
    for length in range(1, max_len + 1):
        rows = chunk.rows.rows[length]
        # rows -1 and -2 read the infs appended by with_sentinels
        np.take(row_costs[length], rows, out=costs[length - 1])
        spelled = np.flatnonzero(rows == SPELLED)
        if spelled.size:
            words = np.stack([chunk.ids[spelled + j] for j in range(length)], axis=1).astype(np.int64)
            costs[length - 1, spelled] = spelling_cost(words)
    if evidence is not None and evidence.weight:
        evidence.add_word_costs(costs, chunk.gaps)
    return costs


def path_counts(
    chunk: Chunk, word_starts: np.ndarray, stats: NgramStats, max_len: int
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Word counts (per order, per table row) of the segmentation marked by ``word_starts``,
    and the codes of the words used that the table does not hold (pruned: seen once)."""
    starts, lengths = word_spans(word_starts, chunk.ids)
    counts, unlisted = {}, {}
    for order in range(1, max_len + 1):
        at = starts[lengths == order]
        rows = chunk.rows.rows[order][at].astype(np.int64)
        spelled = np.flatnonzero(rows == SPELLED)
        codes = np.zeros(0, dtype=np.uint64)
        if spelled.size:  # rows the sparse lookup of the final pass left out, or pruned n-grams
            ids = chunk.ids.astype(np.uint64)
            codes = pack_ids([ids[at[spelled] + j] for j in range(order)], stats.bits)
            rows[spelled] = stats.rows(codes, order)
            codes = codes[rows[spelled] < 0]
        counts[order] = np.bincount(rows[rows >= 0], minlength=stats.codes[order].size).astype(np.float64)
        unlisted[order] = codes
    return counts, unlisted


def prepare_chunk(rows: ChunkRows, evidence: GapEvidence) -> Chunk:
    """A chunk with its runs and gap scores, ready to be segmented."""
    gaps = evidence.scores(rows.rows[1], rows.rows[2]) if 2 in rows.rows else np.zeros(rows.ids.size)
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
        rows = np.where(remaining >= order, SPELLED, -1).astype(np.int32)
        candidate = np.flatnonzero((remaining >= order) & starts[rows2])
        if candidate.size:
            ids64 = ids.astype(np.uint64)
            codes = pack_ids([ids64[candidate + j] for j in range(order)], self.bits)
            found = index.find(codes)
            rows[candidate[found >= 0]] = live[found[found >= 0]]
        return rows


def final_chunk(ids: np.ndarray, finder: RowFinder, max_len: int, long_rows: LongWordRows, evidence: GapEvidence) -> Chunk:
    """A chunk for the final pass: full rows up to bigrams, sparse rows for longer words."""
    remaining = run_remaining(ids)
    rows = finder.position_rows(ids, min(2, max_len), remaining)
    if max_len >= 3:
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
        self.path, self.lookup_table = han.path, han.vocabulary.lookup_table

    def counts(self, span: tuple[int, int]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """One chunk of the file: per order, counts per table row and the codes of spelled words used."""
        ids = sorted_by_length(read_ids(self.path, span[0], span[1], self.lookup_table))
        chunk = final_chunk(ids, self.finder, self.max_len, self.long_rows, self.evidence)
        starts, _ = best_segmentation(cost_matrix(chunk, self.costs, self.evidence, self.spelling), chunk.runs)
        word_start, word_length = word_spans(starts, ids)
        counts, spelled = {}, {}
        for order, size in self.sizes.items():
            at = word_start[word_length == order]
            rows = chunk.rows.rows[order][at]
            counts[order] = np.bincount(rows[rows >= 0], minlength=size).astype(np.float64)
            left_out = at[rows == SPELLED]
            ids64 = ids.astype(np.uint64)
            spelled[order] = pack_ids([ids64[left_out + j] for j in range(order)], self.finder.bits)
        return counts, spelled

    def run(
        self, stats: NgramStats, spans: list[tuple[int, int]], jobs: int = 1, progress: bool = False
    ) -> tuple[dict[int, np.ndarray], Unlisted]:
        """Counts (per order, per table row of ``stats``) over all ``spans``, with ``jobs`` worker
        processes, and the words used that the table does not hold."""
        total = {n: np.zeros(size) for n, size in self.sizes.items()}
        unlisted: dict[int, list[np.ndarray]] = {n: [] for n in self.sizes}
        with progress_bar(progress, total=sum(e - s for s, e in spans), desc="segmenting", unit="char", unit_scale=True) as bar:
            for span, (counts, spelled) in zip(spans, _map_spans(self, spans, jobs), strict=True):
                _add(total, counts)
                for order, codes in spelled.items():
                    if codes.size:
                        rows = stats.rows(codes, order)
                        total[order] += np.bincount(rows[rows >= 0], minlength=self.sizes[order])
                        unlisted[order].append(codes[rows < 0])
                bar.update(span[1] - span[0])
        return total, _tally(unlisted)


_WORKER_PASS: FinalPass | None = None


def _worker_init(payload: bytes) -> None:
    global _WORKER_PASS
    _WORKER_PASS = pickle.loads(payload)


def _worker_counts(span: tuple[int, int]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    assert _WORKER_PASS is not None
    return _WORKER_PASS.counts(span)


def _map_spans(final: FinalPass, spans: list[tuple[int, int]], jobs: int) -> Iterator[tuple[dict, dict]]:
    if jobs == 1 or len(spans) < 2:
        yield from map(final.counts, spans)
        return
    workers = min(jobs, len(spans))
    if sys.platform.startswith("linux"):
        # forked workers share the parent's read-only tables (copy on write) instead of a pickled copy each
        global _WORKER_PASS
        _WORKER_PASS = final
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield from pool.imap(_worker_counts, spans)
        finally:
            _WORKER_PASS = None
        return
    payload = pickle.dumps(final, protocol=pickle.HIGHEST_PROTOCOL)
    with ProcessPoolExecutor(workers, mp_context=_pool_context(), initializer=_worker_init, initargs=(payload,)) as pool:
        yield from pool.map(_worker_counts, spans)


def segment_chunks(
    chunks: Iterable[Chunk],
    row_costs: dict[int, np.ndarray],
    stats: NgramStats,
    evidence: GapEvidence | None = None,
    spelling_cost: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[dict[int, np.ndarray], Unlisted]:
    """Best segmentation of every chunk under ``row_costs``: word counts per order and table row, and
    the words the table does not hold (per order, distinct codes and their counts)."""
    max_len = len(row_costs)
    counts = {n: np.zeros(stats.codes[n].size) for n in range(1, max_len + 1)}
    unlisted: dict[int, list[np.ndarray]] = {n: [] for n in range(1, max_len + 1)}
    row_costs = with_sentinels(row_costs)
    for chunk in chunks:
        starts, _ = best_segmentation(cost_matrix(chunk, row_costs, evidence, spelling_cost), chunk.runs)
        found, missing = path_counts(chunk, starts, stats, max_len)
        _add(counts, found)
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
        self._pool = None
        if jobs > 1 and len(chunks) > 1 and sys.platform.startswith("linux"):
            _FORKED.update(chunks=chunks, stats=stats, evidence=evidence)
            self._pool = multiprocessing.get_context("fork").Pool(min(jobs, len(chunks)))
            self._tasks = [list(range(k, len(chunks), min(jobs, len(chunks)))) for k in range(min(jobs, len(chunks)))]

    def counts(
        self, row_costs: dict[int, np.ndarray], spelling: Callable[[np.ndarray], np.ndarray], with_evidence: bool = True
    ) -> tuple[dict[int, np.ndarray], Unlisted]:
        """:func:`segment_chunks` of every chunk (``spelling`` must be picklable for the workers)."""
        if self._pool is None:
            return segment_chunks(self.chunks, row_costs, self.stats, self.evidence if with_evidence else None, spelling)
        total = {n: np.zeros(self.stats.codes[n].size) for n in range(1, self.max_len + 1)}
        unlisted = []
        tasks = [(task, row_costs, spelling, with_evidence) for task in self._tasks]
        for part, missing in self._pool.map(_forked_counts, tasks):
            _add(total, part)
            unlisted.append(missing)
        return total, _merge_unlisted(unlisted)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
            _FORKED.clear()

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None and exc[0] is not None:
            self._pool.terminate()
        self.close()


def _add(total: dict[int, np.ndarray], part: dict[int, np.ndarray]) -> None:
    for order, values in part.items():
        total[order] += values


# --------------------------------------------------------------------------- stages


def _never(ids: np.ndarray) -> np.ndarray:
    """The threshold stage's lexicon has no words outside the table: they cannot be used."""
    return np.full(ids.shape[0], np.inf)


def initial_counts(
    pool: ChunkPool, stats: NgramStats, max_len: int, min_count: int
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Average of the threshold pipeline's segmentation counts and the gap-cut segmentation counts,
    and the share of each character's occurrences that both segmentations leave alone."""
    sizes = {n: stats.codes[n].size for n in range(1, max_len + 1)}
    chunks = pool.chunks
    kept = kept_ngrams(stats, min_count)
    lexicon = candidate_counts([c.rows for c in chunks], stats, kept, max_len, min_count)
    tokens = max(sum(c.sum() for c in lexicon.values()), 1.0)
    row_costs = {}
    for n in range(1, max_len + 1):
        with np.errstate(divide="ignore"):
            cost = np.log(tokens) - np.log(lexicon[n])
        if n == 1:
            cost[~np.isfinite(cost)] = np.log(tokens)  # unseen single characters
        row_costs[n] = cost
    threshold_counts, _ = pool.counts(row_costs, _never, with_evidence=False)
    cut_counts = {n: np.zeros(size) for n, size in sizes.items()}
    for chunk in chunks:
        cut = np.zeros(chunk.ids.size, dtype=bool)
        cut[chunk.runs.starts] = True
        cut[1:] |= (chunk.gaps[:-1] > 0) & (chunk.ids[1:] != 0)
        _add(cut_counts, path_counts(chunk, cut, stats, max_len)[0])
    average = {n: (threshold_counts[n] + cut_counts[n]) / 2 for n in sizes}
    # a character is free at the start only if both segmentations agree it mostly stands alone
    share = np.minimum(threshold_counts[1], cut_counts[1]) / np.maximum(stats.counts[1], 1.0)
    return average, share


def refine(
    model: WordModel,
    pool: ChunkPool,
    options: DiscoveryOptions,
    initial_share: np.ndarray | None = None,
    progress: bool = False,
) -> list[float]:
    """Minimal-entropy refinement, in place; returns the corpus code length (nats) of each round."""
    sizes = {n: model.counts[n].size for n in model.counts}
    lengths: list[float] = []
    with progress_bar(progress, total=options.rounds, desc="refining", unit="round") as bar:
        for round_number in range(options.rounds):
            model.ban_free_compounds(options.autonomy, options.free_share, initial_share if round_number == 0 else None)
            counts, _ = pool.counts(model.costs, model.spelling())
            length = model.code_length(counts)
            bar.update(1)
            log.debug("refinement round %d: code length %.0f nats, %d word types", len(lengths) + 1, length, model.types)
            unchanged = all(np.array_equal(counts[n], model.counts[n]) for n in sizes)
            if lengths and length >= lengths[-1] * (1 - CODE_LENGTH_TOLERANCE):
                lengths.append(length)
                if length >= lengths[-2]:
                    break  # no better: keep the previous round's counts
                model.counts = counts
                model.refresh()
                break
            lengths.append(length)
            model.counts = counts
            model.refresh()
            if unchanged:
                break
    return lengths


# --------------------------------------------------------------------------- the run


@dataclass
class Discovery:
    """Everything a discovery run produced: the model, statistics and diagnostics."""

    stats: NgramStats
    model: WordModel
    evidence: GapEvidence
    options: DiscoveryOptions
    code_lengths: list[float]
    min_count: int
    characters: int
    sample_characters: int
    final: dict[int, np.ndarray] | None = None
    unlisted: Unlisted = field(default_factory=dict)

    def word_table(self, max_len: int | None = None) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per length: ``(ids, counts, banned)`` of the model's words (counts > 0 or banned)."""
        out = {}
        for n in range(1, (max_len or self.model.max_len) + 1):
            keep = (self.model.counts[n] > 0) | self.model.banned[n]
            ids = unpack_codes(self.stats.codes[n][keep], n, self.stats.bits)
            out[n] = (ids, self.model.counts[n][keep], self.model.banned[n][keep])
        return out


def run_discovery(
    corpus: Corpus,
    options: DiscoveryOptions = DiscoveryOptions(),
    *,
    memory: int = DEFAULT_MEMORY,
    jobs: int = 1,
    tmpdir: str | os.PathLike | None = None,
    progress: bool = False,
    count_all: bool = True,
) -> Discovery | None:
    """Discovery over ``corpus`` (``None`` if it has no Han characters).

    Steps 1-5 always; with ``count_all``, also step 6's word counts over the
    whole corpus (``Discovery.final``) from the Han runs kept on disk. See
    :func:`discover` for the friendly entry point.
    """
    options.check()
    with HanStream(corpus, tmpdir=tmpdir, progress=progress) as han:
        if han.characters == 0:
            return None
        return _discover_in(han, options, memory, jobs, tmpdir, progress, count_all)


def _discover_in(
    han: HanStream, options: DiscoveryOptions, memory: int, jobs: int, tmpdir: str | os.PathLike | None,
    progress: bool, count_all: bool,
) -> Discovery:
    characters = han.characters
    vocabulary = han.vocabulary
    max_len = min(options.max_word_length, max(1, 64 // vocabulary.bits - 1))
    # counted in this process: shipping id batches and tables to workers costs more than it saves
    # n-grams of three or more characters seen once are dropped: they change no branching entropy
    # (n log n = 0), pass no threshold, and as words cost their spelling (see SPELLED)
    min_counts = [1, 1, *[2] * (max_len - 1)]
    table = count_ngrams(
        han.chunks(), max_len + 1, bits=vocabulary.bits, memory=memory, min_count=min_counts, progress=progress, tmpdir=tmpdir
    )
    stats = NgramStats(table, vocabulary)
    min_count = options.min_count or derived_min_count(characters)
    # refinement only counts words, so each chunk's runs can be sorted by length (see sorted_by_length)
    rows = [stats.position_rows(sorted_by_length(ids), max_len + 1) for ids in han.chunks(limit=options.sample)]
    sample_characters = int(sum(np.count_nonzero(r.ids) for r in rows))
    scorer = GapScorer.fit(stats, [GapSites.of(r.rows[1], r.rows[2]) for r in rows])
    evidence = GapEvidence(stats.row_finder(2), scorer, options.gap_weight)
    chunks = [prepare_chunk(r, evidence) for r in rows]
    del rows
    with ChunkPool(chunks, stats, max_len, evidence, jobs) as pool:
        counts, initial_share = initial_counts(pool, stats, max_len, min_count)
        model = WordModel(stats, counts, max_len, options.model)
        lengths = refine(model, pool, options, initial_share, progress)
        final, unlisted = pool.counts(model.costs, model.spelling()) if count_all and sample_characters == characters else (None, {})
    if count_all and final is None:
        del chunks
        final, unlisted = FinalPass(model, evidence, han).run(stats, han.spans(), jobs, progress)
    return Discovery(stats, model, evidence, options, lengths, min_count, characters, sample_characters, final, unlisted)


def describe_options(options: DiscoveryOptions) -> dict[str, object]:
    """The options as a flat dict (for the lexicon header)."""
    flat = asdict(options)
    flat.update({f"model.{k}": v for k, v in flat.pop("model").items()})
    return flat




# --------------------------------------------------------------------------- final pass and lexicon

WordCounts = dict[int, tuple[np.ndarray, np.ndarray]]  # per length: (ids matrix, counts)


def segmenter_of(result: Discovery) -> Segmenter:
    """The segmenter of a discovery run: the final word model (same costs) plus the corpus's gap evidence."""
    table = result.word_table()
    return Segmenter(
        result.stats.vocabulary,
        {n: v[0] for n, v in table.items()},
        {n: v[1] for n, v in table.items()},
        banned={n: v[2] for n, v in table.items()},
        params=result.options.model,
        evidence=result.evidence,
        base=result.model.base,
    )


def text_counts(corpus: Corpus, segmenter: Segmenter, segmented: IO[str], progress: bool = False) -> WordCounts:
    """Segment the corpus text, writing it to ``segmented``; per length, the words used and their counts."""
    found: dict[int, list[np.ndarray]] = {}
    with progress_bar(progress, desc="segmenting", unit="char", unit_scale=True) as bar:
        for batch in segmenter.segment_text(corpus.line_pieces()):
            segmented.write(batch.text)
            bar.update(len(batch.text))
            for length, ids in batch.words.items():
                if len(ids):
                    codes = pack_ids([ids[:, j].astype(np.uint64) for j in range(length)], segmenter.bits)
                    found.setdefault(length, []).append(codes)
    result = {}
    for length, parts in found.items():
        codes, counts = np.unique(np.concatenate(parts), return_counts=True)
        result[length] = (unpack_codes(codes, length, segmenter.bits), counts)
    return result


def row_counts(result: Discovery) -> WordCounts:
    """The words of ``result.final`` (counts per table row) as id matrices and counts."""
    out = {}
    for length, counts in (result.final or {}).items():
        used = np.flatnonzero(counts > 0)
        ids = unpack_codes(result.stats.codes[length][used], length, result.stats.bits)
        freq = counts[used]
        codes, extra = result.unlisted.get(length, (np.zeros(0, np.uint64), np.zeros(0)))
        if codes.size:
            ids = np.concatenate([ids, unpack_codes(codes, length, result.stats.bits)])
            freq = np.concatenate([freq, extra])
        out[length] = (ids, freq)
    return out


def lexicon_table(stats: NgramStats, words: WordCounts) -> pd.DataFrame:
    """The lexicon DataFrame (see :mod:`mintext.lexicon`) of words given as id matrices with counts."""
    parts = []
    for length, (ids, freq) in sorted(words.items()):
        if len(ids) == 0:
            continue
        text = stats.vocabulary.codepoints[ids.astype(np.int64) - 1].astype(np.uint32).tobytes().decode("utf-32-le")
        codes = pack_ids([ids[:, j].astype(np.uint64) for j in range(length)], stats.bits)
        left, right = stats.entropies_of(codes, length)
        parts.append(
            pd.DataFrame(
                {
                    "word": [text[k : k + length] for k in range(0, len(text), length)],
                    "freq": np.asarray(freq, dtype=np.int64),
                    "length": length,
                    "pmi": stats.solidity(codes, length),
                    "left_entropy": left,
                    "right_entropy": right,
                }
            )
        )
    if not parts:
        return empty_lexicon()
    return sort_lexicon(pd.concat(parts, ignore_index=True)[COLUMNS])


def empty_lexicon() -> pd.DataFrame:
    """A lexicon with no rows (and the right columns and types)."""
    return pd.DataFrame(
        {
            "word": pd.Series(dtype=object),
            "freq": pd.Series(dtype=np.int64),
            "length": pd.Series(dtype=np.int64),
            **{c: pd.Series(dtype=float) for c in ("pmi", "left_entropy", "right_entropy")},
        }
    )


def discover(
    paths: Sequence[str] | str,
    *,
    max_word_length: int = DEFAULT_MAX_WORD_LENGTH,
    min_count: int | None = None,
    rounds: int = 6,
    encoding: str = "utf-8",
    errors: str = "strict",
    nfkc: bool = False,
    memory: int = DEFAULT_MEMORY,
    jobs: int = 1,
    segmented: IO[str] | None = None,
    progress: bool = False,
    tmpdir: str | os.PathLike | None = None,
    **expert: object,
) -> pd.DataFrame:
    """Discover the words of a corpus; return its lexicon as a DataFrame.

    ``paths``: files, directories, globs or ``-`` (read as by
    :class:`~mintext.sources.Corpus`). ``max_word_length``: longest word (1..6).
    ``min_count``: count threshold of the threshold stage (default: derived
    from the corpus size). ``segmented``: a text stream that receives the
    corpus segmented with the lexicon (one line per input line; the lexicon's
    ``freq`` are then the counts in exactly that text). ``memory``: bytes for
    n-gram counting before spilling to disk. ``jobs``: processes for the
    refinement rounds and the final segmentation pass of corpora over 4 million
    characters (results do not depend on it). Expert options (``gap_weight``,
    ``autonomy``, ``free_share``, ``sample``) are those of :class:`DiscoveryOptions`.

    The DataFrame has the columns of :mod:`mintext.lexicon`, sorted by
    frequency; ``df.attrs["options"]`` records the options and corpus size.
    A corpus without Han characters gives an empty table.
    """
    options = DiscoveryOptions(max_word_length=max_word_length, min_count=min_count, rounds=rounds, **expert)
    options.check()
    corpus = Corpus(paths, encoding, errors, normalize=nfkc)
    try:
        result = run_discovery(
            corpus, options, memory=memory, jobs=jobs, tmpdir=tmpdir, progress=progress, count_all=segmented is None
        )
        if result is None:
            if segmented is not None:
                text_counts(corpus, segmenter_for(empty_lexicon()), segmented, progress)
            table = empty_lexicon()
            facts: dict[str, object] = {"characters": 0}
        else:
            words = row_counts(result) if segmented is None else text_counts(corpus, segmenter_of(result), segmented, progress)
            table = lexicon_table(result.stats, words)
            facts = {"characters": result.characters, "min_count": result.min_count, "rounds": len(result.code_lengths)}
    finally:
        corpus.close()
    if corpus.stats.replaced:
        log.warning("warning: replaced %d undecodable byte sequences", corpus.stats.replaced)
    table.attrs["options"] = {**describe_options(options), **facts, "nfkc": nfkc}
    return table
