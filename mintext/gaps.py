"""Boundary evidence at each gap between two adjacent Han characters.

A gap between characters a and b (inside a run) is scored from five corpus
statistics, each a sign of a word boundary when large:

- ``-PMI(a, b)``: the two characters are not drawn to each other;
- right branching entropy of a, and of the two characters ending at a;
- left branching entropy of b, and of the two characters starting at b.

Each feature is standardised over all gaps of the corpus and the available
ones are averaged (near run ends some do not exist). The score is then
centred on the split between its two modes (Otsu's threshold on its
histogram), so a positive score means "more like a boundary than not". No
labels and no tuned weights are involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mintext.ngramstats import NgramStats

FEATURES = ("neg_pmi", "right_entropy_1", "right_entropy_2", "left_entropy_1", "left_entropy_2")


def gap_features(ids: np.ndarray, rows1: np.ndarray, rows2: np.ndarray, stats: NgramStats) -> np.ndarray:
    """Raw features of the gap after each position: ``(len(ids), 5)`` float, NaN where undefined.

    ``rows1``/``rows2``: rows of the 1-gram and 2-gram starting at each
    position (-1 where none). The gap after position i exists when ``rows2[i] >= 0``.
    """
    n = ids.size
    features = np.full((n, len(FEATURES)), np.nan)
    gap = rows2 >= 0
    i = np.flatnonzero(gap)
    if i.size == 0:
        return features
    a, b, ab = rows1[i], rows1[i + 1], rows2[i]
    counts1, counts2 = stats.counts[1], stats.counts[2]
    features[i, 0] = -(np.log(stats.N) + np.log(counts2[ab]) - np.log(counts1[a]) - np.log(counts1[b]))
    features[i, 1] = stats.right_entropy[1][a]
    features[i, 3] = stats.left_entropy[1][b]
    if 2 < stats.max_order:
        before = np.zeros(i.size, dtype=bool)
        before[i > 0] = rows2[i[i > 0] - 1] >= 0
        features[i[before], 2] = stats.right_entropy[2][rows2[i[before] - 1]]
        after = np.zeros(i.size, dtype=bool)
        inside = i + 1 < n
        after[inside] = rows2[i[inside] + 1] >= 0
        features[i[after], 4] = stats.left_entropy[2][rows2[i[after] + 1]]
    return features


@dataclass
class GapScorer:
    """Standardises gap features and centres their mean on the Otsu threshold."""

    mean: np.ndarray
    std: np.ndarray
    threshold: float

    @classmethod
    def fit(cls, feature_blocks: list[np.ndarray]) -> GapScorer:
        """Fit on the features of all gaps (a list of arrays from :func:`gap_features`)."""
        stacked = np.concatenate([f[~np.isnan(f[:, 0])] for f in feature_blocks]) if feature_blocks else np.zeros((0, 5))
        if stacked.shape[0] < 2:
            return cls(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), 0.0)
        present = ~np.isnan(stacked)
        n = np.maximum(present.sum(axis=0), 1)
        values = np.where(present, stacked, 0.0)
        mean = values.sum(axis=0) / n
        std = np.sqrt(np.where(present, (stacked - mean) ** 2, 0.0).sum(axis=0) / n)
        std = np.where(std > 0, std, 1.0)
        raw = cls(mean, std, 0.0)
        return cls(mean, std, otsu_threshold(raw._average(stacked)))

    def _average(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.mean) / self.std
        present = ~np.isnan(z)
        total = np.where(present, z, 0.0).sum(axis=1)
        return total / np.maximum(present.sum(axis=1), 1)

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Score of the gap after each position (0 where there is no gap)."""
        gap = ~np.isnan(features[:, 0])
        out = np.zeros(features.shape[0])
        out[gap] = self._average(features[gap]) - self.threshold
        return out


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that best separates ``values`` into two groups (Otsu, 1979)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2 or values.min() == values.max():
        return float(values.mean()) if values.size else 0.0
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = hist / hist.sum()
    w0 = np.cumsum(weight)[:-1]
    mu0 = np.cumsum(weight * centres)[:-1]
    total = (weight * centres).sum()
    w1 = 1 - w0
    valid = (w0 > 0) & (w1 > 0)
    between = np.zeros_like(w0)
    between[valid] = (mu0[valid] * 1 - w0[valid] * total) ** 2 / (w0[valid] * w1[valid])
    return float(edges[1:-1][np.argmax(between)])


class GapEvidence:
    """Additive word costs from gap scores: ``weight`` times the scores of the gaps a word covers.

    Used by discovery (which has the corpus statistics) during refinement and
    for its own segmentation of the corpus.
    """

    def __init__(self, stats: NgramStats, scorer: GapScorer, weight: float) -> None:
        self.stats = stats
        self.scorer = scorer
        self.weight = weight

    def scores(self, ids: np.ndarray, rows1: np.ndarray, rows2: np.ndarray) -> np.ndarray:
        """Gap scores of an id chunk (ids of ``stats.vocabulary``) given its 1- and 2-gram rows."""
        return self.scorer.scores(gap_features(ids, rows1, rows2, self.stats))

    def word_costs(self, gaps: np.ndarray, max_len: int) -> np.ndarray:
        """``(max_len, n)`` costs: ``weight`` times the sum of the gaps inside each word (length L, start i)."""
        n = gaps.size
        cumulative = np.concatenate(([0.0], np.cumsum(gaps)))
        costs = np.zeros((max_len, n))
        for length in range(2, max_len + 1):
            start = np.arange(max(n - length + 1, 0))
            costs[length - 1, start] = self.weight * (cumulative[start + length - 1] - cumulative[start])
        return costs
