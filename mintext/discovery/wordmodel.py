"""A unigram word model with a learned spelling model for new words.

The probability of a word w, given word counts c from a segmentation of the
corpus (T tokens, V types), is the Pitman-Yor predictive probability

    P(w) = (max(c(w) - d, 0) + (beta + d V) P0(w)) / (T + beta)

and its cost (code length) is ``-log P(w)``. ``P0`` spells a *new* word:

    P0(w) = P_len(|w|) * P_S(w)                                     if |w| = 1
    P0(w) = P_len(|w|) * P_B(w_1) * prod P_M(w_i) * P_E(w_|w|)      otherwise

where ``P_len`` and the position-specific character distributions ``P_S``
(single-character words), ``P_B``, ``P_M``, ``P_E`` (first, middle, last
characters) are learned from the word *types* of the current lexicon (types
seen at least twice), smoothed towards the corpus character frequencies. A
character that is rarely a word on its own thus makes a poor single-character
word, and two such characters side by side are cheaper as one new word.

With ``d = 1`` a word seen once has no cached mass: it must be spelled again,
so the lexicon keeps only what pays for itself (the minimal-entropy principle).

Counts and costs are arrays aligned with the rows of an
:class:`~mintext.discovery.ngramstats.NgramStats` table (every word is an n-gram of the
corpus), order by order.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import NamedTuple

import numpy as np

from mintext.discovery.ngramstats import NgramStats
from mintext.ngrams.vocabulary import CharVocabulary, unpack_codes


@dataclass(frozen=True)
class ModelParameters:
    """Hyper-parameters of the word model; the defaults hold across corpus sizes.

    ``concentration``: beta as a fraction of the token count T.
    ``discount``: d. ``base_min_count``: types seen this often shape P0.
    ``base_smoothing``: pseudo-count weight (per character type) of the corpus
    character frequencies in the position-specific distributions.
    """

    concentration: float = 0.2
    discount: float = 1.0
    base_min_count: float = 2.0
    base_smoothing: float = 5.0


def compositions(length: int) -> list[tuple[int, ...]]:
    """Every way to write ``length`` as an ordered sum of at least two positive parts."""
    result = []
    for cuts in product((0, 1), repeat=length - 1):
        if not any(cuts):
            continue
        parts, size = [], 1
        for cut in cuts:
            if cut:
                parts.append(size)
                size = 1
            else:
                size += 1
        parts.append(size)
        result.append(tuple(parts))
    return result


class PositionLogs(NamedTuple):
    """Per position of an id chunk, the log-probability of its character as a word's first, middle, last."""

    first: np.ndarray
    middle: np.ndarray
    last: np.ndarray


class BaseDistribution:
    """Log-probabilities of the spelling model P0, per character id and word length.

    ``char_freq[i]``: relative frequency of character id i in the corpus (index
    0 unused). ``words[L]``: ``(m, L)`` id matrices of word types and
    ``counts[L]`` their counts; types seen at least ``params.base_min_count``
    times are tallied.
    """

    def __init__(
        self,
        char_freq: np.ndarray,
        words: dict[int, np.ndarray],
        counts: dict[int, np.ndarray],
        params: ModelParameters,
        max_len: int,
    ) -> None:
        size = char_freq.size
        smoothing = params.base_smoothing * max(int(np.count_nonzero(char_freq)), 1)
        tallies = {tag: np.zeros(size) for tag in "SBME"}
        lengths = np.zeros(max_len + 1)
        for order in range(1, max_len + 1):
            if order not in words:
                continue
            kept = np.asarray(counts[order]) >= params.base_min_count
            lengths[order] = kept.sum()
            if not kept.any():
                continue
            ids = np.asarray(words[order], dtype=np.int64)[kept]
            if order == 1:
                tallies["S"] += np.bincount(ids[:, 0], minlength=size)
            else:
                tallies["B"] += np.bincount(ids[:, 0], minlength=size)
                tallies["E"] += np.bincount(ids[:, -1], minlength=size)
                if order > 2:
                    tallies["M"] += np.bincount(ids[:, 1:-1].ravel(), minlength=size)
        self.log_position = {
            tag: np.log((tally + smoothing * char_freq + 1e-300) / (tally.sum() + smoothing)) for tag, tally in tallies.items()
        }
        self.log_length = np.log((lengths + 1) / (lengths[1:].sum() + max_len))

    @classmethod
    def from_words(
        cls,
        vocabulary: CharVocabulary,
        words: dict[int, np.ndarray],
        counts: dict[int, np.ndarray],
        params: ModelParameters,
        max_len: int,
        *,
        extra_ids: int = 1,
    ) -> BaseDistribution:
        """Fit from word id matrices; ``extra_ids`` ids after the vocabulary (unknown characters)
        get the frequency of a character seen once."""
        char_freq = np.zeros(vocabulary.size + 1 + extra_ids)
        total = vocabulary.total + extra_ids  # each extra id weighs as a character seen once
        char_freq[1 : vocabulary.size + 1] = vocabulary.counts / total
        char_freq[vocabulary.size + 1 :] = 1.0 / total
        return cls(char_freq, words, counts, params, max_len)

    def position_logs(self, ids: np.ndarray) -> PositionLogs:
        """The log-probabilities of each character of an id chunk as the first, a middle and the last
        character of a word (for :meth:`log_p0_along`)."""
        at = ids.astype(np.intp)
        # every id has a row (the tables cover the vocabulary and the extra ids): "clip" only skips the
        # bounds check, which makes numpy's take several times slower
        return PositionLogs(*(np.take(self.log_position[tag], at, mode="clip") for tag in "BME"))

    def log_p0_along(self, logs: PositionLogs, length: int) -> np.ndarray:
        """log P0 of the ``length``-character window starting at each position ``0 .. n - length`` of the
        chunk of ``logs`` (:meth:`position_logs`; ``length`` >= 2), summed in :meth:`log_p0`'s order, so
        every value is bit for bit that of :meth:`log_p0` of the window's ids."""
        end = logs.first.size - length + 1
        value = self.log_length[length] + logs.first[:end]
        value += logs.last[length - 1 :]  # in place: the same sums, without a new array each
        for j in range(1, length - 1):
            value += logs.middle[j : end + j]
        return value

    def log_p0(self, ids: np.ndarray) -> np.ndarray:
        """log P0 of words given as an ``(n, L)`` id matrix."""
        length = ids.shape[1]
        if length == 1:
            return self.log_length[1] + self.log_position["S"][ids[:, 0]]
        value = self.log_length[length] + self.log_position["B"][ids[:, 0]] + self.log_position["E"][ids[:, -1]]
        for j in range(1, length - 1):
            value = value + self.log_position["M"][ids[:, j]]
        return value


@dataclass(frozen=True)
class Spelling:
    """Word costs under the Pitman-Yor unigram model, detached from the counts (picklable).

    ``spelling(ids)`` is the cost of words with no cached mass (spelled by P0
    alone); :meth:`word_costs` the cost of words with counts. The word model
    and the segmenter both cost words through this one class, so their costs
    agree bit for bit.
    """

    base: BaseDistribution
    log_norm: float  # log(T + beta)
    new_mass: float  # beta + discount * V

    @classmethod
    def of(cls, base: BaseDistribution, tokens: float, types: int, params: ModelParameters) -> Spelling:
        """The costs of a lexicon of ``types`` words seen ``tokens`` times (beta = concentration * tokens)."""
        tokens = max(tokens, 1.0)
        beta = params.concentration * tokens
        return cls(base, float(np.log(tokens + beta)), float(beta + params.discount * types))

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return self.log_norm - np.log(self.new_mass) - self.base.log_p0(ids)

    def along(self, logs: PositionLogs, length: int) -> np.ndarray:
        """The spelling cost of the ``length``-character window at each position ``0 .. n - length`` of a
        chunk (see :meth:`BaseDistribution.log_p0_along`): ``self(ids)`` of each window, bit for bit."""
        value = self.base.log_p0_along(logs, length)
        return np.subtract(self.log_norm - np.log(self.new_mass), value, out=value)

    def word_costs(self, counts: np.ndarray, ids: np.ndarray, discount: float) -> np.ndarray:
        """Costs of words (an ``(n, L)`` id matrix) with ``counts``: ``-log((max(c - d, 0) + new_mass P0) / (T + beta))``.

        Words without cached mass cost exactly ``self(ids)`` (the same expression).
        """
        log_p0 = self.base.log_p0(ids)
        cost = self.log_norm - np.log(self.new_mass) - log_p0
        cached = np.maximum(counts - discount, 0.0)
        has_cache = cached > 0
        cost[has_cache] = self.log_norm - np.log(cached[has_cache] + self.new_mass * np.exp(log_p0[has_cache]))
        return cost


class WordModel:
    """Word counts over the n-gram rows of orders 1..``max_len``, with costs and bans."""

    def __init__(self, stats: NgramStats, counts: dict[int, np.ndarray], max_len: int, params: ModelParameters) -> None:
        self.stats = stats
        self.max_len = max_len
        self.params = params
        self.counts = {n: np.asarray(counts[n], dtype=np.float64) for n in range(1, max_len + 1)}
        self.banned = {n: np.zeros(self.counts[n].size, dtype=bool) for n in range(1, max_len + 1)}
        self._ids = {n: unpack_codes(stats.codes[n], n, stats.bits) for n in range(1, max_len + 1)}  # uint32
        self._parts = {n: self._part_rows(n) for n in range(2, max_len + 1)}
        self.refresh()

    def _part_rows(self, order: int) -> dict[tuple[int, int], np.ndarray]:
        """Rows of every substring (start, length) of each order-``order`` n-gram."""
        codes = self.stats.codes[order]
        rows = {}
        for length in range(1, order):
            for start in range(order - length + 1):
                rows[(start, length)] = self.stats.rows(self.stats.infix_codes(codes, order, start, length), length).astype(np.int32)
        return rows

    @property
    def tokens(self) -> float:
        return float(sum(c.sum() for c in self.counts.values()))

    @property
    def types(self) -> int:
        return int(sum((c > 0).sum() for c in self.counts.values()))

    def refresh(self) -> None:
        """Re-fit P0 and recompute the cost of every n-gram as a word from the current counts."""
        p = self.params
        self.base = BaseDistribution.from_words(self.stats.vocabulary, self._ids, self.counts, p, self.max_len)
        self._spelling = Spelling.of(self.base, self.tokens, self.types, p)
        self.costs = {}
        for n in range(1, self.max_len + 1):
            cost = self._spelling.word_costs(self.counts[n], self._ids[n], p.discount)
            cost[self.banned[n]] = np.inf
            self.costs[n] = cost

    def ban_free_compounds(
        self, autonomy: float = 0.5, free_share: float = 0.5, char_share: np.ndarray | None = None
    ) -> int:
        """Ban words that are two or more *free forms* side by side; returns how many were banned.

        A word w with count c is split into its cheapest parts (under the
        current costs, w itself excluded). It is a free-form compound, not a
        word, when every part is free (a word of two or more characters, or a
        character that is a word on its own at least ``free_share`` of the
        times it occurs) and every part occurs on its own often compared with
        inside w: ``c(part) / (c(part) + c) > autonomy``. ``char_share`` (per
        character row) overrides the share of each character's occurrences in
        which it is a word, otherwise taken from the current counts.
        """
        if char_share is None:
            char_share = self.counts[1] / np.maximum(self.stats.counts[1], 1.0)
        newly = 0
        for order in range(2, self.max_len + 1):
            count = self.counts[order]
            live = np.flatnonzero((count > 0) & ~self.banned[order])
            if live.size == 0:
                continue
            best_cost = np.full(live.size, np.inf)
            best_ok = np.zeros(live.size, dtype=bool)
            for parts in compositions(order):
                cost = np.zeros(live.size)
                ok = np.ones(live.size, dtype=bool)
                start = 0
                for length in parts:
                    rows = self._parts[order][(start, length)][live]
                    cost += self.costs[length][rows]
                    part_count = self.counts[length][rows]
                    free = char_share[rows] >= free_share if length == 1 else np.ones(live.size, dtype=bool)
                    ok &= free & (part_count / (part_count + count[live]) > autonomy)
                    start += length
                better = cost < best_cost
                best_cost[better] = cost[better]
                best_ok[better] = ok[better]
            ban = live[best_ok & np.isfinite(best_cost)]
            self.banned[order][ban] = True
            newly += ban.size
        if newly:
            self.refresh()
        return newly

    def spelling(self) -> Spelling:
        """The cost of words with no cached mass (spelled by P0 alone), as a small picklable object (for
        worker processes)."""
        return self._spelling

    def live(self, order: int) -> np.ndarray:
        """Rows of ``order`` whose cost is not the spelling cost alone: cached mass, or banned."""
        return (self.counts[order] > self.params.discount) | self.banned[order]

    def code_length(self, counts: dict[int, np.ndarray]) -> float:
        """Total cost of word tokens with the given counts under the current costs (nats)."""
        total = 0.0
        for n in range(1, self.max_len + 1):
            used = counts[n] > 0
            total += float((counts[n][used] * self.costs[n][used]).sum())
        return total
