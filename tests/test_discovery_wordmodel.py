"""Pitman-Yor word model (mintext.discovery.wordmodel): compositions, the spelling model P0, costs, free-compound bans."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from ngram_oracle import build

from mintext.discovery.ngramstats import NgramStats
from mintext.discovery.wordmodel import BaseDistribution, ModelParameters, WordModel, compositions
from mintext.ngrams.vocabulary import CharVocabulary


def words_of(stats: NgramStats, order: int) -> list[str]:
    return stats.vocabulary.decode_many(stats.codes[order], order, bits=stats.bits)


def counts_arrays(stats: NgramStats, max_len: int, word_counts: dict[str, float]) -> dict[int, np.ndarray]:
    """Per-order count arrays aligned with the table rows, from {word: count}."""
    counts = {n: np.zeros(stats.codes[n].size) for n in range(1, max_len + 1)}
    for n in range(1, max_len + 1):
        for k, w in enumerate(words_of(stats, n)):
            counts[n][k] = word_counts.get(w, 0.0)
    assert sum(c.sum() for c in counts.values()) == sum(word_counts.values()), "every word must be a table n-gram"
    return counts


# --------------------------------------------------------------------------- compositions


def brute_compositions(n: int) -> set[tuple[int, ...]]:
    """All ordered tuples of positive parts summing to n (any number of parts)."""
    if n == 0:
        return {()}
    return {(first,) + rest for first in range(1, n + 1) for rest in brute_compositions(n - first)}


@pytest.mark.parametrize("n", range(1, 9))
def test_compositions_are_every_split_into_two_or_more_parts(n):
    got = compositions(n)
    assert len(got) == len(set(got)) == 2 ** (n - 1) - 1
    assert set(got) == {c for c in brute_compositions(n) if len(c) >= 2}


# --------------------------------------------------------------------------- BaseDistribution


def test_base_distribution_hand_worked():
    # ids 1, 2, 3 with corpus frequencies 0.5, 0.3, 0.2; base_min_count 2, smoothing 5 per char type:
    # s = 5 * 3 = 15. Types seen >= 2 times: [1] (3), [1 2] (2), [3 1] (5), [1 2 3] (2); [2] (1) is not.
    # tallies S: {1: 1}; B: {1: 2, 3: 1}; E: {2: 1, 1: 1, 3: 1}; M: {2: 1}
    # P_S(1) = (1 + 7.5)/(1 + 15), P_B(1) = (2 + 7.5)/(3 + 15), P_E(3) = (1 + 3)/(3 + 15),
    # P_B(2) = 4.5/18, P_M(2) = (1 + 4.5)/16, P_E(1) = (1 + 7.5)/18, P_S(2) = 4.5/16
    # lengths kept: 1, 2, 1 -> P_len(L) = (n_L + 1)/(4 + 3) = 2/7, 3/7, 2/7
    char_freq = np.array([0.0, 0.5, 0.3, 0.2])
    words = {1: np.array([[1], [2]]), 2: np.array([[1, 2], [3, 1]]), 3: np.array([[1, 2, 3]])}
    counts = {1: np.array([3, 1]), 2: np.array([2, 5]), 3: np.array([2])}
    base = BaseDistribution(char_freq, words, counts, ModelParameters(base_min_count=2, base_smoothing=5), 3)
    assert np.exp(base.log_p0(np.array([[1], [2]]))) == pytest.approx([2 / 7 * 8.5 / 16, 2 / 7 * 4.5 / 16])
    assert np.exp(base.log_p0(np.array([[1, 3]]))) == pytest.approx([3 / 7 * 9.5 / 18 * 4 / 18])
    assert np.exp(base.log_p0(np.array([[2, 2, 1]]))) == pytest.approx([2 / 7 * 4.5 / 18 * 5.5 / 16 * 8.5 / 18])
    # each position distribution sums to 1 over the characters
    for tag in "SBME":
        assert np.exp(base.log_position[tag][1:]).sum() == pytest.approx(1.0)
    assert np.exp(base.log_length[1:]).sum() == pytest.approx(1.0)


def test_base_distribution_from_words_gives_unknown_characters_the_frequency_of_one():
    # 中 x3, 文 x2, 国 x1; no word types, so P_S is proportional to the corpus frequencies:
    # P0(中) : P0(文) : P0(国) : P0(unknown id 4) = 3 : 2 : 1 : 1 (unknown = a character seen once)
    vocab = CharVocabulary.from_text("中中中文文国")
    base = BaseDistribution.from_words(vocab, {}, {}, ModelParameters(), 2)
    p0 = np.exp(base.log_p0(np.array([[vocab.id_of(c)] for c in "中文国"] + [[4]])))
    assert (p0 / p0[2]).tolist() == pytest.approx([3.0, 2.0, 1.0, 1.0])
    # no types: lengths are uniform over 1..max_len
    assert np.exp(base.log_length[1:]).tolist() == pytest.approx([0.5, 0.5])


# --------------------------------------------------------------------------- WordModel costs

TEXT = "中国人民，中国，人民，的中国人，我的，他们的人民，中国人民的。国人民中。的的"


def oracle_costs(stats: NgramStats, word_counts: dict[str, float], max_len: int, p: ModelParameters, banned=()) -> dict[str, float]:
    """-log P(w) from the module's formula, in plain Python, for every n-gram of orders 1..max_len."""
    vocab = stats.vocabulary
    chars = [chr(c) for c in vocab.codepoints.tolist()]
    total = vocab.total + 1  # the unknown-character id weighs as a character seen once
    freq = {c: n / total for c, n in zip(chars, vocab.counts.tolist(), strict=True)}
    s = p.base_smoothing * (len(chars) + 1)  # character types, plus the unknown-character id
    kept = [w for w, c in word_counts.items() if c >= p.base_min_count]
    n_len = Counter(len(w) for w in kept)
    tallies = {t: Counter() for t in "SBME"}
    for w in kept:
        if len(w) == 1:
            tallies["S"][w] += 1
        else:
            tallies["B"][w[0]] += 1
            tallies["E"][w[-1]] += 1
            tallies["M"].update(w[1:-1])

    def pos(tag, c):
        return (tallies[tag][c] + s * freq[c]) / (sum(tallies[tag].values()) + s)

    def p0(w):
        p_len = (n_len[len(w)] + 1) / (len(kept) + max_len)
        if len(w) == 1:
            return p_len * pos("S", w)
        return p_len * pos("B", w[0]) * math.prod(pos("M", c) for c in w[1:-1]) * pos("E", w[-1])

    T = sum(word_counts.values())
    V = sum(1 for c in word_counts.values() if c > 0)
    beta = p.concentration * T
    d = p.discount
    costs = {}
    for n in range(1, max_len + 1):
        for w in words_of(stats, n):
            c = word_counts.get(w, 0.0)
            costs[w] = math.inf if w in banned else -math.log((max(c - d, 0) + (beta + d * V) * p0(w)) / (T + beta))
    return costs


@pytest.mark.parametrize(
    ("seed", "params"),
    [
        (0, ModelParameters()),
        (1, ModelParameters(concentration=0.5, discount=0.5, base_min_count=1, base_smoothing=2.0)),
        (2, ModelParameters(concentration=1.0, discount=0.0, base_min_count=3, base_smoothing=10.0)),
    ],
)
def test_costs_are_the_pitman_yor_predictive_cost(seed, params):
    max_len = 3
    stats = build(TEXT, max_len + 1)
    rng = np.random.default_rng(seed)
    word_counts = {}
    for n in range(1, max_len + 1):
        for w in words_of(stats, n):
            if rng.random() < 0.6:
                word_counts[w] = float(rng.integers(1, 6))
    model = WordModel(stats, counts_arrays(stats, max_len, word_counts), max_len, params)
    assert model.tokens == sum(word_counts.values()) and model.types == len(word_counts)
    expected = oracle_costs(stats, word_counts, max_len, params)
    for n in range(1, max_len + 1):
        assert model.costs[n].tolist() == pytest.approx([expected[w] for w in words_of(stats, n)], rel=1e-9)
    # code length: sum of count * cost over the words used
    assert model.code_length(model.counts) == pytest.approx(sum(c * expected[w] for w, c in word_counts.items()), rel=1e-9)


# --------------------------------------------------------------------------- ban_free_compounds

# runs, each one word of the segmentation the counts describe
SEGMENTED = {
    "中国": 10, "人民": 10, "中国人民": 2,  # a compound of two free words, each mostly on its own: banned
    "葡萄": 1, "葡萄酒": 10,  # 葡萄 rarely alone, 酒/葡 never words: kept
    "我": 10, "的": 10, "我的": 2,  # two free characters (10 of 12 occurrences are words): banned
    "他": 5, "们": 5, "他们": 2, "其他": 20,  # 他 is a word in 5 of its 27 occurrences (< 0.5): not free, kept
}


def free_compound_model() -> WordModel:
    text = "，".join(w for w, c in SEGMENTED.items() for _ in range(c))
    stats = build(text, 4)
    return WordModel(stats, counts_arrays(stats, 4, {w: float(c) for w, c in SEGMENTED.items()}), 4, ModelParameters())


def banned_words(model: WordModel) -> set[str]:
    return {w for n in range(1, 5) for w, b in zip(words_of(model.stats, n), model.banned[n].tolist(), strict=True) if b}


def cost_of(model: WordModel, word: str) -> float:
    n = len(word)
    return float(model.costs[n][words_of(model.stats, n).index(word)])


def test_ban_free_compounds_hand_built():
    model = free_compound_model()
    # precondition: 中国|人民 is the cheapest split of 中国人民 (the other parts are never words)
    splits = {parts: sum(cost_of(model, "中国人民"[sum(parts[:k]) : sum(parts[: k + 1])]) for k in range(len(parts)))
              for parts in compositions(4)}
    assert min(splits, key=splits.get) == (2, 2)
    assert model.ban_free_compounds(autonomy=0.5, free_share=0.5) == 2
    assert banned_words(model) == {"中国人民", "我的"}
    assert cost_of(model, "中国人民") == math.inf and cost_of(model, "我的") == math.inf
    assert math.isfinite(cost_of(model, "他们")) and math.isfinite(cost_of(model, "葡萄酒"))
    # nothing new to ban the second time
    assert model.ban_free_compounds(autonomy=0.5, free_share=0.5) == 0
    # after the bans, costs are the formula's with the banned words at inf (counts unchanged)
    expected = oracle_costs(model.stats, {w: float(c) for w, c in SEGMENTED.items()}, 4, model.params, banned={"中国人民", "我的"})
    for n in range(1, 5):
        assert model.costs[n].tolist() == pytest.approx([expected[w] for w in words_of(model.stats, n)], rel=1e-9)


def test_ban_free_compounds_single_characters_free_only_above_free_share():
    # 他: 5 word tokens / 27 occurrences = 0.185; 们: 5 / 7. With free_share 0.1 both are free,
    # and 5 / (5 + 2) > 0.5 for both: 他们 is banned too
    model = free_compound_model()
    assert model.ban_free_compounds(autonomy=0.5, free_share=0.1) == 3
    assert banned_words(model) == {"中国人民", "我的", "他们"}


def test_ban_free_compounds_autonomy_threshold():
    # parts occur on their own 10 / (10 + 2) = 0.83 of the time: not above 0.9, nothing banned
    model = free_compound_model()
    assert model.ban_free_compounds(autonomy=0.9, free_share=0.1) == 0
    assert banned_words(model) == set()


def test_ban_free_compounds_char_share_override():
    # the caller says 他 is a word on its own in every occurrence: 他|们 is then two free forms
    model = free_compound_model()
    share = model.counts[1] / model.stats.counts[1]
    share[words_of(model.stats, 1).index("他")] = 1.0
    assert model.ban_free_compounds(autonomy=0.5, free_share=0.5, char_share=share) == 3
    assert banned_words(model) == {"中国人民", "我的", "他们"}


def test_from_words_position_distributions_sum_to_one():
    # 中 x3, 文 x2, 国 x1 and the unknown id as one more (total 7), no word types: P_S = char_freq, summing to 1
    vocab = CharVocabulary.from_text("中中中文文国")
    base = BaseDistribution.from_words(vocab, {}, {}, ModelParameters(), 2)
    assert np.exp(base.log_position["S"][1:]).sum() == pytest.approx(1.0)
