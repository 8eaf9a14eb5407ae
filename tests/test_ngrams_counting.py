"""N-gram counting against a plain Counter over all substrings of every Han run."""

from __future__ import annotations

import os
import re
import tracemalloc
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.errors import UsageError
from mintext.io.chars import codepoints, han_stream
from mintext.io.sources import Corpus
from mintext.ngrams.counting import (
    NgramTable,
    count_chunk,
    count_ngrams,
    han_streams,
    run_remaining,
    split_chunks,
)
from mintext.ngrams.hanstream import count_corpus
from mintext.ngrams.spill import SpillDir
from mintext.ngrams.vocabulary import CharVocabulary

HAN = "的一是中文测试𠀀𪚥"
ALPHABET = HAN + "，。 a\n"
texts = st.text(alphabet=ALPHABET, max_size=80)


def oracle(text: str, max_order: int, min_count: int = 1) -> Counter:
    """Every substring of length 1..max_order of every Han run, counted naively."""
    counts: Counter = Counter()
    for run in re.split(f"[^{HAN}]+", text):
        for n in range(1, max_order + 1):
            counts.update(run[i : i + n] for i in range(len(run) - n + 1))
    return Counter({w: c for w, c in counts.items() if c >= min_count})


def encode(text: str) -> tuple[CharVocabulary, np.ndarray]:
    vocab = CharVocabulary.from_text(HAN)
    return vocab, vocab.to_ids(han_stream(text))


def cut_at_separators(ids: np.ndarray, picks: list[int]) -> list[np.ndarray]:
    """Cut ``ids`` just after the separators chosen by ``picks`` (indices into the separators)."""
    zeros = np.flatnonzero(ids == 0)
    ends = sorted({int(zeros[p % zeros.size]) + 1 for p in picks}) if zeros.size else []
    return [piece for piece in np.split(ids, ends) if piece.size]


@given(texts, st.integers(1, 6), st.lists(st.integers(0, 100), max_size=6))
@settings(max_examples=150, deadline=None)
def test_counts_equal_counter_for_every_order_and_chunking(text, max_order, picks):
    vocab, ids = encode(text)
    table = count_ngrams(cut_at_separators(ids, picks), max_order, bits=vocab.bits)
    assert table.to_counter(vocab) == oracle(text, max_order)
    assert table.N == len(re.sub(f"[^{HAN}]", "", text)) == table.total(1)


@given(st.text(alphabet=HAN, max_size=40), st.integers(1, 6), st.lists(st.integers(0, 40), max_size=5), st.sampled_from([None, 20]))
@settings(max_examples=80, deadline=None)
def test_the_end_of_every_chunk_ends_a_run(text, max_order, cuts, bits):
    vocab = CharVocabulary.from_text(HAN)
    bits = bits or vocab.bits
    bounds = [0, *sorted(set(cuts)), len(text)]
    words = [text[i:j] for i, j in zip(bounds, bounds[1:], strict=False) if j > i]
    pieces = [vocab.to_ids(codepoints(word)) for word in words]  # no separator at all
    table = count_ngrams(pieces, max_order, bits=bits, batch_size=16)
    assert table.to_counter(vocab) == oracle("，".join(words), max_order)
    for word, piece in zip(words, pieces, strict=True):
        alone = count_chunk(piece, max_order, bits)
        assert NgramTable(alone.codes, alone.counts, bits=bits, N=alone.chars).to_counter(vocab) == oracle(word, max_order)


@given(st.sampled_from(["中", "中文", "中文测", "中文测试的"]).flatmap(lambda han: st.tuples(st.just(han), st.text(alphabet=han + "，", max_size=60))), st.integers(1, 8))
@settings(max_examples=80, deadline=None)
def test_tiny_vocabularies_pack_one_to_three_bits(han_and_text, max_order):
    han, text = han_and_text
    vocab = CharVocabulary.from_text(han)
    assert vocab.bits == len(han).bit_length()
    table = count_ngrams([vocab.to_ids(han_stream(text))], max_order, bits=vocab.bits)
    assert table.to_counter(vocab) == oracle(text, max_order)


@given(texts, st.integers(1, 8), st.sampled_from([13, 20, 32]))
@settings(max_examples=80, deadline=None)
def test_wide_codes_count_the_same(text, max_order, bits):
    vocab, ids = encode(text)
    table = count_ngrams([ids], max_order, bits=bits)
    assert table.to_counter(vocab) == oracle(text, max_order)
    for order in range(1, max_order + 1):
        codes, counts = table.items(order)
        assert codes.ndim == (2 if order * bits > 64 else 1)
        assert np.all(counts > 0)


@given(texts, st.integers(1, 6), st.integers(1, 7), st.sampled_from([None, 1, 3, 16]))
@settings(max_examples=80, deadline=None)
def test_result_does_not_depend_on_chunk_or_batch_size(text, max_order, size, batch_size):
    vocab, ids = encode(text)
    whole = count_ngrams([ids], max_order, bits=vocab.bits)
    pieces = list(split_chunks(ids, size))
    assert np.array_equal(np.concatenate(pieces) if pieces else ids, ids)
    assert all(piece[-1] == 0 for piece in pieces)
    assert count_ngrams(pieces, max_order, bits=vocab.bits, batch_size=batch_size) == whole


@given(texts, st.integers(1, 6), st.sampled_from([None, 20]), st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_spilled_counts_equal_in_memory_counts(text, max_order, bits, min_count):
    vocab, ids = encode(text)
    bits = bits or vocab.bits
    in_memory = count_ngrams([ids], max_order, bits=bits, min_count=min_count)
    spilled = count_ngrams(split_chunks(ids, 5), max_order, bits=bits, memory=64, batch_size=4, min_count=min_count)
    assert spilled == in_memory
    assert spilled.to_counter(vocab) == oracle(text, max_order, min_count)


def test_tiny_budget_spills_and_cleans_up(tmp_path, monkeypatch):
    text = "中文测试的一是中文，测试是的一𠀀𪚥中文测试。" * 5
    vocab, ids = encode(text)
    writes = []
    original = SpillDir.write
    monkeypatch.setattr(SpillDir, "write", lambda self, tables: (writes.append(self.path), original(self, tables)))
    table = count_ngrams(split_chunks(ids, 8), 5, bits=vocab.bits, memory=256, batch_size=8, tmpdir=tmp_path)
    assert len(writes) > 3
    assert table.to_counter(vocab) == oracle(text, 5)
    assert os.listdir(tmp_path) == []


def test_spill_directory_removed_on_interrupt(tmp_path):
    vocab, ids = encode("中文测试的一是中文，测试是的一𠀀𪚥中文测试。" * 5)

    def chunks():
        yield from split_chunks(ids, 8)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        count_ngrams(chunks(), 4, bits=vocab.bits, memory=128, batch_size=8, tmpdir=tmp_path)
    assert os.listdir(tmp_path) == []


@given(texts, st.integers(1, 5))
@settings(max_examples=60, deadline=None)
def test_min_count_equals_filtering_the_counter(text, min_count):
    vocab, ids = encode(text)
    table = count_ngrams([ids], 4, bits=vocab.bits, min_count=min_count)
    assert table.to_counter(vocab) == oracle(text, 4, min_count)
    assert table.N == len(re.sub(f"[^{HAN}]", "", text))
    assert table.min_count == min_count


def test_pool_gives_the_same_table():
    rng = np.random.default_rng(7)
    text = "".join(rng.choice(list(ALPHABET), size=20_000, p=[0.2, 0.12, 0.1, 0.1, 0.1, 0.1, 0.08, 0.02, 0.02, 0.06, 0.04, 0.03, 0.02, 0.01]))
    vocab, ids = encode(text)
    single = count_ngrams(split_chunks(ids, 300), 6, bits=vocab.bits, batch_size=1000)
    pooled = count_ngrams(split_chunks(ids, 300), 6, bits=vocab.bits, batch_size=1000, jobs=2)
    assert pooled == single
    assert single.to_counter(vocab) == oracle(text, 6)


def zipf_stream(n: int, vocabulary_size: int, seed: int = 0) -> np.ndarray:
    """A synthetic id stream with Zipf-like character frequencies and runs of 2..13 characters."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocabulary_size + 1)
    weights = ranks**-0.8
    ids = rng.choice(ranks, size=n, p=weights / weights.sum()).astype(np.uint32)
    ends = np.cumsum(rng.integers(2, 14, size=n // 2))
    ids[ends[ends < n]] = 0
    ids[-1] = 0
    return ids


def test_memory_budget_bounds_peak_allocations_and_result_is_exact():
    ids = zipf_stream(400_000, 3000)
    reference = count_ngrams([ids], 4, bits=12)
    budget = 4 << 20
    assert reference.nbytes > 2 * budget  # in-memory counting would hold more than the budget
    chunks = list(split_chunks(ids, 50_000))
    tracemalloc.start()
    try:
        capped = count_ngrams(chunks, 4, bits=12, memory=budget, min_count=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= budget + capped.nbytes
    for order in range(1, 5):
        codes, counts = reference.items(order)
        assert np.array_equal(capped.items(order)[0], codes[counts >= 2])
        assert np.array_equal(capped.items(order)[1], counts[counts >= 2])
    assert capped.N == reference.N == np.count_nonzero(ids)


def test_count_of_looks_up_present_and_absent_codes():
    text = "中文中文测试，测试中文"
    vocab, ids = encode(text)
    for bits in (vocab.bits, 32):
        table = count_ngrams([ids], 4, bits=bits)
        words = ["中文", "文中", "试测", "测试", "是的"]
        codes = vocab.encode_many(words, 2, bits=bits)
        assert table.count_of(codes, 2).tolist() == [3, 1, 0, 2, 0]
        assert table.count_of(vocab.encode_many(["中文中", "中文测", "的的的"], 3, bits=bits), 3).tolist() == [1, 1, 0]
        assert table.count_of(vocab.encode_many(["中国"], 2, bits=bits, strict=False), 2).tolist() == [0]


def test_count_chunk_example_and_run_remaining():
    ids = np.array([1, 2, 1, 0, 2, 1, 0, 3], dtype=np.uint32)  # runs 121, 21, 3 (the end ends a run)
    assert run_remaining(ids).tolist() == [3, 2, 1, 0, 2, 1, 0, 1]
    counts = count_chunk(ids, 3, 2)
    assert counts.chars == 6 and counts.max_order == 3
    assert [k.tolist() for k in counts.codes] == [[1, 2, 3], [0b0110, 0b1001], [0b011001]]
    assert [c.tolist() for c in counts.counts] == [[3, 2, 1], [1, 2], [1]]


def test_empty_input_gives_empty_tables():
    table = count_ngrams([np.zeros(0, dtype=np.uint32), np.zeros(3, dtype=np.uint32)], 6, bits=16)
    assert table.N == 0 and all(table.distinct(k) == 0 for k in range(1, 7))
    assert table.items(5)[0].shape == (0, 2)
    assert table.count_of(np.zeros(2, dtype=np.uint64), 2).tolist() == [0, 0]
    assert list(split_chunks(np.zeros(0, dtype=np.uint32), 4)) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_order": 9}, "max_order must be between 1 and 8, got 9"),
        ({"max_order": 0}, "max_order must be between 1 and 8, got 0"),
        ({"bits": 0}, "bits must be between 1 and 32, got 0"),
        ({"bits": 33}, "bits must be between 1 and 32, got 33"),
        ({"memory": 0}, "memory must be an integer >= 1, got 0"),
        ({"jobs": 0}, "jobs must be an integer >= 1, got 0"),
        ({"min_count": 0}, "min_count must be an integer >= 1, got 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"bits": 2}, "character ids must be between 0 and 3 for bits=2, got 5"),
    ],
)
def test_invalid_parameters_raise_one_line_usage_errors(kwargs, message):
    args = {"max_order": 4, "bits": 4, **kwargs}
    with pytest.raises(UsageError) as err:
        count_ngrams([np.array([1, 5, 0], dtype=np.uint32)], args.pop("max_order"), **args)
    assert str(err.value) == message


def test_negative_or_non_integer_ids_are_rejected():
    with pytest.raises(UsageError, match="between 0 and 15 for bits=4, got -1"):
        count_chunk(np.array([1, -1, 0]), 2, 4)
    with pytest.raises(UsageError, match="1-D integer array"):
        count_chunk(np.array([1.0, 0.0]), 2, 4)
    with pytest.raises(UsageError, match="order must be between 1 and 2, got 3"):
        count_ngrams([np.array([1, 0])], 2, bits=4).items(3)


def test_save_load_and_repr(tmp_path):
    vocab, ids = encode("中文中文测试，测试中文𠀀𪚥")
    table = count_ngrams([ids], 6, bits=20, min_count=1)
    path = tmp_path / "table.npz"
    table.save(path)
    assert NgramTable.load(path) == table
    assert repr(table).startswith("NgramTable(max_order=6, N=12, distinct=[6, 7, 8, 6, 4, 2], bits=20, min_count=1, ")


@given(st.lists(texts, max_size=5), st.integers(1, 5))
@settings(max_examples=60, deadline=None)
def test_han_streams_never_split_a_run_between_blocks(blocks, max_order):
    joined = "".join(blocks)
    streams = list(han_streams(blocks))
    assert (np.concatenate(streams).tolist() if streams else []) == han_stream(joined).tolist()
    assert all(stream[-1] == 0 for stream in streams)
    vocab = CharVocabulary.from_text(HAN)
    table = count_ngrams((vocab.to_ids(s) for s in streams), max_order, bits=vocab.bits)
    assert table.to_counter(vocab) == oracle(joined, max_order)


def test_count_corpus_reads_two_passes(tmp_path):
    text = "中文中文测试，测试中文\n𠀀𪚥的一是\n" * 3 + "是的"
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    vocab, table = count_corpus(Corpus([str(path)]), 3, min_count=2)
    assert vocab.char(1) == "中"
    assert table.to_counter(vocab) == oracle(text, 3, 2)
    assert table.N == len(re.sub(f"[^{HAN}]", "", text))
