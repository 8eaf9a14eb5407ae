"""Gap evidence (mintext.discovery.gaps) against plain Python: raw features, Otsu's threshold, the fitted scorer."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ngram_oracle import branching, build, counts_of, han_runs

from mintext.discovery.gaps import (
    FEATURES,
    GapEvidence,
    GapScorer,
    GapSites,
    feature_tables,
    gap_features,
    otsu_threshold,
)
from mintext.discovery.ngramstats import NgramStats
from mintext.io.chars import han_stream

HAN = "中文国人的𠀀𪚥"
ALPHABET = HAN + "，a "
texts = st.text(alphabet=ALPHABET, min_size=1, max_size=50).filter(lambda t: any(c in HAN for c in t))
NAN = float("nan")


def oracle_features(text: str, max_order: int) -> list[list[float]]:
    """Five features of the gap after each position of han_stream(text) (NaN rows where no gap)."""
    runs = han_runs(text, HAN)
    counts = counts_of(runs, 2)
    N = sum(len(r) for r in runs)
    rows = []
    for run in runs:
        for i in range(len(run)):
            if i + 1 >= len(run):
                rows.append([NAN] * 5)
                continue
            a, b = run[i], run[i + 1]
            neg_pmi = -math.log(N * counts[a + b] / (counts[a] * counts[b]))
            right1 = branching(runs, a)[1]
            left1 = branching(runs, b)[0]
            right2 = branching(runs, run[i - 1 : i + 1])[1] if i >= 1 and max_order >= 3 else NAN
            left2 = branching(runs, run[i + 1 : i + 3])[0] if i + 2 < len(run) and max_order >= 3 else NAN
            rows.append([neg_pmi, right1, right2, left1, left2])
        rows.append([NAN] * 5)  # the separator after the run
    return rows


def sites_of(stats: NgramStats, text: str) -> GapSites:
    ids = stats.vocabulary.to_ids(han_stream(text))
    chunk = stats.position_rows(ids, 2)
    return GapSites.of(chunk.rows[1], chunk.rows[2])


def features_of(text: str, max_order: int) -> tuple[np.ndarray, NgramStats]:
    """Features of the gap after each position of han_stream(text): NaN rows where there is no gap."""
    stats = build(text, max_order)
    sites = sites_of(stats, text)
    full = np.full((sites.size, 5), np.nan)
    full[sites.at] = gap_features(sites, feature_tables(stats))
    return full, stats


def brute_otsu(values: np.ndarray, bins: int = 256) -> tuple[list[float], list[float]]:
    """Between-class variance w0 w1 (m0 - m1)^2 of every split of the histogram, and the split's edge."""
    values = values[np.isfinite(values)]
    hist, edges = np.histogram(values, bins=bins)
    hist, edges = hist.tolist(), edges.tolist()
    centres = [(edges[k] + edges[k + 1]) / 2 for k in range(bins)]
    total = sum(hist)
    mass = [h * c for h, c in zip(hist, centres, strict=True)]
    variances, thresholds = [], []
    n0 = s0 = 0.0
    for k in range(1, bins):  # class 0: bins < k, class 1: bins >= k
        n0 += hist[k - 1]
        s0 += mass[k - 1]
        n1, s1 = total - n0, sum(mass[k:])
        variance = 0.0 if n0 == 0 or n1 == 0 else (n0 / total) * (n1 / total) * (s0 / n0 - s1 / n1) ** 2
        variances.append(variance)
        thresholds.append(edges[k])
    return variances, thresholds


def check_otsu(values: np.ndarray) -> float:
    threshold = otsu_threshold(values)
    variances, thresholds = brute_otsu(values)
    best = max(variances)
    chosen = thresholds.index(threshold)
    assert variances[chosen] >= best * (1 - 1e-9)
    return threshold


# --------------------------------------------------------------------------- gap_features


@given(texts, st.integers(2, 4))
@settings(max_examples=50, deadline=None)
def test_gap_features_equal_plain_python(text, max_order):
    features, _ = features_of(text, max_order)
    expected = np.array(oracle_features(text, max_order)).reshape(-1, 5)
    assert features.shape == expected.shape
    np.testing.assert_allclose(features, expected, rtol=1e-6, atol=1e-6)  # NaN where NaN


@pytest.mark.parametrize("max_order", [2, 3, 4])
def test_gap_features_on_a_longer_random_text(max_order):
    # a few characters, many repeats: left and right contexts of the same string differ
    rng = np.random.default_rng(max_order)
    text = "".join(rng.choice(list("中文国𠀀，"), p=[0.3, 0.25, 0.2, 0.15, 0.1], size=400))
    features, _ = features_of(text, max_order)
    expected = np.array(oracle_features(text, max_order)).reshape(-1, 5)
    np.testing.assert_allclose(features, expected, rtol=1e-6, atol=1e-6)


def test_gap_features_hand_worked():
    # runs 中文 | 中国 | 中文; N = 6, c(中) = 3, c(文) = 2, c(国) = 1, c(中文) = 2
    # gap 中|文: -PMI = -log(6*2/(3*2)) = -log 2; right H(中) = log 3 - 2 log 2 / 3;
    # left H(文) = 0 (always after 中); no 2-char context on either side (runs of 2) -> NaN
    features, _ = features_of("中文，中国，中文", 3)
    assert features.shape == (9, len(FEATURES))
    expected = [-math.log(2), math.log(3) - 2 * math.log(2) / 3, NAN, 0.0, NAN]
    np.testing.assert_allclose(features[0], expected, atol=1e-6)
    assert np.isnan(features[1]).all() and np.isnan(features[2]).all()  # run end, separator


# --------------------------------------------------------------------------- otsu_threshold


@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=120))
@settings(max_examples=50, deadline=None)
def test_otsu_threshold_maximises_between_class_variance(values):
    values = np.array(values)
    if values.min() == values.max():
        assert otsu_threshold(values) == pytest.approx(values[0])
    else:
        if np.ptp(values) <= 1e-9 * max(np.abs(values).max(), 1.0):  # equal up to rounding: no split
            assert otsu_threshold(values) == pytest.approx(values.mean())
        else:
            check_otsu(values)


def test_otsu_threshold_of_a_bimodal_sample_falls_between_the_modes():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0.0, 1.0, 600), rng.normal(10.0, 1.0, 400), [np.nan, np.inf]])
    threshold = check_otsu(values)
    assert 3.0 < threshold < 7.0


def test_otsu_threshold_of_values_equal_up_to_rounding():
    # once raised numpy's "Too many bins for data range": values one ulp apart are treated as equal
    for values in ([0.1, np.nextafter(0.1, 1.0), 0.1, 0.1], [0.0, 5e-324]):
        threshold = otsu_threshold(np.array(values))
        assert min(values) <= threshold <= max(values)


def test_otsu_threshold_degenerate_inputs():
    assert otsu_threshold(np.array([])) == 0.0
    assert otsu_threshold(np.array([2.5])) == 2.5
    assert otsu_threshold(np.array([4.0, 4.0, 4.0, np.nan])) == 4.0
    # two values: the split falls between them
    assert 1.0 < otsu_threshold(np.array([1.0, 3.0])) <= 3.0


# --------------------------------------------------------------------------- GapScorer


def oracle_averages(rows: list[list[float]]) -> tuple[list[float], list[float]]:
    """Per-feature population std over the gaps (exact: statistics works in fractions), and each
    gap's mean z-score over its present features."""
    means, stds = [], []
    for j in range(5):
        column = [r[j] for r in rows if not math.isnan(r[j])]
        means.append(statistics.fmean(column) if column else 0.0)
        stds.append(statistics.pstdev(column) if column else 0.0)
    # a feature constant up to rounding (spread <= 1e-9 of its magnitude) separates nothing: z = 0
    constant = [s <= 1e-9 * max(abs(m), 1.0) for s, m in zip(stds, means, strict=True)]
    averages = []
    for r in rows:
        z = [0.0 if constant[j] else (r[j] - means[j]) / stds[j] for j in range(5) if not math.isnan(r[j])]
        averages.append(sum(z) / len(z))
    return stds, averages


def check_scores_against_oracle(parts: list[str], max_order: int) -> None:
    text = "。".join(parts)
    stats = build(text, max_order)
    gaps = [r for r in oracle_features(text, max_order) if not math.isnan(r[0])]
    sample = [sites_of(stats, part) for part in parts]  # the gaps of the text, part by part
    scorer = GapScorer.fit(stats, sample)
    scores = [scorer.scores(sites) for sites in sample]
    for part, score in zip(parts, scores, strict=True):  # the fast path gives the same bits
        rows2 = stats.position_rows(stats.vocabulary.to_ids(han_stream(part)), 2).rows[2]
        np.testing.assert_array_equal(scorer.chunk_scores(rows2), score)
    for sites, score in zip(sample, scores, strict=True):
        assert score.shape == (sites.size,)
        off = np.ones(sites.size, dtype=bool)
        off[sites.at] = False
        assert (score[off] == 0).all()  # 0 where there is no gap
    got = np.concatenate([score[sites.at] for sites, score in zip(sample, scores, strict=True)]) + scorer.threshold
    if len(gaps) == 0:
        assert got.size == 0
        return
    stds, averages = oracle_averages(gaps)
    np.testing.assert_allclose(got, averages, rtol=1e-7, atol=1e-7)
    # the threshold is Otsu's on those averages; brute force on the exact array the scorer saw
    # (score + threshold can differ from it in the last bit, moving a value that sits on a bin edge)
    seen = np.concatenate([scorer._average(sites) for sites in sample])
    np.testing.assert_allclose(seen, got, rtol=1e-12, atol=1e-12)
    if len(gaps) == 1 or np.ptp(seen) <= 1e-9 * max(np.abs(seen).max(), 1.0):
        assert scorer.threshold == pytest.approx(seen.mean())
    else:
        variances, thresholds = brute_otsu(seen)
        assert variances[thresholds.index(scorer.threshold)] >= max(variances) * (1 - 1e-9)


@given(st.lists(texts, min_size=1, max_size=3), st.integers(2, 4))
@settings(max_examples=50, deadline=None)
def test_gap_scorer_standardises_averages_and_centres_on_otsu(parts, max_order):
    check_scores_against_oracle(parts, max_order)


@pytest.mark.parametrize("max_order", [2, 3])
def test_gap_scorer_on_a_longer_random_text(max_order):
    rng = np.random.default_rng(10 + max_order)
    parts = ["".join(rng.choice(list("中文国人𠀀，"), size=150)) for _ in range(3)]
    check_scores_against_oracle(parts, max_order)


def test_gap_scorer_a_constant_feature_does_not_change_the_scores():
    # once failed: the rounding noise of a constant feature was standardised into z = +-1
    # runs 中文中 | 文文文, max_order 2: N = 6, c(中) = 2, c(文) = 4, c(中文) = c(文中) = 1, c(文文) = 2
    # -PMI: 中文, 文中: log(2*4/(6*1)) = log(4/3); 文文: log(4*4/(6*2)) = log(4/3): constant, z = 0
    # right H(中) = log 2 ({文, end}); right H(文) = log 4 - 2 log 2 / 4 = 1.5 log 2 ({中, 文 x2, end})
    # left H(中) = log 2 ({start, 文}); left H(文) = 1.5 log 2 ({中, start, 文 x2})
    # gaps 中|文, 文|中, 文|文, 文|文: right1 = (1, 1.5, 1.5, 1.5) log 2, left1 = (1.5, 1, 1.5, 1.5) log 2
    # each: mean 1.375, std 0.2165 (x log 2): z = -sqrt(3) for the 1, 1/sqrt(3) for each 1.5
    # averages over 3 features: (0 - sqrt(3) + 1/sqrt(3))/3 for the first two, (0 + 2/sqrt(3))/3 for the others
    text = "中文中。文文文"
    stats = build(text, 2)
    sites = sites_of(stats, text)
    scorer = GapScorer.fit(stats, [sites])
    scores = scorer.scores(sites)[sites.at]
    low, high = (-math.sqrt(3) + 1 / math.sqrt(3)) / 3, 2 / math.sqrt(3) / 3
    assert (scores - scores[0]).tolist() == pytest.approx([0.0, 0.0, high - low, high - low], abs=1e-9)


def test_gap_scorer_without_gaps():
    stats = build("中，文", 2)
    scorer = GapScorer.fit(stats, [sites_of(stats, "中，文")])
    assert scorer.threshold == 0.0
    assert scorer.scores(sites_of(stats, "中，文")).tolist() == [0.0, 0.0, 0.0, 0.0]
    assert GapScorer.fit(stats, []).threshold == 0.0


def test_add_word_costs_adds_the_gaps_inside_each_word():
    gaps = np.array([0.5, -1.0, 2.0, 0.25, 3.0, 0.0])
    evidence = GapEvidence(None, None, 2.0)  # only the weight is used
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    costs = base.copy()
    evidence.add_word_costs(costs, gaps)
    for L in range(1, 5):
        for i in range(gaps.size - L + 1):  # the words that fit; a word of length L covers L - 1 gaps
            assert costs[L - 1, i] == pytest.approx(base[L - 1, i] + 2.0 * sum(gaps[i : i + L - 1])), (L, i)
