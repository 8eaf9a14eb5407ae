"""Packed sequences and masking, against plain-list oracles: nothing lost, nothing padded, resumable, 15% masked."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from synthetic import make_corpus

from mintext.io.sources import Corpus
from mintext.pretraining.data import HELD_OUT_EVERY, SequenceStream, mask_batch, max_masked
from mintext.pretraining.vocab import count_atoms, vocabulary_from_counts


@pytest.fixture
def corpus_files(tmp_path):
    big, _ = make_corpus(300, seed=1)
    small, _ = make_corpus(30, seed=2)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join(big) + "\n", encoding="utf-8")
    b.write_text("\n\n".join(small) + "\n", encoding="utf-8")  # blank lines are skipped
    return [str(a), str(b)], big, small


def stream_of(files, seq_len=24, **kw):
    corpus = Corpus(files)
    vocab = vocabulary_from_counts(count_atoms(corpus), 1)
    stream = SequenceStream(corpus, vocab, seq_len, **kw)
    stream.count()
    return stream, vocab


def expected_stream(lines, vocab):
    """The oracle: every line's ids followed by [SEP], in order."""
    out = []
    for line in lines:
        out += vocab.encode(line) + [vocab.sep_id]
    return out


def test_each_source_packs_into_full_sequences_that_concatenate_back_to_its_lines(corpus_files):
    files, big, small = corpus_files
    stream, vocab = stream_of(files)
    for source, lines in zip(stream.corpus.sources, (big, small), strict=True):
        sequences = [tokens for tokens, _ in stream._source_sequences(source)]
        assert all(s[0] == vocab.cls_id for s in sequences)
        assert all(0 not in s for s in sequences[:-1])  # packed: only the last sequence of a source has padding
        body = []
        for tokens in sequences:
            content = np.trim_zeros(tokens[1:], "b").tolist()
            assert content[-1] == vocab.sep_id
            body += content[:-1]  # without the closing [SEP]
        expected = expected_stream(lines, vocab)
        assert body in (expected, expected[:-1])


def test_an_epoch_uses_every_training_sequence_once_and_holds_the_held_out_ones_back(corpus_files):
    files, _, _ = corpus_files
    stream, _ = stream_of(files, held_out=3)
    everything = [tuple(t) for t, _ in stream._interleaved()]
    held = [tuple(r) for r in stream.held_out()]
    assert held == [everything[k * HELD_OUT_EVERY] for k in range(3)]
    epoch = [tuple(t) for t, _ in stream.epoch(0)]
    assert Counter(epoch) + Counter(held) == Counter(everything)
    assert len(epoch) == stream.sequences_per_epoch
    assert epoch != [s for s in everything if s not in held]  # shuffled


def test_a_skipped_epoch_is_the_tail_of_the_same_epoch_and_epochs_differ(corpus_files):
    files, _, _ = corpus_files
    stream, _ = stream_of(files)
    full = [t.tolist() for t, _ in stream.epoch(2)]
    assert [t.tolist() for t, _ in stream.epoch(2, skip=37)] == full[37:]
    assert [t.tolist() for t, _ in stream.epoch(3)] != full


def test_sources_are_interleaved_in_proportion_to_their_size(corpus_files, monkeypatch):
    files, _, _ = corpus_files
    stream, _ = stream_of(files)
    stream.sequences_per_source = [100, 7]
    monkeypatch.setattr(stream, "_source_sequences",
                        lambda source: ((stream.corpus.sources.index(source), k) for k in range(
                            stream.sequences_per_source[stream.corpus.sources.index(source)])))
    order = list(stream._interleaved())
    assert sorted(order) == [(0, k) for k in range(100)] + [(1, k) for k in range(7)]
    places = [i for i, (source, _) in enumerate(order) if source == 1]
    gaps = np.diff([-1, *places, len(order)])
    assert gaps.max() <= len(order) / 7 + 1  # spread over the whole stream, not bunched at one end


def vocab_and_rows(seq_len=40, rows=200, seed=0):
    raw, _ = make_corpus(50, seed=seed)
    vocab = vocabulary_from_counts(count_atoms(raw), 1)
    rng = np.random.default_rng(seed)
    tokens = rng.integers(vocab.first_real_id, vocab.size, (rows, seq_len)).astype(np.int32)
    tokens[:, 0] = vocab.cls_id
    tokens[:, -1] = vocab.sep_id
    tokens[:, 15] = vocab.sep_id
    groups = np.tile(np.arange(seq_len, dtype=np.int32), (rows, 1))
    return vocab, tokens, groups


def test_masking_takes_15_percent_of_text_tokens_and_splits_them_80_10_10():
    vocab, tokens, groups = vocab_and_rows()
    batch = mask_batch(tokens, groups, vocab, np.random.default_rng(5))
    text_tokens = 40 - 3
    assert (batch.weights.sum(axis=1) == round(0.15 * text_tokens)).all()
    chosen = batch.weights > 0
    rows, slots = np.nonzero(chosen)
    positions = batch.positions[rows, slots]
    assert (batch.labels[rows, slots] == tokens[rows, positions]).all()  # labels are the original tokens
    assert not np.isin(positions, [0, 15, 39]).any()  # [CLS] and [SEP] are never masked
    masked_input = batch.token_ids[rows, positions]
    share_mask = np.mean(masked_input == vocab.mask_id)
    share_kept = np.mean(masked_input == tokens[rows, positions])
    assert 0.76 < share_mask < 0.84 and 0.08 < share_kept < 0.14  # kept: the 10% + random draws of the same token
    untouched = np.ones_like(tokens, bool)
    untouched[rows, positions] = False
    assert (batch.token_ids[untouched] == tokens[untouched]).all()
    assert batch.positions.shape[1] == max_masked(40)


def test_whole_word_masking_masks_only_complete_words():
    vocab, tokens, _ = vocab_and_rows()
    groups = np.tile(np.repeat(np.arange(20, dtype=np.int32), 2), (tokens.shape[0], 1))  # words of two tokens
    groups[:, [0, 15, 39]] = -1
    batch = mask_batch(tokens, groups, vocab, np.random.default_rng(1), whole_words=True)
    for row in range(tokens.shape[0]):
        chosen = batch.positions[row][batch.weights[row] > 0]
        words = Counter(groups[row, chosen].tolist())
        complete = Counter(groups[row, np.flatnonzero(tokens[row] != vocab.sep_id)].tolist())
        assert all(words[w] == complete[w] for w in words), (row, words)
        assert 1 <= len(chosen) <= round(0.15 * 37)


def test_the_same_generator_gives_the_same_masks():
    vocab, tokens, groups = vocab_and_rows()
    a = mask_batch(tokens, groups, vocab, np.random.default_rng([1, 2, 3]))
    b = mask_batch(tokens, groups, vocab, np.random.default_rng([1, 2, 3]))
    assert all((getattr(a, f) == getattr(b, f)).all() for f in ("token_ids", "positions", "labels", "weights"))
