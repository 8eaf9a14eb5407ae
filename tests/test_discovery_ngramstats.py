"""NgramStats (counts, branching entropies, solidity, per-position rows) against plain Python over the Han runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ngram_oracle import branching, build, counts_of, han_runs, solidity

from mintext.discovery.ngramstats import NgramStats
from mintext.io.chars import han_stream
from mintext.ngrams.counting import count_ngrams
from mintext.ngrams.vocabulary import CharVocabulary

HAN = "中文国人的𠀀𪚥"
ALPHABET = HAN + "，a1 \n"
texts = st.text(alphabet=ALPHABET, min_size=1, max_size=60).filter(lambda t: any(c in HAN for c in t))


def table_words(stats: NgramStats, order: int) -> list[str]:
    return stats.vocabulary.decode_many(stats.codes[order], order, bits=stats.bits)


# --------------------------------------------------------------------------- tests


@given(texts, st.integers(2, 5))
@settings(max_examples=60, deadline=None)
def test_counts_entropies_and_solidity_equal_plain_python(text, max_order):
    stats = build(text, max_order)
    runs = han_runs(text, HAN)
    counts = counts_of(runs, max_order)
    N = sum(len(r) for r in runs)
    assert stats.N == N
    for order in range(1, max_order + 1):
        words = table_words(stats, order)
        assert dict(zip(words, stats.counts[order].tolist(), strict=True)) == {w: c for w, c in counts.items() if len(w) == order}
        if order < max_order:
            for k, w in enumerate(words):
                left, right = branching(runs, w)
                assert stats.left_entropy[order][k] == pytest.approx(left, abs=1e-9)
                assert stats.right_entropy[order][k] == pytest.approx(right, abs=1e-9)
        if order >= 2:
            got = stats.solidity(stats.codes[order], order)
            assert got == pytest.approx([solidity(counts, N, w) for w in words], abs=1e-9)
    assert stats.max_order == max_order and set(stats.right_entropy) == set(range(1, max_order))


def test_branching_entropy_hand_worked():
    # runs: 中文 | 中国 | 中文
    # right of 中: 文 x2, 国 x1 -> log 3 - (2 log 2)/3
    # right of 文: both occurrences end a run -> two distinct events -> log 2
    # left of 中: three run starts -> log 3;  left of 文: 中 x2 -> 0
    stats = build("中文，中国，中文", 3)
    left, right = stats.entropies_of(stats.vocabulary.encode_many(["中", "文", "国"], 1), 1)
    assert right.tolist() == pytest.approx([math.log(3) - 2 * math.log(2) / 3, math.log(2), 0.0])
    assert left.tolist() == pytest.approx([math.log(3), 0.0, 0.0])


def test_solidity_hand_worked():
    # one run 中文中文国, N = 5; c(中) = c(文) = c(中文) = 2, c(文中) = c(中文中) = 1
    # 中文: log(5*2/(2*2)) = log 2.5;  文中: log(5*1/(2*2)) = log 1.25
    # 中文中: min(中|文中: log(5*1/(2*1)), 中文|中: log(5*1/(2*2))) = log 1.25
    stats = build("中文中文国", 3)
    vocab = stats.vocabulary
    assert stats.solidity(vocab.encode_many(["中文", "文中"], 2), 2).tolist() == pytest.approx([math.log(2.5), math.log(1.25)])
    assert stats.solidity(vocab.encode_many(["中文中"], 3), 3).tolist() == pytest.approx([math.log(1.25)])
    assert np.isnan(stats.solidity(vocab.encode_many(["中"], 1), 1)).all()


@given(texts, st.integers(1, 4), st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_position_rows_find_the_ngram_at_each_position(text, max_order, seed):
    stats = build(text, 4)
    vocab = stats.vocabulary
    # a chunk of the text's ids, plus a shuffled copy of it (n-grams that may be absent from the table)
    ids = vocab.to_ids(han_stream(text))
    rng = np.random.default_rng(seed)
    ids = np.concatenate([ids, rng.permutation(ids)])
    if rng.random() < 0.5 and ids.size:
        ids = ids[: rng.integers(0, ids.size)]  # may end inside a run
    chunk = stats.position_rows(ids, max_order)
    assert chunk.ids is ids
    row_of = {n: {w: k for k, w in enumerate(table_words(stats, n))} for n in range(1, max_order + 1)}
    chars = [vocab.char(int(i)) if i else None for i in ids.tolist()]
    for n in range(1, max_order + 1):
        expected = []
        for i in range(ids.size):
            piece = chars[i : i + n]
            if len(piece) < n or None in piece:
                expected.append(-1)
            else:
                expected.append(row_of[n].get("".join(piece), -1))
        assert chunk.rows[n].tolist() == expected


def test_count_of_entropies_of_and_rows_for_absent_and_too_long_ngrams():
    stats = build("中文，中国，中文的", 3)
    vocab = stats.vocabulary
    codes = vocab.encode_many(["中文", "文中", "国中", "文的"], 2)
    assert stats.count_of(codes, 2).tolist() == [2.0, 0.0, 0.0, 1.0]
    assert stats.rows(codes, 2)[1:3].tolist() == [-1, -1]
    left, right = stats.entropies_of(codes, 2)
    # 中文 (twice): after = 的, a run end -> right log 2; before = two run starts (distinct) -> left log 2
    # 文的 (once, at the end of its run): left = right = log 1 = 0
    assert right[0] == pytest.approx(math.log(2)) and left[0] == pytest.approx(math.log(2))
    assert right[3] == pytest.approx(0.0) and left[3] == pytest.approx(0.0)
    assert np.isnan(left[1:3]).all() and np.isnan(right[1:3]).all()
    # order 3 = max_order: no entropies
    left3, right3 = stats.entropies_of(vocab.encode_many(["中文的"], 3), 3)
    assert np.isnan(left3).all() and np.isnan(right3).all()


@given(st.text(alphabet=HAN, min_size=4, max_size=8))
@settings(max_examples=40, deadline=None)
def test_prefix_suffix_infix_codes_are_codes_of_the_substrings(word):
    stats = build(word, 4)
    vocab, n = stats.vocabulary, len(word)
    bits = stats.bits
    code = vocab.encode_many([word], n, bits=bits)
    for length in range(1, n + 1):
        assert stats.prefix_codes(code, n, length).tolist() == vocab.encode_many([word[:length]], length, bits=bits).tolist()
        assert stats.suffix_codes(code, n, length).tolist() == vocab.encode_many([word[-length:]], length, bits=bits).tolist()
        for start in range(n - length + 1):
            infix = word[start : start + length]
            assert stats.infix_codes(code, n, start, length).tolist() == vocab.encode_many([infix], length, bits=bits).tolist()


def test_eight_bit_ids_and_order_eight_fill_the_64_bit_code():
    # 200 distinct Han characters -> 8 bits per id; order 8 uses all 64 bits
    rng = np.random.default_rng(3)
    alphabet = [chr(0x4E00 + k) for k in range(200)]
    runs = ["".join(rng.choice(alphabet[:12] if r % 2 else alphabet, size=rng.integers(1, 30))) for r in range(60)]
    text = "".join(alphabet) + "。" + "。".join(runs)
    stats = build(text, 8)
    assert stats.bits == 8
    runs = han_runs(text, han="\u4e00-\u9fff")
    counts = counts_of(runs, 8)
    for order in (1, 7, 8):
        words = table_words(stats, order)
        assert dict(zip(words, stats.counts[order].tolist(), strict=True)) == {w: c for w, c in counts.items() if len(w) == order}
    words = table_words(stats, 7)
    sample = [words[k] for k in range(0, len(words), 7)]
    left, right = stats.entropies_of(stats.vocabulary.encode_many(sample, 7), 7)
    expected = [branching(runs, w) for w in sample]
    assert left.tolist() == pytest.approx([e[0] for e in expected], abs=1e-9)
    assert right.tolist() == pytest.approx([e[1] for e in expected], abs=1e-9)
    words8 = table_words(stats, 8)[:50]
    got = stats.solidity(stats.vocabulary.encode_many(words8, 8), 8)
    assert got.tolist() == pytest.approx([solidity(counts, stats.N, w) for w in words8], abs=1e-9)


def test_too_wide_max_order_is_refused():
    rng = np.random.default_rng(0)
    text = "".join(chr(0x4E00 + k) for k in rng.permutation(300))  # 9 bits per id; 8 * 9 > 64
    vocab = CharVocabulary.from_text(text)
    table = count_ngrams([vocab.to_ids(han_stream(text))], 8, bits=vocab.bits)
    with pytest.raises(ValueError, match="do not fit 64 bits"):
        NgramStats(table, vocab)
