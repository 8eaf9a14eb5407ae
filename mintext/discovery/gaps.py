"""Boundary evidence at each gap between two adjacent Han characters.

A gap between characters a and b (inside a run) is scored from five corpus
statistics, each a sign of a word boundary when large:

- ``-PMI(a, b)``: the two characters are not drawn to each other;
- right branching entropy of a, and of the two characters ending at a;
- left branching entropy of b, and of the two characters starting at b.

Each feature is standardised over all gaps of the corpus and the available
ones are averaged (near run ends the two-character ones do not exist). The
score is then centred on the split between its two modes (Otsu's threshold on
its histogram), so a positive score means "more like a boundary than not". No
labels and no tuned weights are involved.

Every feature is a function of one n-gram (the bigram at the gap, the
character before or after it, the bigram before or after it), so standardised
values are computed once per n-gram row and a gap's score is a few gathers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import IO

import numpy as np

from mintext.discovery.ngramstats import NgramStats, RowFinder
from mintext.errors import InputError
from mintext.ngrams.lookup import CodeIndex
from mintext.ngrams.vocabulary import CharVocabulary, pack_rows, unpack_codes

FEATURES = ("neg_pmi", "right_entropy_1", "right_entropy_2", "left_entropy_1", "left_entropy_2")


@dataclass
class GapSites:
    """Where the gaps of an id chunk are and which n-grams surround them.

    ``at``: positions i with a gap after them; ``pair``, ``before``, ``after``:
    rows of a, b, the bigram ab; ``pair_before``/``pair_after``: rows of the
    bigram ending at a / starting at b (-1 where it does not exist).
    """

    size: int
    at: np.ndarray
    before: np.ndarray
    after: np.ndarray
    pair: np.ndarray
    pair_before: np.ndarray
    pair_after: np.ndarray

    @classmethod
    def of(cls, rows1: np.ndarray, rows2: np.ndarray) -> GapSites:
        """Gap sites of a chunk from the rows of its 1-grams and 2-grams (-1 where none)."""
        n = rows2.size
        at = np.flatnonzero(rows2 >= 0)
        shifted_before = np.concatenate(([-1], rows2[:-1])) if n else rows2
        shifted_after = np.concatenate((rows2[1:], [-1])) if n else rows2
        return cls(n, at, rows1[at], rows1[at + 1], rows2[at], shifted_before[at], shifted_after[at])


def pair_characters(stats: NgramStats) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the first and second character of every bigram row."""
    first = stats.sorted_rows(stats.prefix_codes(stats.codes[2], 2, 1), 1)
    second = stats.rows(stats.suffix_codes(stats.codes[2], 2, 1), 1)
    return first, second


def feature_tables(stats: NgramStats, pairs: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Raw feature values per n-gram row: ``neg_pmi`` and ``*_entropy_2`` per bigram row,
    ``*_entropy_1`` per character row (NaN where the table is too short to define them).
    ``pairs``: :func:`pair_characters` of ``stats`` when the caller has them."""
    counts1, counts2 = stats.counts[1], stats.counts[2]
    first, second = pair_characters(stats) if pairs is None else pairs
    tables = {
        "neg_pmi": np.log(counts1[first]) + np.log(counts1[second]) - np.log(stats.N) - np.log(counts2),
        "right_entropy_1": stats.right_entropy[1],
        "left_entropy_1": stats.left_entropy[1],
    }
    nan2 = np.full(counts2.size, np.nan)
    tables["right_entropy_2"] = stats.right_entropy.get(2, nan2)
    tables["left_entropy_2"] = stats.left_entropy.get(2, nan2)
    return tables


def _site_rows(sites: GapSites) -> dict[str, np.ndarray]:
    return {
        "neg_pmi": sites.pair,
        "right_entropy_1": sites.before,
        "left_entropy_1": sites.after,
        "right_entropy_2": sites.pair_before,
        "left_entropy_2": sites.pair_after,
    }


def gap_features(sites: GapSites, tables: dict[str, np.ndarray]) -> np.ndarray:
    """Raw features of every gap site: ``(len(sites.at), 5)``, NaN where undefined (for inspection and tests)."""
    out = np.full((sites.at.size, len(FEATURES)), np.nan)
    for name, rows in _site_rows(sites).items():
        order = FEATURES.index(name)
        present = rows >= 0
        out[present, order] = tables[name][rows[present]]
    return out


@dataclass
class GapScorer:
    """Scores gaps: standardised features averaged, minus the Otsu threshold of that average.

    Only three tables are kept, each holding per bigram row ``value + 1j * n``
    (the sum of standardised features and how many are defined): ``pair`` for
    the features fixed by the bigram at the gap (-PMI and the entropies of its
    two characters), ``right_entropy_2``/``left_entropy_2`` for the bigram just
    before/after it. Each has one more entry, 0, read by row -1 (no bigram).
    """

    packed: dict[str, np.ndarray]
    threshold: float

    @classmethod
    def fit(cls, stats: NgramStats, sample: list[GapSites]) -> GapScorer:
        """Standardise each feature over the gaps of ``sample`` and find the threshold of the average."""
        standard, defined = {}, {}
        pairs = pair_characters(stats)
        for name, table in feature_tables(stats, pairs).items():
            weights = np.zeros(table.size)
            for sites in sample:
                rows = _site_rows(sites)[name]
                weights += np.bincount(rows[rows >= 0], minlength=table.size)
            ok = np.isfinite(table)
            weights[~ok] = 0
            total = weights.sum()
            values = np.where(ok, table, 0.0)
            mean = float((weights * values).sum() / total) if total else 0.0
            spread = float(np.sqrt((weights * (values - mean) ** 2).sum() / total)) if total else 0.0
            if _negligible(spread, abs(mean)):
                # constant over the gaps (up to rounding): it separates nothing
                standard[name] = np.zeros(table.size)
            else:
                standard[name] = np.where(ok, (values - mean) / spread, 0.0)
            defined[name] = ok
        scorer = cls(_pack(standard, defined, pairs), 0.0)
        averages = [scorer._average(sites) for sites in sample]
        scorer.threshold = otsu_threshold(np.concatenate(averages)) if averages else 0.0
        return scorer

    def _average(self, sites: GapSites) -> np.ndarray:
        part = self.packed["pair"][sites.pair]
        part += self.packed["right_entropy_2"][sites.pair_before]
        part += self.packed["left_entropy_2"][sites.pair_after]
        return part.real / np.maximum(part.imag, 1)

    def scores(self, sites: GapSites) -> np.ndarray:
        """Score of the gap after each position of the chunk (0 where there is no gap)."""
        out = np.zeros(sites.size)
        out[sites.at] = self._average(sites) - self.threshold
        return out

    def chunk_scores(self, rows2: np.ndarray) -> np.ndarray:
        """:meth:`scores` computed straight from a chunk's bigram rows (-1 where no bigram), for speed.

        Every feature of the gap after position i comes from the bigram there
        (rows2[i]) and the bigrams just before and after it (rows2[i - 1],
        rows2[i + 1]); the same three gathers and sums as :meth:`scores`.
        """
        rows = rows2.astype(np.intp)  # converted once for the six gathers
        total, defined = self._sums(rows, "pair")
        if rows.size > 1:
            before, before_defined = self._sums(rows[:-1], "right_entropy_2")
            after, after_defined = self._sums(rows[1:], "left_entropy_2")
            total[1:] += before
            total[:-1] += after
            defined[1:] += before_defined
            defined[:-1] += after_defined
        np.maximum(defined, 1, out=defined)
        total /= defined
        total -= self.threshold
        total[rows < 0] = 0.0
        return total

    def _sums(self, rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The real and imaginary parts of ``packed[name]`` at ``rows`` (float64, int8): the parts of a
        complex sum add separately, so summing them apart gives the very same values, with lighter gathers."""
        real, imag = self._parts[name]
        # row -1 reads the trailing 0; "wrap" does that as the default mode does, without its bounds check
        return np.take(real, rows, mode="wrap"), np.take(imag, rows, mode="wrap")

    @cached_property
    def _parts(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {name: (table.real.copy(), table.imag.astype(np.int8)) for name, table in self.packed.items()}


def _pack(standard: dict[str, np.ndarray], defined: dict[str, np.ndarray], characters: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """The three tables of :class:`GapScorer` from standardised features and where they are defined."""
    first, second = characters

    def term(value: np.ndarray, ok: np.ndarray) -> np.ndarray:
        return np.where(ok, value, 0.0) + 1j * ok

    pair = term(standard["neg_pmi"], defined["neg_pmi"])
    pair += term(standard["right_entropy_1"][first], defined["right_entropy_1"][first])
    pair += term(standard["left_entropy_1"][second], defined["left_entropy_1"][second])
    packed = {"pair": np.append(pair, 0)}
    for name in ("right_entropy_2", "left_entropy_2"):
        packed[name] = np.append(term(standard[name], defined[name]), 0)
    return packed


def _negligible(spread: float, scale: float) -> bool:
    """Whether a spread is rounding noise relative to the magnitude of the values."""
    return spread <= 1e-9 * max(scale, 1.0)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that best separates ``values`` into two groups (Otsu, 1979)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2 or _negligible(values.max() - values.min(), np.abs(values).max()):
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
    between[valid] = (mu0[valid] - w0[valid] * total) ** 2 / (w0[valid] * w1[valid])
    return float(edges[1:-1][np.argmax(between)])


class GapEvidence:
    """Additive word costs from gap scores: ``weight`` times the scores of the gaps a word covers.

    Used by discovery (which has the corpus statistics) during refinement and
    for its own segmentation of the corpus. ``finder`` locates the 1- and
    2-grams of new text in the statistics' tables.
    """

    def __init__(self, finder: RowFinder, scorer: GapScorer, weight: float) -> None:
        self.finder = finder
        self.scorer = scorer
        self.weight = weight

    def text_scores(self, ids: np.ndarray) -> np.ndarray:
        """Gap scores of an id chunk (ids of the statistics' vocabulary, 0 between runs)."""
        rows = self.finder.position_rows(ids, 2)
        return self.scores(rows.rows[2])

    def scores(self, rows2: np.ndarray) -> np.ndarray:
        """Gap scores of an id chunk given the rows of its 2-grams."""
        return self.scorer.chunk_scores(rows2)

    def add_word_costs(self, costs: np.ndarray, gaps: np.ndarray) -> None:
        """Add, in place, ``weight`` times the sum of the gaps inside each word to ``costs[L - 1, i]``."""
        max_len, n = costs.shape
        inside, weighted = np.zeros(n), np.empty(n)
        for length in range(2, max_len + 1):
            # gaps i .. i + length - 2 lie inside the word (length, i)
            end = n - length + 1
            inside[:end] += gaps[length - 2 : n - 1]
            costs[length - 1, :end] += np.multiply(inside[:end], self.weight, out=weighted[:end])


# --------------------------------------------------------------------------- the gap table of a lexicon

GAP_COLUMNS = ("bigram", "gap", "gap_n", "ends_before", "ends_before_n", "starts_after", "starts_after_n")
_PACKED_OF = {"gap": "pair", "ends_before": "right_entropy_2", "starts_after": "left_entropy_2"}


@dataclass
class GapTable:
    """The gap evidence of a discovery run, keyed by characters so it can be saved and applied to new text.

    ``bigrams``: ``(m, 2)`` code points of every bigram of the corpus;
    ``packed``: :class:`GapScorer`'s three tables for those rows (plus the
    trailing 0 read by row -1); ``threshold`` and ``weight`` as in
    :class:`GapScorer` and :class:`GapEvidence`. A gap of new text gets exactly
    the score discovery gave it when its bigram and its neighbours are in the
    table (on the discovery corpus: always).
    """

    bigrams: np.ndarray
    packed: dict[str, np.ndarray]
    threshold: float
    weight: float

    @classmethod
    def empty(cls, weight: float) -> GapTable:
        """The table of a corpus without bigrams."""
        return cls(np.zeros((0, 2), np.uint32), {k: np.zeros(1, complex) for k in _PACKED_OF.values()}, 0.0, weight)

    @classmethod
    def of(cls, evidence: GapEvidence, stats: NgramStats) -> GapTable:
        """The table of a discovery run's evidence (``stats``: its n-gram statistics)."""
        ids = unpack_codes(stats.codes[2], 2, stats.bits)
        bigrams = stats.vocabulary.codepoints[ids.astype(np.int64) - 1]
        return cls(bigrams, evidence.scorer.packed, evidence.scorer.threshold, evidence.weight)

    def write(self, out: IO[str], header: str | None = None) -> None:
        """Write the table as TSV: ``header`` (a ``#`` line), then a column row and one row per bigram.

        Values are written with :func:`repr`, which reads back to the same float64.
        """
        out.write((header or "#").rstrip("\n") + f" gap_weight={self.weight!r} gap_threshold={self.threshold!r}\n")
        out.write("\t".join(GAP_COLUMNS) + "\n")
        text = self.bigrams.astype(np.uint32).tobytes().decode("utf-32-le")
        columns = []
        for name in GAP_COLUMNS[1::2]:
            values = self.packed[_PACKED_OF[name]][:-1]
            columns += [map(repr, values.real.tolist()), map(str, values.imag.astype(np.int64).tolist())]
        for k, row in enumerate(zip(*columns, strict=True)):
            out.write(text[2 * k : 2 * k + 2] + "\t" + "\t".join(row) + "\n")

    @classmethod
    def read(cls, path: str | os.PathLike, name: str) -> GapTable:
        """Read a table written by :meth:`write` (``name``: how messages show the file)."""
        with open(path, encoding="utf-8") as handle:
            first = handle.readline()
            fields = dict(t.split("=", 1) for t in first.lstrip("#").split() if "=" in t)
            try:
                weight, threshold = float(fields["gap_weight"]), float(fields["gap_threshold"])
            except (KeyError, ValueError):
                raise InputError(f"{name} line 1: expected a gap table header with gap_weight= and gap_threshold= (mintext discover --gaps writes it)") from None
            lines = handle.read().split("\n")
        numbered = [(k, line.rstrip("\r").split("\t")) for k, line in enumerate(lines, start=2) if line.strip()]
        if not numbered or tuple(numbered[0][1]) != GAP_COLUMNS:
            wrong = [2]
        else:
            wrong = [k for k, row in numbered[1:] if len(row) != len(GAP_COLUMNS) or len(row[0]) != 2]
        if wrong:
            raise InputError(f"{name} line {wrong[0]}: expected the columns {' '.join(GAP_COLUMNS)} and two-character bigrams")
        rows = [row for _, row in numbered[1:]]
        try:
            # Python's float() reads repr() back to the very same float64
            values = {c: np.array([float(row[k]) for row in rows], dtype=np.float64)
                      for k, c in enumerate(GAP_COLUMNS) if k}
        except ValueError:
            raise InputError(f"{name}: a gap table value is not a number; mintext discover --gaps writes it") from None
        bigrams = np.frombuffer("".join(row[0] for row in rows).encode("utf-32-le"), dtype=np.uint32).reshape(-1, 2)
        packed = {_PACKED_OF[c]: np.append(values[c] + 1j * values[c + "_n"], 0) for c in GAP_COLUMNS[1::2]}
        return cls(bigrams, packed, threshold, weight)

    def for_vocabulary(self, vocabulary: CharVocabulary) -> GapEvidence:
        """Gap evidence over the ids of ``vocabulary`` (bigrams with a character outside it are left out)."""
        ids = vocabulary.lookup_table[self.bigrams]
        keep = np.flatnonzero((ids > 0).all(axis=1))
        bits = vocabulary.bits
        codes = pack_rows(ids[keep], bits)
        finder = RowFinder(bits, {2: CodeIndex(codes)}, vocabulary.size, True)
        packed = {k: np.append(v[:-1][keep], 0) for k, v in self.packed.items()}
        return GapEvidence(finder, GapScorer(packed, self.threshold), self.weight)
