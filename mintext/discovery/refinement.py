"""Minimal-entropy refinement: the initial word counts, then rounds of re-segmentation.

:func:`initial_counts` averages the counts of two segmentations of the
refinement chunks (the threshold pipeline's and the cut at boundary-like
gaps); :func:`refine` re-segments under the word model, re-estimates the
counts and drops free-form compounds until the code length stops falling.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from mintext.discovery.lattice import word_spans
from mintext.discovery.ngramstats import NgramStats
from mintext.discovery.passes import ChunkPool, add_counts, path_counts
from mintext.discovery.threshold import candidate_counts, kept_ngrams
from mintext.discovery.wordmodel import WordModel
from mintext.io.progress import progress_bar

if TYPE_CHECKING:
    from mintext.discovery.options import DiscoveryOptions

log = logging.getLogger("mintext")

CODE_LENGTH_TOLERANCE = 1e-3  # refinement stops when a round lowers the code length by less than 0.1%


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
    # no spelling: the threshold stage's lexicon has no words outside the table, they cannot be used
    threshold_counts, _ = pool.counts(row_costs, None, with_evidence=False)
    cut_counts = {n: np.zeros(size) for n, size in sizes.items()}
    for chunk in chunks:
        cut = np.zeros(chunk.ids.size, dtype=bool)
        cut[chunk.runs.starts] = True
        cut[1:] |= (chunk.gaps[:-1] > 0) & (chunk.ids[1:] != 0)
        add_counts(cut_counts, path_counts(chunk, word_spans(cut, chunk.ids), stats, max_len)[0])
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
            previous = lengths[-1] if lengths else np.inf
            lengths.append(length)
            if length >= previous:
                break  # no better: keep the previous round's counts
            model.counts = counts
            model.refresh()
            if unchanged or length >= previous * (1 - CODE_LENGTH_TOLERANCE):
                break  # converged, or it gained less than the tolerance
    return lengths


