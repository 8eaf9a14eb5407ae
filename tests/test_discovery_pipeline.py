"""mintext.discover (library): synthetic-language oracle, API contract, invariants, options."""

from __future__ import annotations

import collections
import io

import numpy as np
import pandas as pd
import pytest

import mintext
from mintext.discovery.lexicon import COLUMNS
from mintext.discovery.scoring import score_segmentation
from mintext.errors import UsageError
from tests.synthetic import make_corpus


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    raw, gold = make_corpus(3000, seed=7)
    path = tmp_path_factory.mktemp("synthetic") / "corpus.txt"
    path.write_text("\n".join(raw) + "\n", encoding="utf-8")
    return path, raw, gold


@pytest.fixture(scope="module")
def discovered(synthetic):
    path, _, _ = synthetic
    out = io.StringIO()
    table = mintext.discover([str(path)], segmented=out)
    return table, out.getvalue()


def test_recovers_the_words_of_a_synthetic_language(synthetic, discovered):
    _, raw, gold = synthetic
    table, segmented = discovered
    predicted = segmented.split("\n")[:-1]
    assert len(predicted) == len(raw)
    result = score_segmentation(gold, predicted)
    assert result.f1 >= 0.9, str(result)
    frequent = collections.Counter(w for line in gold for w in line.split()).most_common(30)
    found = set(table["word"])
    assert sum(word in found for word, _ in frequent if word[0] not in "，。；！？") >= 25


def test_table_contract(discovered):
    table, _ = discovered
    assert list(table.columns) == COLUMNS
    assert table["freq"].dtype == np.int64
    assert (table["length"] == table["word"].str.len()).all()
    keys = list(zip((-table["freq"]).tolist(), table["word"].tolist(), strict=True))
    assert keys == sorted(keys)
    assert table["pmi"][table["length"] == 1].isna().all()
    assert table["pmi"][table["length"] >= 2].notna().all()
    options = table.attrs["options"]
    assert options["max_word_length"] == 3 and options["characters"] > 0


def test_frequencies_are_the_counts_of_the_segmented_corpus(discovered):
    table, segmented = discovered
    counts = collections.Counter(w for line in segmented.split("\n") for w in line.split())
    assert all(counts[w] == f for w, f in zip(table["word"], table["freq"], strict=True))


def test_segmented_corpus_keeps_every_character(synthetic, discovered):
    _, raw, _ = synthetic
    _, segmented = discovered
    for original, line in zip(raw, segmented.split("\n"), strict=False):
        assert line.replace(" ", "") == original


def test_fast_pass_equals_text_pass(synthetic, discovered):
    path, _, _ = synthetic
    table, _ = discovered
    fast = mintext.discover([str(path)])
    pd.testing.assert_frame_equal(fast, table)


def test_deterministic_and_independent_of_memory_and_jobs(synthetic, discovered):
    path, _, _ = synthetic
    table, _ = discovered
    small = mintext.discover([str(path)], memory=16 << 20, jobs=2)
    pd.testing.assert_frame_equal(small, table)


def test_corpus_without_han_gives_empty_table(tmp_path):
    path = tmp_path / "punct.txt"
    path.write_text("，。！？\n123 abc\n", encoding="utf-8")
    out = io.StringIO()
    table = mintext.discover([str(path)], segmented=out)
    assert len(table) == 0 and list(table.columns) == COLUMNS
    assert out.getvalue() == "， 。 ！ ？\n123 abc\n"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"max_word_length": 7}, "max word length must be between 1 and 6, got 7"),
        ({"min_count": 0}, "min count must be at least 1, got 0"),
        ({"autonomy": 1.5}, "autonomy must be between 0 and 1, got 1.5"),
        ({"gap_weight": -1}, "gap weight must be at least 0, got -1"),
        ({"gap_weight": float("nan")}, "gap weight must be a finite number at least 0, got nan"),
        ({"gap_weight": float("inf")}, "gap weight must be a finite number at least 0, got inf"),
        ({"autonomy": float("nan")}, "autonomy must be between 0 and 1, got nan"),
        ({"free_share": float("nan")}, "free share must be between 0 and 1, got nan"),
    ],
)
def test_invalid_options_state_the_range(tmp_path, option, message):
    path = tmp_path / "a.txt"
    path.write_text("天地玄黄\n", encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        mintext.discover([str(path)], **option)


def test_single_character_words_only(synthetic):
    path, raw, gold = synthetic
    table = mintext.discover([str(path)], max_word_length=1)
    assert (table["length"] == 1).all()


def test_sparse_rows_of_the_final_pass_give_the_dense_result(synthetic):
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.passes import LongWordRows, final_chunk, prepare_chunk, segment_chunks
    from mintext.discovery.pipeline import run_discovery
    from mintext.io.sources import Corpus
    from mintext.ngrams.hanstream import HanStream

    path, _, _ = synthetic
    result = run_discovery(Corpus([str(path)]), DiscoveryOptions(rounds=2), count_all=False)
    model, evidence, stats = result.model, result.evidence, result.stats
    assert model.live(3).any() and not model.live(3).all()
    with HanStream(Corpus([str(path)])) as han:
        chunks = list(han.chunks(chunk_chars=5000))
    long_rows = LongWordRows(model)
    finder = stats.row_finder(2)
    sparse_chunks = (final_chunk(ids, finder, 3, long_rows, evidence) for ids in chunks)
    sparse, sparse_unlisted = segment_chunks(sparse_chunks, model.costs, stats, evidence, model.spelling())
    dense_chunks = (prepare_chunk(stats.position_rows(ids, 3), evidence) for ids in chunks)
    dense, dense_unlisted = segment_chunks(dense_chunks, model.costs, stats, evidence, model.spelling())
    for order in dense:
        np.testing.assert_array_equal(sparse[order], dense[order])
        for a, b in zip(sparse_unlisted[order], dense_unlisted[order], strict=True):
            np.testing.assert_array_equal(a, b)


def test_sampled_refinement_still_counts_the_whole_corpus_in_parallel_too(synthetic):
    path, raw, _ = synthetic
    table = mintext.discover([str(path)], sample=20_000)
    pd.testing.assert_frame_equal(mintext.discover([str(path)], sample=20_000, jobs=2), table)
    assert table["freq"].mul(table["length"]).sum() == sum(len(line) - sum(ch in "，。；！？" for ch in line) for line in raw)


def test_forked_pool_counts_equal_serial_counts(synthetic):
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.passes import ChunkPool, prepare_chunk
    from mintext.discovery.pipeline import run_discovery
    from mintext.io.sources import Corpus
    from mintext.ngrams.hanstream import HanStream

    path, _, _ = synthetic
    result = run_discovery(Corpus([str(path)]), DiscoveryOptions(rounds=1), count_all=False)
    with HanStream(Corpus([str(path)])) as han:
        chunks = [prepare_chunk(result.stats.position_rows(ids, 3), result.evidence) for ids in han.chunks(chunk_chars=9000)]
    assert len(chunks) >= 4
    costs, spelling = result.model.costs, result.model.spelling()
    with ChunkPool(chunks, result.stats, 3, result.evidence, jobs=1) as serial:
        expected, expected_unlisted = serial.counts(costs, spelling)
        expected_plain, _ = serial.counts(costs, spelling, with_evidence=False)
    with ChunkPool(chunks, result.stats, 3, result.evidence, jobs=2) as forked:
        got, got_unlisted = forked.counts(costs, spelling)
        again, _ = forked.counts(costs, spelling, with_evidence=False)
    for order in expected:
        np.testing.assert_array_equal(got[order], expected[order])
        np.testing.assert_array_equal(again[order], expected_plain[order])
        for a, b in zip(got_unlisted[order], expected_unlisted[order], strict=True):
            np.testing.assert_array_equal(a, b)


def test_final_pass_in_forked_workers_equals_one_process(synthetic):
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.passes import FinalPass
    from mintext.discovery.pipeline import run_discovery
    from mintext.io.sources import Corpus
    from mintext.ngrams.hanstream import HanStream

    path, _, _ = synthetic
    result = run_discovery(Corpus([str(path)]), DiscoveryOptions(rounds=1), count_all=False)
    with HanStream(Corpus([str(path)])) as han:
        final = FinalPass(result.model, result.evidence, han)
        spans = han.spans(chunk_chars=9000)
        assert len(spans) >= 4
        one, one_unlisted = final.run(result.stats, spans, jobs=1)
        two, two_unlisted = final.run(result.stats, spans, jobs=2)
    for order in one:
        np.testing.assert_array_equal(one[order], two[order])
        for a, b in zip(one_unlisted[order], two_unlisted[order], strict=True):
            np.testing.assert_array_equal(a, b)


def test_one_line_read_in_pieces_segments_as_the_whole_line_with_gap_evidence(synthetic):
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.pipeline import run_discovery, segmenter_of, text_counts
    from mintext.io.sources import Corpus

    path, raw, _ = synthetic
    line = "".join(raw)  # the whole corpus as one line without a newline
    one = path.with_name("one-line.txt")
    one.write_text(line, encoding="utf-8")
    result = run_discovery(Corpus([str(one)]), DiscoveryOptions(rounds=1), count_all=False)
    segmenter = segmenter_of(result)
    assert segmenter.evidence is not None and segmenter.evidence.weight > 0
    whole = segmenter.segment_lines([line])[0] + "\n"
    # discover --segment's path: pieces of 700 characters (cut after the punctuation ending a sentence)
    out = io.StringIO()
    counts = text_counts(Corpus([str(one)], max_line_chars=700), segmenter, out)
    assert out.getvalue() == whole
    assert sum(int(c.sum()) for _, c in counts.values()) == sum(1 for w in whole.split() if w not in "，。；！？")
    # and any batch size
    for batch_chars in (1, 2_000):
        pieces = Corpus([str(one)], max_line_chars=700).line_pieces()
        assert "".join(b.text for b in segmenter.segment_text(pieces, batch_chars=batch_chars)) == whole


# --------------------------------------------------------------------------- one model: the lexicon file segments as discovery did


def _lexicon_and_gaps(path, tmp_path, **options):
    """discover's segmented text, and the lexicon and gap table written to files and read back."""
    from mintext.discovery.gaps import GapTable
    from mintext.discovery.lexicon import header_line, read_lexicon, write_lexicon

    segmented, gaps = io.StringIO(), io.StringIO()
    table = mintext.discover([str(path)], segmented=segmented, gaps=gaps, **options)
    lexicon_path, gaps_path = tmp_path / "lexicon.tsv", tmp_path / "gaps.tsv"
    with open(lexicon_path, "w", encoding="utf-8") as out:
        write_lexicon(table, out, "tsv", header_line(table.attrs["options"]))
    gaps_path.write_text(gaps.getvalue(), encoding="utf-8")
    return table, segmented.getvalue(), read_lexicon(lexicon_path), GapTable.read(gaps_path, "gaps.tsv")


@pytest.mark.parametrize(
    "options",
    [{}, {"max_word_length": 4}, {"rounds": 0}, {"gap_weight": 0.5, "concentration": 0.5, "base_smoothing": 2.0}],
    ids=["defaults", "k4", "no-rounds", "other-model"],
)
def test_lexicon_file_with_gap_table_segments_the_corpus_byte_for_byte(synthetic, tmp_path, options):
    from mintext.discovery.lexicon import segmenter_for
    from mintext.discovery.wordmodel import ModelParameters

    path, raw, _ = synthetic
    model = {k: options.pop(k) for k in ("concentration", "base_smoothing") if k in options}
    if model:
        options["model"] = ModelParameters(**model)
    table, segmented, lexicon, gaps = _lexicon_and_gaps(path, tmp_path, **options)
    # the model's own rows: banned words and words the final segmentation left unused (freq 0) are listed
    assert ((table["freq"] > 0) | (table["count"] > 0) | (table["banned"] == 1)).all()
    again = "".join(line + "\n" for line in segmenter_for(lexicon, gaps=gaps).segment_lines(raw))
    assert again == segmented


def test_lexicon_without_gap_table_is_discoverys_word_model_alone(synthetic, tmp_path):
    """Without the gap table, segment -l is the same word model minus the gap evidence: discovery's own
    Segmenter with evidence removed, line for line."""
    from mintext.discovery.lexicon import segmenter_for
    from mintext.discovery.pipeline import run_discovery, segmenter_of
    from mintext.io.sources import Corpus

    path, raw, _ = synthetic
    _, _, lexicon, _ = _lexicon_and_gaps(path, tmp_path)
    corpus = Corpus([str(path)])
    try:
        own = segmenter_of(run_discovery(corpus, count_all=False))
    finally:
        corpus.close()
    own.evidence = None
    assert segmenter_for(lexicon).segment_lines(raw) == own.segment_lines(raw)


def test_freq_only_lexicon_keeps_its_old_meaning():
    """A lexicon without count/banned (jieba's, a user's) still costs words from freq."""
    from mintext.discovery.lexicon import segmenter_for

    words = pd.DataFrame({"word": ["研究", "生命", "研究生", "命"], "freq": [50, 50, 2, 1]})
    with_model = words.assign(count=[50.0, 50.0, 2.0, 1.0], banned=[0, 0, 0, 0])
    for text in ("研究生命", "研究生命研究生"):
        assert segmenter_for(words).segment_lines([text]) == segmenter_for(with_model).segment_lines([text])
    banned = with_model.assign(banned=[0, 0, 1, 0], count=[50.0, 50.0, 0.0, 1.0])
    assert "研究生" not in segmenter_for(banned).segment_lines(["研究生研究生研究生"])[0].split()


def test_header_records_the_code_length_per_character(synthetic, discovered):
    from mintext.discovery.pipeline import run_discovery
    from mintext.io.sources import Corpus

    path, _, _ = synthetic
    table, _ = discovered
    corpus = Corpus([str(path)])
    try:
        result = run_discovery(corpus, count_all=False)
    finally:
        corpus.close()
    # the best round's code length (nats) over the sample's characters, in bits
    expected = min(result.code_lengths) / result.sample_characters / np.log(2)
    assert table.attrs["options"]["bits_per_char"] == round(expected, 4)
    assert 0 < expected < np.log2(result.stats.vocabulary.size) + 1
    assert "bits_per_char" not in mintext.discover([str(path)], rounds=0).attrs["options"]


def test_spelled_words_of_the_cost_matrix_cost_their_spelling_bit_for_bit(synthetic):
    """Oracle: the Spelling of each window's id matrix (the word model's own formula), per spelled position."""
    from mintext.discovery.ngramstats import SPELLED
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.passes import LongWordRows, cost_matrix, final_chunk, with_sentinels
    from mintext.discovery.pipeline import run_discovery
    from mintext.io.sources import Corpus
    from mintext.ngrams.hanstream import HanStream

    path, _, _ = synthetic
    result = run_discovery(Corpus([str(path)]), DiscoveryOptions(rounds=2), count_all=False)
    model, spelling = result.model, result.model.spelling()
    with HanStream(Corpus([str(path)])) as han:
        ids = next(han.chunks(chunk_chars=20_000))
    chunk = final_chunk(ids, result.stats.row_finder(2), 3, LongWordRows(model), result.evidence)
    costs = cost_matrix(chunk, with_sentinels(model.costs), None, spelling)
    without = cost_matrix(chunk, with_sentinels(model.costs), None, None)
    spelled = np.flatnonzero(chunk.rows.rows[3] == SPELLED)
    assert spelled.size > 100
    windows = np.stack([ids[spelled + j] for j in range(3)], axis=1).astype(np.int64)
    assert np.array_equal(costs[2, spelled], spelling(windows))
    assert np.isinf(without[2, spelled]).all()
    others = np.flatnonzero(chunk.rows.rows[3] != SPELLED)
    assert np.array_equal(costs[2, others], without[2, others])


@pytest.fixture(scope="module")
def larger(tmp_path_factory):
    raw, _ = make_corpus(12000, seed=3)
    path = tmp_path_factory.mktemp("larger") / "corpus.txt"
    path.write_text("\n".join(raw) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", [1, 2, 5])
def test_joined_sample_chunks_count_what_the_chunks_count_one_by_one(larger, jobs):
    # the sample is joined into one chunk per job (at most one per chunk): the same runs, so the
    # same counts as the chunks segmented apart; on a cluster the chunks stay apart (one per span)
    from mintext.discovery.lattice import Runs, sorted_by_length
    from mintext.discovery.options import DiscoveryOptions
    from mintext.discovery.passes import prepare_chunk, segment_chunks
    from mintext.discovery.pipeline import run_discovery, sample_chunks
    from mintext.io.sources import Corpus
    from mintext.ngrams.hanstream import HanStream

    sample = 150_000
    result = run_discovery(Corpus([str(larger)]), DiscoveryOptions(rounds=1, sample=sample), count_all=False)
    with HanStream(Corpus([str(larger)])) as han:
        apart = list(han.chunks(limit=sample))
        joined = sample_chunks(han, sample, jobs, None)
        on_cluster = sample_chunks(han, sample, jobs, executor=object())
    assert len(apart) == 3 and len(joined) == min(jobs, 3)
    assert all(np.array_equal(a, b) for a, b in zip(on_cluster, apart, strict=True))

    def runs_of(chunks):
        return sorted(tuple(c[s : s + n].tolist()) for c in chunks for s, n in zip(Runs.of(c).starts, Runs.of(c).lengths, strict=True))

    assert runs_of(joined) == runs_of(apart)
    costs, spelling = result.model.costs, result.model.spelling()

    def counts(chunks):
        prepared = [prepare_chunk(result.stats.position_rows(sorted_by_length(c), 3), result.evidence) for c in chunks]
        return segment_chunks(prepared, costs, result.stats, result.evidence, spelling)

    expected, expected_unlisted = counts(apart)
    got, got_unlisted = counts(joined)
    for order in expected:
        np.testing.assert_array_equal(got[order], expected[order])
        for a, b in zip(got_unlisted[order], expected_unlisted[order], strict=True):
            np.testing.assert_array_equal(a, b)
