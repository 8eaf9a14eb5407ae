"""Character vocabulary: ranking, id lookup, and the packing of n-grams into codes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.errors import UsageError
from mintext.io.chars import han_stream
from mintext.ngrams.vocabulary import (
    CharVocabulary,
    code_words,
    count_codepoints,
    is_wide,
    pack_ids,
    unpack_codes,
)

HAN = "的一是中文测试𠀀𪚥"
ALPHABET = HAN + "，。 a1\n"


def test_ids_rank_by_count_then_code_point():
    vocab = CharVocabulary.from_counts([ord("b"), ord("c"), ord("a"), ord("d")], [5, 9, 5, 1])
    assert "".join(chr(c) for c in vocab.codepoints.tolist()) == "cabd"
    assert vocab.counts.tolist() == [9, 5, 5, 1]
    assert [vocab.id_of(ch) for ch in "abcd"] == [2, 3, 1, 4]
    assert vocab.char(1) == "c" and vocab.char(4) == "d"
    assert vocab.size == len(vocab) == 4 and vocab.total == 20


@pytest.mark.parametrize(("size", "bits"), [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (7, 3), (8, 4), (65535, 16), (65536, 17)])
def test_bits_hold_the_largest_id(size, bits):
    vocab = CharVocabulary.from_counts(np.arange(1, size + 1), np.ones(size, dtype=np.int64))
    assert vocab.bits == bits
    assert size < 2**vocab.bits


def test_from_text_counts_han_characters_only():
    text = "中文，中文测试abc𠀀中\n"
    vocab = CharVocabulary.from_text(text)
    expected = Counter(ch for ch in text if ch in HAN)
    assert dict(zip(map(chr, vocab.codepoints.tolist()), vocab.counts.tolist(), strict=True)) == expected
    assert vocab.char(1) == "中"


@given(st.lists(st.text(alphabet=ALPHABET, max_size=30), max_size=6))
@settings(max_examples=60, deadline=None)
def test_count_codepoints_streams_equals_counter(texts):
    cps, counts = count_codepoints(han_stream(t) for t in texts)
    expected = Counter(ch for t in texts for ch in t if ch in HAN)
    assert dict(zip(map(chr, cps.tolist()), counts.tolist(), strict=True)) == expected
    assert np.all(np.diff(cps.astype(np.int64)) > 0)


def test_unknown_code_points_map_to_zero_or_raise_when_strict():
    vocab = CharVocabulary.from_text("中文测试")
    cps = han_stream("中文，测字试")
    ids = vocab.to_ids(cps)
    assert ids.dtype == np.uint32
    assert ids.tolist() == [vocab.id_of("中"), vocab.id_of("文"), 0, vocab.id_of("测"), 0, vocab.id_of("试"), 0]
    with pytest.raises(UsageError, match=r"'字' \(U\+5B57\) is not in the vocabulary of 4 characters"):
        vocab.to_ids(cps, strict=True)
    assert vocab.id_of("字") == 0 and "字" not in vocab and "中" in vocab
    assert vocab.to_ids(np.array([0x10FFFF, 2**31], dtype=np.int64)).tolist() == [0, 0]


@pytest.mark.parametrize(
    ("codepoints", "counts", "message"),
    [
        ([1, 2], [1], "same length"),
        ([0, 5], [1, 1], "between 1 and 1114111"),
        ([0x110000], [1], "between 1 and 1114111"),
        ([7, 7], [1, 2], "distinct"),
        ([7], [-1], ">= 0"),
    ],
)
def test_from_counts_rejects_bad_input(codepoints, counts, message):
    with pytest.raises(UsageError, match=message):
        CharVocabulary.from_counts(codepoints, counts)


@pytest.mark.parametrize(("order", "bits", "words"), [(4, 16, 1), (5, 16, 2), (3, 21, 1), (4, 21, 2), (8, 21, 3), (2, 32, 1), (3, 32, 2), (8, 8, 1)])
def test_code_width(order, bits, words):
    assert code_words(order, bits) == words
    assert is_wide(order, bits) == (words > 1)


@given(st.integers(1, 8), st.integers(1, 32), st.data())
@settings(max_examples=150, deadline=None)
def test_pack_and_unpack_are_inverse_and_keep_lexicographic_order(order, bits, data):
    rows = data.draw(st.lists(st.lists(st.integers(0, 2**bits - 1), min_size=order, max_size=order), max_size=12))
    ids = np.array(rows, dtype=np.uint32).reshape(len(rows), order)
    codes = pack_ids([ids[:, j] for j in range(order)], bits)
    assert codes.ndim == (2 if is_wide(order, bits) else 1)
    assert np.array_equal(unpack_codes(codes, order, bits), ids)
    keys = [tuple(int(x) for x in row) for row in codes] if codes.ndim == 2 else codes.tolist()
    by_code = sorted(range(len(rows)), key=lambda i: (keys[i], i))
    by_ids = sorted(range(len(rows)), key=lambda i: (rows[i], i))
    assert by_code == by_ids


@given(st.lists(st.text(alphabet=HAN, min_size=1, max_size=8), min_size=1, max_size=10), st.sampled_from([None, 9, 20, 32]))
@settings(max_examples=80, deadline=None)
def test_encode_decode_round_trip(words, bits):
    vocab = CharVocabulary.from_text(HAN)
    for word in words:
        code = vocab.encode(word, bits=bits)
        wide = is_wide(len(word), bits or vocab.bits)
        assert isinstance(code, tuple) == wide
        assert vocab.decode(code, len(word), bits=bits) == word
    order = len(words[0])
    same_length = [w for w in words if len(w) == order]
    codes = vocab.encode_many(same_length, order, bits=bits)
    assert vocab.decode_many(codes, order, bits=bits) == same_length


def test_narrow_code_is_ids_concatenated_first_character_high():
    vocab = CharVocabulary.from_counts([ord("甲"), ord("乙"), ord("丙")], [3, 2, 1])
    assert vocab.bits == 2
    assert vocab.encode("甲乙丙") == (1 << 4) | (2 << 2) | 3
    assert vocab.encode("乙丙", bits=32) == (2 << 32) | 3
    assert vocab.encode("甲乙丙", bits=32) == ((1 << 32) | 2, 3)


def test_encode_and_decode_errors():
    vocab = CharVocabulary.from_text("中文")
    with pytest.raises(UsageError, match="not in the vocabulary"):
        vocab.encode("中国")
    with pytest.raises(UsageError, match="every word must have 2 characters"):
        vocab.encode_many(["中文", "中"], 2)
    with pytest.raises(UsageError, match="empty word"):
        vocab.encode("")
    with pytest.raises(UsageError, match=r"ids outside 1\.\.2"):
        vocab.decode(0b1100, 2)
    with pytest.raises(UsageError, match="bits must be between 2 and 32"):
        vocab.encode("中", bits=1)
    with pytest.raises(UsageError, match="must be rows of 2 words"):
        vocab.decode_many(np.zeros(3, dtype=np.uint64), 3, bits=32)
    loose = vocab.encode_many(["中国"], 2, strict=False)
    assert unpack_codes(loose, 2, vocab.bits).tolist() == [[vocab.id_of("中"), 0]]
