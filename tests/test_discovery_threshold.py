"""The threshold stage (mintext.discovery.threshold) against plain Python for algorithms.md section 1, steps 3-5."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from ngram_oracle import build, counts_of, han_runs, solidity

from mintext.discovery.ngramstats import NgramStats
from mintext.discovery.threshold import candidate_counts, kept_ngrams, rough_cut, theta_for
from mintext.io.chars import han_stream

HAN_CHARS = [chr(0x4E00 + 7 * k) for k in range(22)] + ["𠀀", "𪚥", "𠀁"]


def synthetic_text(seed: int, words: int = 14, runs: int = 70) -> str:
    """Runs of words drawn from a small random lexicon (so some n-grams are solid), punctuation between."""
    rng = np.random.default_rng(seed)
    lexicon = ["".join(rng.choice(HAN_CHARS, size=rng.integers(1, 5))) for _ in range(words)]
    weights = rng.dirichlet(np.ones(words))
    out = []
    for _ in range(runs):
        out.append("".join(rng.choice(lexicon, p=weights, size=rng.integers(1, 6))))
        out.append(rng.choice(["，", "。", " ", "a1", "\n"]))
    return "".join(out)


# ---- plain-Python oracle of steps 3-5


def oracle(text: str, max_order: int, max_len: int, min_count: int):
    runs = han_runs(text, "".join(HAN_CHARS))
    counts = counts_of(runs, max_order)
    N = sum(len(r) for r in runs)
    theta = {2: 2.0, 3: 4.0, 4: 6.0}
    kept = {w for w, c in counts.items()
            if len(w) >= 2 and c >= min_count and solidity(counts, N, w) >= theta.get(len(w), 2.0 * (len(w) - 1))}
    pieces: Counter = Counter()
    cuts = []
    for run in runs:
        joined = [False] * max(len(run) - 1, 0)  # joined[i]: gap between run[i] and run[i+1]
        for n in range(2, max_order + 1):
            for i in range(len(run) - n + 1):
                if run[i : i + n] in kept:
                    for g in range(i, i + n - 1):
                        joined[g] = True
        starts = [0] + [i + 1 for i, j in enumerate(joined) if not j]
        ends = starts[1:] + [len(run)]
        cuts.append(starts)
        pieces.update(run[s:e] for s, e in zip(starts, ends, strict=True))
    candidates = {
        w: c for w, c in pieces.items() if c >= min_count and len(w) <= max_len and (len(w) < 3 or w in kept)
    }
    return kept, cuts, candidates


def kept_words(stats: NgramStats, kept: dict[int, np.ndarray]) -> set[str]:
    words = set()
    for order, mask in kept.items():
        decoded = stats.vocabulary.decode_many(stats.codes[order], order, bits=stats.bits)
        words |= {w for w, k in zip(decoded, mask.tolist(), strict=True) if k}
    return words


def candidate_words(stats: NgramStats, totals: dict[int, np.ndarray]) -> dict[str, float]:
    out = {}
    for order, counts in totals.items():
        decoded = stats.vocabulary.decode_many(stats.codes[order], order, bits=stats.bits)
        out.update({w: c for w, c in zip(decoded, counts.tolist(), strict=True) if c})
    return out


def chunks_of(stats: NgramStats, text: str, max_order: int, seed: int) -> list:
    """The text's id stream cut after random separators, as ChunkRows."""
    ids = stats.vocabulary.to_ids(han_stream(text))
    zeros = np.flatnonzero(ids == 0)
    rng = np.random.default_rng(seed)
    cut = np.sort(rng.choice(zeros, size=min(zeros.size, 4), replace=False)) + 1 if zeros.size else []
    return [stats.position_rows(piece, max_order) for piece in np.split(ids, cut) if piece.size]


# --------------------------------------------------------------------------- tests


def test_theta_for_orders():
    assert [theta_for(n) for n in (2, 3, 4, 5, 6)] == [2.0, 4.0, 6.0, 8.0, 10.0]


@pytest.mark.parametrize(("seed", "max_order", "max_len", "min_count"), [
    (0, 4, 4, 2), (1, 4, 3, 3), (2, 3, 3, 2), (3, 5, 5, 2), (4, 4, 4, 1), (5, 2, 2, 2), (6, 4, 2, 4),
])
def test_threshold_stage_equals_plain_python(seed, max_order, max_len, min_count):
    text = synthetic_text(seed)
    stats = build(text, max_order)
    kept = kept_ngrams(stats, min_count)
    exp_kept, exp_cuts, exp_candidates = oracle(text, max_order, max_len, min_count)
    assert set(kept) == set(range(2, max_order + 1))
    assert kept_words(stats, kept) == exp_kept
    assert exp_kept, "the synthetic text should have solid n-grams"
    # rough cut of the whole stream: piece starts at the oracle's cut points of every run
    ids = stats.vocabulary.to_ids(han_stream(text))
    starts = rough_cut(stats.position_rows(ids, max_order), kept)
    run_starts = np.flatnonzero((ids != 0) & np.concatenate(([True], ids[:-1] == 0)))
    expected = np.zeros(ids.size, dtype=bool)
    for run_start, cuts in zip(run_starts.tolist(), exp_cuts, strict=True):
        expected[[run_start + c for c in cuts]] = True
    assert starts.tolist() == expected.tolist()
    # candidate counts, over chunks cut at random separators
    totals = candidate_counts(chunks_of(stats, text, max_order, seed), stats, kept, max_len, min_count)
    assert set(totals) == set(range(1, max_len + 1))
    assert candidate_words(stats, totals) == exp_candidates


def test_threshold_stage_hand_worked():
    # runs: 甲乙 x3, 甲乙丙 x1, and 30 distinct single characters: N = 6 + 3 + 30 = 39
    # c(甲) = c(乙) = c(甲乙) = 4, c(丙) = c(乙丙) = 1
    # solidity(甲乙) = log(39*4/(4*4)) = log 9.75 = 2.28 >= 2 -> kept (count 4 >= 3)
    # 乙丙: count 1 < 3 -> not kept; 甲乙丙: count 1 -> not kept
    # rough cut of 甲乙丙: 甲|乙 joined, 乙|丙 cut -> pieces 甲乙, 丙
    # candidates: 甲乙 4 times; every single character (丙 included) is seen once < 3
    singles = [chr(0x5000 + k) for k in range(30)]
    text = "，".join(["甲乙"] * 3 + ["甲乙丙"] + singles)
    stats = build(text, 3)
    kept = kept_ngrams(stats, 3)
    assert kept_words(stats, kept) == {"甲乙"}
    chunk = stats.position_rows(stats.vocabulary.to_ids(han_stream("甲乙丙")), 3)
    assert rough_cut(chunk, kept).tolist() == [True, False, True, False]
    totals = candidate_counts([stats.position_rows(stats.vocabulary.to_ids(han_stream(text)), 3)], stats, kept, 3, 3)
    assert candidate_words(stats, totals) == {"甲乙": 4.0}


def test_backtracking_drops_unkept_long_pieces():
    # 甲乙 and 乙丙 are kept (each 5 times, with many fillers), 甲乙丙 occurs once: the rough cut
    # joins both gaps of 甲乙丙 (covered by kept bigrams), but the 3-character piece is not a kept
    # n-gram (count 1 < 2), so it is dropped; with min_count 1 it would need solidity >= 4:
    # N = 10 + 10 + 3 + 100 = 123, c(甲乙) = c(乙丙) = 6, c(甲) = 6, c(乙) = 11, c(丙) = 6
    # solidity(甲乙) = solidity(乙丙) = log(123*6/(6*11)) = log 11.2 = 2.41 >= 2 -> kept
    # solidity(甲乙丙) = min(log(123*1/(6*6)), log(123*1/(6*6))) = log 3.4 < 4 -> not kept either
    singles = [chr(0x5000 + k) for k in range(100)]
    text = "，".join(["甲乙"] * 5 + ["乙丙"] * 5 + ["甲乙丙"] + singles)
    stats = build(text, 3)
    for min_count in (1, 2):
        kept = kept_ngrams(stats, min_count)
        assert {"甲乙", "乙丙"} <= kept_words(stats, kept) and "甲乙丙" not in kept_words(stats, kept)
        chunk = stats.position_rows(stats.vocabulary.to_ids(han_stream(text)), 3)
        words = candidate_words(stats, candidate_counts([chunk], stats, kept, 3, min_count))
        assert "甲乙丙" not in words
        assert words["甲乙"] == 5 and words["乙丙"] == 5
