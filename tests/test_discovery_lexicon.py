"""Lexicon files (mintext.discovery.lexicon): TSV and jieba writing, reading back, line-numbered errors, jieba loading."""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.discovery.lexicon import (
    COLUMNS,
    Lexicon,
    header_line,
    lexicon_order,
    read_lexicon,
    read_lexicon_columns,
    segmenter_for,
    write_lexicon,
)
from mintext.errors import InputError, UsageError

HAN = "中国人民的研究生命𠀀𪚥"


def lexicon(words: list[str], freqs: list[int]) -> pd.DataFrame:
    """A lexicon frame with every column; statistics made up but well defined (NaN pmi for 1 character)."""
    return pd.DataFrame(
        {
            "word": words,
            "freq": freqs,
            "length": [len(w) for w in words],
            "pmi": [float("nan") if len(w) == 1 else 1.5 + k / 7 for k, w in enumerate(words)],
            "left_entropy": [k / 3 for k in range(len(words))],
            "right_entropy": [2.0 for _ in words],
            "count": [float(f) for f in freqs],
            "banned": [0 for _ in words],
        }
    )


SAMPLE = lexicon(["中国", "人民", "的", "研究生", "𠀀𪚥"], [50, 40, 40, 3, 2])


def written(table: pd.DataFrame, fmt: str, header: str | None = None) -> str:
    out = io.StringIO()
    write_lexicon(table, out, fmt, header)
    return out.getvalue()


# --------------------------------------------------------------------------- writing and reading back


def test_tsv_layout_header_row_and_cells():
    text = written(SAMPLE, "tsv", header=header_line({"max_word_length": 3, "input": "a b.txt"}))
    lines = text.split("\n")
    assert lines[0] == "# max_word_length=3 input=a_b.txt"
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:])), delimiter="\t"))
    assert rows[0] == COLUMNS
    assert [r[0] for r in rows[1:] if r] == SAMPLE["word"].tolist()
    by_word = {r[0]: r for r in rows[1:] if r}
    assert by_word["中国"][1:3] == ["50", "2"]
    assert by_word["的"][3] == ""  # NaN pmi is an empty cell
    assert float(by_word["人民"][3]) == pytest.approx(1.5 + 1 / 7, abs=5e-5)  # 4 decimals
    assert float(by_word["研究生"][4]) == pytest.approx(3 / 3, abs=5e-5)


@pytest.mark.parametrize("fmt", ["tsv", "jieba"])
def test_write_then_read_round_trip(tmp_path, fmt):
    path = tmp_path / f"lexicon.{fmt}"
    path.write_text(written(SAMPLE, fmt, header="# made by a test"), encoding="utf-8")
    back = read_lexicon(path)
    assert list(back.columns) == (["word", "freq", "count", "banned"] if fmt == "tsv" else ["word", "freq"])
    assert back["word"].tolist() == SAMPLE["word"].tolist()
    assert back["freq"].tolist() == [float(f) for f in SAMPLE["freq"]]
    if fmt == "tsv":
        assert back["count"].tolist() == SAMPLE["count"].tolist() and not back["banned"].any()


def test_jieba_format_is_word_space_integer_frequency():
    assert written(SAMPLE, "jieba") == "中国 50\n人民 40\n的 40\n研究生 3\n𠀀𪚥 2\n"
    # a word only the model holds (freq 0, here banned) is no dictionary word
    model_only = pd.concat([SAMPLE, lexicon(["生命"], [0]).assign(banned=[1])], ignore_index=True)
    assert written(model_only, "jieba") == written(SAMPLE, "jieba")


words_st = st.text(alphabet=HAN, min_size=1, max_size=4)


@given(st.dictionaries(words_st, st.integers(1, 10**9), min_size=1, max_size=20), st.sampled_from(["tsv", "jieba"]))
@settings(max_examples=40, deadline=None)
def test_round_trip_random_lexicons(entries, fmt):
    table = lexicon(list(entries), list(entries.values()))
    fd, name = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            write_lexicon(table, f, fmt)
        back = read_lexicon(name)
    finally:
        os.unlink(name)
    assert dict(zip(back["word"], back["freq"], strict=True)) == {w: float(f) for w, f in entries.items()}


@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6).map(float),
                          st.sampled_from([0.5, -0.0, 1e15, 999999999999999.0, 2.00004, 2.00005])), max_size=30))
@settings(max_examples=200, deadline=None)
def test_whole_column_cells_are_the_per_cell_format(values):
    """write_lexicon formats columns at once; the oracle is the per-value rule (_cell)."""
    from mintext.discovery.lexicon import _cell, _cells

    assert _cells(pd.Series(values, dtype=np.float64)) == [_cell(float(v)) for v in values]
    integers = [int(v) for v in values if math.isfinite(v) and abs(v) < 1e15]
    assert _cells(pd.Series(integers, dtype=np.int64)) == [str(v) for v in integers]


def test_lexicon_order_by_frequency_then_word():
    table = lexicon(["b", "a", "中", "c"], [1, 5, 5, 9])
    assert table["word"].to_numpy()[lexicon_order(table["word"].to_numpy(), table["freq"])].tolist() == ["c", "a", "中", "b"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab中\U00020000\0", min_size=1, max_size=4),
                          st.sampled_from([0.0, 1.0, 2.5, 7.0, 1e12])), unique_by=lambda row: row[0], max_size=40))
def test_sorted_lexicon_is_pythons_sort_by_frequency_then_word(rows):
    """The oracle: sorted() on (-freq, word); words are distinct, as in a lexicon (NUL, astral characters, ties)."""
    words = np.empty(len(rows), dtype=object)
    words[:] = [w for w, _ in rows]
    table = Lexicon({"word": words, "freq": np.array([f for _, f in rows], dtype=np.float64)})
    expected = sorted(rows, key=lambda row: (-row[1], row[0]))
    got = table.sorted()
    assert list(zip(got.columns["word"].tolist(), got.columns["freq"].tolist(), strict=True)) == expected
    frame = got.to_frame()
    assert frame.index.tolist() == list(range(len(rows))) and frame["word"].tolist() == [w for w, _ in expected]


@pytest.mark.parametrize("fmt", ["tsv", "jieba"])
def test_a_lexicon_of_columns_writes_as_its_dataframe(fmt):
    columns = {name: SAMPLE[name].to_numpy() for name in COLUMNS}
    columns["word"] = SAMPLE["word"].to_numpy(dtype=object)
    table = Lexicon(columns, {"max_word_length": 3})
    assert written(table, fmt, "# h") == written(SAMPLE, fmt, "# h") == written(table.to_frame(), fmt, "# h")
    assert table.to_frame().attrs["options"] == {"max_word_length": 3}
    assert repr(table) == "Lexicon(5 words: 中国 人民 的 研究生 𠀀𪚥)"
    assert repr(table.rows(slice(0, 0))) == "Lexicon(0 words)"
    text = ["中国人民的研究生𠀀𪚥", "研究生的中国"]
    framed = SAMPLE.copy()
    framed.attrs["options"] = {"max_word_length": 3}
    assert segmenter_for(table).segment_lines(text) == segmenter_for(framed).segment_lines(text)


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="tsv, jieba"):
        written(SAMPLE, "csv")


def test_read_skips_comments_and_blank_lines_and_reads_space_separated_rows(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# comment\n\n中国 12 n\n  \n人民 3.5\n", encoding="utf-8")
    back = read_lexicon(path)
    assert back["word"].tolist() == ["中国", "人民"] and back["freq"].tolist() == [12.0, 3.5]


# --------------------------------------------------------------------------- errors


def test_largest_frequency_is_accepted_and_segments(tmp_path):
    path = tmp_path / "lex.tsv"
    path.write_text("中国\t1e12\n国人\t1e12\n中\t1e12\n", encoding="utf-8")
    lexicon = read_lexicon(path)
    assert lexicon["freq"].tolist() == [1e12, 1e12, 1e12]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in the character counts (1e30 used to wrap to -2**63)
        assert segmenter_for(lexicon).segment_lines(["中国中"]) == ["中国 中"]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("中国 5\n人民\n", 2, "expected a word and a frequency"),  # missing frequency (space format)
        ("word\tfreq\n中国\t5\n人民\n", 3, "expected a word and a frequency"),  # missing frequency (TSV)
        ("中国\tabc\n", 1, "not a number"),
        ("# h\n中国\t5\n人民\t\n", 3, "not a number"),
        ("中国\t0\n", 1, "a number above 0 and at most 1e12, got '0'"),
        ("\n中国\t-2\n", 2, "a number above 0 and at most 1e12, got '-2'"),
        ("中国\tnan\n", 1, "a number above 0 and at most 1e12, got 'nan'"),
        ("中国\tinf\n", 1, "a number above 0 and at most 1e12, got 'inf'"),
        ("中国\t5\n人民\t1e30\n", 2, "a number above 0 and at most 1e12, got '1e30'"),  # overflowed int64 counts
        ("中国\t1000000000001\n", 1, "a number above 0 and at most 1e12, got '1000000000001'"),
        ("中国\t5\n\t7\n", 2, "empty or contains spaces"),  # empty word
        ("中国\t5\n中 国\t7\n", 2, "empty or contains spaces"),  # word with a space
        ("中国\t5\n人民\t2\n中国\t9\n", 3, "listed twice"),
        ("中国 5\n的 1\n中国 2\n", 3, "first on line 1"),
    ],
)
def test_malformed_rows_name_their_line(tmp_path, content, line, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=f"line {line}:") as info:
        read_lexicon(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "# h\nword\tfreq\tlength\n"])
def test_a_file_without_rows_is_an_error(tmp_path, content):
    path = tmp_path / "empty.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="no lexicon rows"):
        read_lexicon(path)


def test_jieba_frequencies_stay_positive_integers(tmp_path):
    # read_lexicon accepts fractional frequencies; jieba needs whole positive counts (0.5 was once written as 0)
    path = tmp_path / "in.tsv"
    path.write_text("中国\t0.5\n人民\t2\n生命\t2.7\n", encoding="utf-8")
    text = written(read_lexicon(path), "jieba")
    counts = [int(line.split(" ")[1]) for line in text.splitlines()]
    assert counts[0] >= 1 and counts[1:] == [2, 3]
    out = tmp_path / "out.txt"
    out.write_text(text, encoding="utf-8")
    assert (read_lexicon(out)["freq"] > 0).all()


# --------------------------------------------------------------------------- jieba


def test_jieba_loads_the_written_dictionary_and_cuts_with_its_words(tmp_path):
    jieba = pytest.importorskip("jieba")
    jieba.setLogLevel(logging.WARNING)
    table = lexicon(["中国", "人民", "研究", "生命", "的", "中", "国", "人", "民", "研", "究", "生", "命"],
                    [500, 400, 300, 300, 800, 1, 1, 1, 1, 1, 1, 1, 1])
    path = tmp_path / "userdict.txt"
    path.write_text(written(table, "jieba"), encoding="utf-8")
    tokenizer = jieba.Tokenizer(dictionary=str(path))
    tokenizer.tmp_dir = str(tmp_path)
    assert tokenizer.lcut("中国人民的生命研究", HMM=False) == ["中国", "人民", "的", "生命", "研究"]
    # jieba's word frequencies are the ones written
    tokenizer.initialize()
    assert tokenizer.FREQ["中国"] == 500 and tokenizer.FREQ["的"] == 800
    assert math.isclose(tokenizer.total, float(np.sum(table["freq"])))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="0123456789.eE+- _５\r", max_size=8),
                          st.sampled_from(["inf", "-inf", "nan", "Infinity", "1e400", "0x10", "1,000", "-0", "5."])),
                max_size=20))
def test_numbers_read_as_pandas_to_numeric_reads_them(texts):
    """The oracle: pandas.to_numeric(errors="coerce"), which read_lexicon used before it stopped importing pandas."""
    from mintext.discovery.lexicon import _numbers

    expected = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(_numbers(texts), expected + 0.0)


def test_read_lexicon_and_its_columns_agree(tmp_path):
    path = tmp_path / "lex.tsv"
    path.write_text(written(SAMPLE, "tsv", header_line({"max_word_length": 3})), encoding="utf-8")
    frame, columns = read_lexicon(path), read_lexicon_columns(path)
    assert frame.columns.tolist() == ["word", "freq", "count", "banned"]
    assert frame["word"].tolist() == columns.columns["word"].tolist() == SAMPLE["word"].tolist()
    assert frame["banned"].dtype == bool and frame["freq"].dtype == np.float64
    assert frame.attrs["options"] == columns.options == {"max_word_length": "3"}
