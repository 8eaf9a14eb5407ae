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
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from mintext.errors import UsageError
from mintext.gaps import GapEvidence, GapScorer, gap_features
from mintext.hanstream import HanStream
from mintext.lattice import Runs, best_segmentation, word_spans
from mintext.ngramstats import ChunkRows, NgramStats
from mintext.ngrams import DEFAULT_MEMORY, count_ngrams
from mintext.progress import progress_bar
from mintext.sources import Corpus
from mintext.threshold import candidate_counts, kept_ngrams
from mintext.vocabulary import unpack_codes
from mintext.wordmodel import ModelParameters, WordModel

log = logging.getLogger("mintext")

DEFAULT_MAX_WORD_LENGTH = 3
DEFAULT_SAMPLE = 20_000_000


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


def cost_matrix(chunk: Chunk, row_costs: dict[int, np.ndarray], max_len: int, evidence: GapEvidence | None) -> np.ndarray:
    """Cost of each word (length L, start i) in a chunk: model cost plus gap evidence, inf where impossible."""
    n = chunk.ids.size
    costs = np.full((max_len, n), np.inf)
    for length in range(1, max_len + 1):
        rows = chunk.rows.rows[length]
        start = np.flatnonzero(rows >= 0)
        costs[length - 1, start] = row_costs[length][rows[start]]
    if evidence is not None and evidence.weight:
        costs += evidence.word_costs(chunk.gaps, max_len)
    return costs


def path_counts(chunk: Chunk, word_starts: np.ndarray, sizes: dict[int, int]) -> dict[int, np.ndarray]:
    """Word counts (per order, per table row) of the segmentation marked by ``word_starts``."""
    starts, lengths = word_spans(word_starts, chunk.ids)
    counts = {}
    for order, size in sizes.items():
        rows = chunk.rows.rows[order][starts[lengths == order]]
        counts[order] = np.bincount(rows[rows >= 0], minlength=size).astype(np.float64)
    return counts


def _add(total: dict[int, np.ndarray], part: dict[int, np.ndarray]) -> None:
    for order, values in part.items():
        total[order] += values


# --------------------------------------------------------------------------- stages


def initial_counts(chunks: list[Chunk], stats: NgramStats, max_len: int, min_count: int) -> dict[int, np.ndarray]:
    """Average of the threshold pipeline's segmentation counts and the gap-cut segmentation counts."""
    sizes = {n: stats.codes[n].size for n in range(1, max_len + 1)}
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
    threshold_counts = {n: np.zeros(size) for n, size in sizes.items()}
    cut_counts = {n: np.zeros(size) for n, size in sizes.items()}
    for chunk in chunks:
        starts, _ = best_segmentation(cost_matrix(chunk, row_costs, max_len, None), chunk.runs)
        _add(threshold_counts, path_counts(chunk, starts, sizes))
        cut = np.zeros(chunk.ids.size, dtype=bool)
        cut[chunk.runs.starts] = True
        cut[1:] |= (chunk.gaps[:-1] > 0) & (chunk.ids[1:] != 0)
        _add(cut_counts, path_counts(chunk, cut, sizes))
    return {n: (threshold_counts[n] + cut_counts[n]) / 2 for n in sizes}


def refine(
    model: WordModel, chunks: list[Chunk], options: DiscoveryOptions, evidence: GapEvidence, progress: bool = False
) -> list[float]:
    """Minimal-entropy refinement, in place; returns the corpus code length (nats) of each round."""
    sizes = {n: model.counts[n].size for n in model.counts}
    lengths: list[float] = []
    with progress_bar(progress, total=options.rounds, desc="refining", unit="round") as bar:
        for _ in range(options.rounds):
            model.ban_free_compounds(options.autonomy, options.free_share)
            counts = {n: np.zeros(size) for n, size in sizes.items()}
            for chunk in chunks:
                costs = cost_matrix(chunk, model.costs, model.max_len, evidence)
                starts, _ = best_segmentation(costs, chunk.runs)
                _add(counts, path_counts(chunk, starts, sizes))
            length = model.code_length(counts)
            bar.update(1)
            log.debug("refinement round %d: code length %.0f nats, %d word types", len(lengths) + 1, length, model.types)
            unchanged = all(np.array_equal(counts[n], model.counts[n]) for n in sizes)
            if lengths and length >= lengths[-1]:
                lengths.append(length)
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
    sample_characters: int

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
    on_stream: Callable[[HanStream], None] | None = None,
) -> Discovery:
    """Steps 1-5 of discovery over ``corpus``; see :func:`discover` for the friendly entry point."""
    options.check()
    with HanStream(corpus, tmpdir=tmpdir, progress=progress) as han:
        if on_stream is not None:
            on_stream(han)
        vocabulary = han.vocabulary
        max_len = min(options.max_word_length, max(1, 64 // vocabulary.bits - 1))
        table = count_ngrams(
            han.chunks(), max_len + 1, bits=vocabulary.bits, memory=memory, jobs=jobs, progress=progress, tmpdir=tmpdir
        )
        stats = NgramStats(table, vocabulary)
        min_count = options.min_count or derived_min_count(han.characters)
        rows = [stats.position_rows(ids, max_len + 1) for ids in han.chunks(limit=options.sample)]
    sample_characters = int(sum(np.count_nonzero(r.ids) for r in rows))
    features = [gap_features(r.ids, r.rows[1], r.rows[2], stats) if 2 in r.rows else None for r in rows]
    scorer = GapScorer.fit([f for f in features if f is not None])
    chunks = [
        Chunk(r, Runs.of(r.ids), scorer.scores(f) if f is not None else np.zeros(r.ids.size))
        for r, f in zip(rows, features, strict=True)
    ]
    del features
    evidence = GapEvidence(stats, scorer, options.gap_weight)
    model = WordModel(stats, initial_counts(chunks, stats, max_len, min_count), max_len, options.model)
    lengths = refine(model, chunks, options, evidence, progress)
    return Discovery(stats, model, evidence, options, lengths, min_count, sample_characters)


def describe_options(options: DiscoveryOptions) -> dict[str, object]:
    """The options as a flat dict (for the lexicon header)."""
    flat = asdict(options)
    flat.update({f"model.{k}": v for k, v in flat.pop("model").items()})
    return flat


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


def discover_inputs(paths: Sequence[str] | str) -> list[str]:
    """Normalise the ``paths`` argument of :func:`discover` to a list."""
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
