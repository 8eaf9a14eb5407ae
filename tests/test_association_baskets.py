"""Reading baskets: every format against a plain-Python reading, across block boundaries, with exact errors."""

from __future__ import annotations

import csv
import functools
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mintext.association.baskets as baskets_module
from mintext.association.baskets import Baskets, default_sep, format_for, read_baskets
from mintext.errors import InputError, UsageError
from mintext.io.sources import iter_blocks


@pytest.fixture(params=[3, 1 << 20], ids=["tiny-blocks", "default-blocks"])
def block_bytes(request, monkeypatch):
    """Read in 3-byte blocks (every line, quote and number split across blocks) and in the default ones."""
    monkeypatch.setattr(baskets_module, "iter_blocks", functools.partial(iter_blocks, block_bytes=request.param))
    return request.param


def as_sets(baskets: Baskets) -> list[frozenset]:
    return [frozenset(baskets.basket(b)) for b in range(baskets.n_baskets)]


def reference_lines(text: str, sep: str | None) -> list[frozenset]:
    """One basket per line, the obvious way (the last line may lack its newline)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [frozenset(i.strip() for i in line.split(sep) if i.strip()) for line in lines]


tokens = st.sampled_from(["1", "2", "10", "01", "007", "7", "a", "b c", "", " 3 ", "x"])
lines_strategy = st.lists(st.lists(tokens, max_size=6), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy, final_newline=st.booleans())
def test_basket_format_matches_reference(tmp_path, block_bytes, lines, final_newline):
    text = "\n".join(",".join(line) for line in lines) + ("\n" if final_newline else "")
    path = tmp_path / "b.csv"
    path.write_text(text)
    if not any(reference_lines(text, ",")):
        with pytest.raises(InputError):
            read_baskets(str(path))
        return
    assert as_sets(read_baskets(str(path))) == reference_lines(text, ",")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(st.sampled_from(["1", "2", "10", "01", "99", "a"]), max_size=6), min_size=1, max_size=25))
def test_fimi_numbers_and_names_share_ids(tmp_path, block_bytes, lines):
    """Chunks of plain numbers take the numeric path; '01' or 'a' send a chunk down the string path."""
    text = "".join(" ".join(line) + " \n" for line in lines)
    path = tmp_path / "f.dat"
    path.write_text(text)
    if not any(lines):
        with pytest.raises(InputError):
            read_baskets(str(path))
        return
    result = read_baskets(str(path))
    assert as_sets(result) == reference_lines(text, None)
    assert len(set(result.items)) == len(result.items)  # one id per name, whichever path read it


def test_numeric_path_is_used_and_ids_follow_first_appearance():
    result = Baskets.from_iterable([])  # an empty builder works
    assert result.n_baskets == 0
    builder = baskets_module._Builder()
    builder.add_lines("5 3\n3 1000\n", None)  # numbers only
    builder.add_lines("a 5\n", None)  # a name: the string path, '5' keeps its id
    built = builder.finish()
    assert built.items == ["3", "5", "1000", "a"]  # new numbers of a chunk come in numeric order
    assert [built.basket(b) for b in range(3)] == [["3", "5"], ["3", "1000"], ["5", "a"]]


def test_quoted_csv_across_blocks(tmp_path, block_bytes):
    text = 'a,"b, with comma"\n"multi\nline",a\n"say ""hi""", a \n'
    path = tmp_path / "q.csv"
    path.write_text(text)
    expected = [frozenset(i.strip() for i in row if i.strip()) for row in csv.reader(io.StringIO(text))]
    assert as_sets(read_baskets(str(path))) == expected


def test_crlf_bom_gzip_and_stdin(tmp_path, monkeypatch):
    import gzip

    path = tmp_path / "w.csv.gz"
    path.write_bytes(gzip.compress("\ufeffmilk,bread\r\n\r\nmilk\r\n".encode()))
    result = read_baskets(str(path))
    assert as_sets(result) == [frozenset({"milk", "bread"}), frozenset(), frozenset({"milk"})]
    assert read_baskets(str(path), skip_empty=True).n_baskets == 2
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"1 2\n2\n")))
    assert as_sets(read_baskets("-", format="fimi")) == [frozenset({"1", "2"}), frozenset({"2"})]


def test_several_inputs_are_one_input(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n")
    (tmp_path / "b.dat").write_text("1 2\n")
    result = read_baskets([str(tmp_path / "a.csv"), str(tmp_path / "b.dat")])
    assert as_sets(result) == [frozenset({"x", "y"}), frozenset({"1", "2"})]


def test_long_format_across_blocks(tmp_path, block_bytes):
    rows = [(f"t{i % 7}", f"item{i % 5}") for i in range(60)]
    text = "basket,product\n" + "".join(f"{t},{i}\n" for t, i in rows) + "\n"
    path = tmp_path / "l.csv"
    path.write_text(text)
    result = read_baskets(str(path), format="long")
    expected = {}
    for t, i in rows:
        expected.setdefault(t, set()).add(i)
    assert as_sets(result) == [frozenset(v) for v in expected.values()]


def test_long_format_error_lines_after_many_blocks(tmp_path, block_bytes):
    text = "tid,item\n" + "".join(f"{i},x\n" for i in range(40)) + "41,x,extra\n"
    path = tmp_path / "l.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=r"l.csv line 42: expected 2 fields \(tid, item\) separated by ',', found 3"):
        read_baskets(str(path), format="long")


def test_long_format_quotes_and_columns(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text('id,"name, full",kind\n1,"a, b",x\n1,c,y\n2,"a, b",z\n')
    result = read_baskets(str(path), format="long", tid="id", item="name, full")
    assert as_sets(result) == [frozenset({"a, b", "c"}), frozenset({"a, b"})]
    result = read_baskets(str(path), format="long", tid="kind", item="id")
    assert result.n_baskets == 3
    with pytest.raises(InputError, match="name the basket id and item columns with --tid and --item"):
        read_baskets(str(path), format="long", item="id")
    with pytest.raises(UsageError, match="must name different columns"):
        read_baskets(str(path), format="long", tid="id", item="id")


def test_format_and_separator_defaults():
    assert format_for("retail.dat") == format_for("retail.DAT.gz") == "fimi"
    assert format_for("g.csv") == format_for(None) == format_for("x.txt.xz") == "basket"
    assert default_sep("a.tsv") == "\t" and default_sep("a.csv") == ","


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"format": "xml"}, UsageError, "unknown basket format 'xml'"),
        ({"sep": ""}, UsageError, "--sep must be a non-empty string"),
        ({"format": "fimi", "sep": ";"}, UsageError, "--sep does not apply to --format fimi"),
        ({"format": "basket", "tid": "t"}, UsageError, "--tid and --item name the columns of --format long"),
    ],
)
def test_option_errors(tmp_path, options, error, message):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n")
    with pytest.raises(error, match=message):
        read_baskets(str(path), **options)


def test_binary_and_undecodable_input(tmp_path):
    binary = tmp_path / "x.dat"
    binary.write_bytes(b"1 2\x00 3\n")
    with pytest.raises(InputError, match="looks binary"):
        read_baskets(str(binary))
    latin = tmp_path / "y.csv"
    latin.write_bytes("café,thé\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 at byte 3 \(line 1\) of .*y.csv"):
        read_baskets(str(latin))
    assert as_sets(read_baskets(str(latin), encoding="latin-1")) == [frozenset({"café", "thé"})]


def test_from_iterable_and_repr():
    result = Baskets.from_iterable([[1, 2, 2], (" 3 ", ""), []], skip_empty=True)
    assert repr(result) == "Baskets(2 baskets, 3 items, 3 item occurrences)"
    assert result.item_counts().tolist() == [1, 1, 1]
    assert np.all(np.diff(result.indices[:2]) > 0)
    with pytest.raises(UsageError, match="must be a list of items"):
        Baskets.from_iterable(["milk"])


def test_nul_character_in_wide_text(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("a,b\nc,\x00\n".encode("utf-16"))
    with pytest.raises(InputError, match="has a NUL character"):
        read_baskets(str(path), encoding="utf-16")
    path.write_bytes("a,b\nc,d\n".encode("utf-16"))
    assert as_sets(read_baskets(str(path), encoding="utf-16")) == [frozenset("ab"), frozenset("cd")]


def test_unbalanced_quote_is_read_to_the_end(tmp_path, block_bytes):
    path = tmp_path / "q.csv"
    path.write_text('a,"b\nc,d\n')  # the quote never closes: one field 'b\nc,d\n' to the end, as csv reads it
    expected = [frozenset(i.strip() for i in row if i.strip()) for row in csv.reader(io.StringIO('a,"b\nc,d\n'))]
    assert as_sets(read_baskets(str(path))) == expected


def numbers_oracle(chunk: str, sep: str | None) -> list[int] | None:
    """What _parse_numbers must give, by plain string work: the numbers and -1 at each newline, in text order,
    or None when the chunk holds anything but digits and its separators, a leading zero, or a number past the
    interner's table."""
    allowed = set("0123456789\n") | (set(" \t") if sep is None else {sep})
    if any(c not in allowed for c in chunk):
        return None
    found: list[int] = []
    token = ""
    for c in chunk + " ":
        if c.isdigit():
            token += c
            continue
        if token:
            if len(token) > 1 and token[0] == "0" or int(token) >= baskets_module._NumberInterner.LIMIT:
                return None
            found.append(int(token))
            token = ""
        if c == "\n":
            found.append(-1)
    return found


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([None, ",", ";", "\t"]),
       st.lists(st.one_of(st.integers(0, 5_000_000).map(str), st.sampled_from(["0", "00", "07", "4194303", "4194304",
                                                                             "99999999", "\n", " ", "\t", ",", ";",
                                                                             "\r", "x", "é", "-3"])), max_size=30))
def test_numeric_chunks_parse_as_the_plain_oracle(sep, parts):
    """None (not a chunk of numbers: the tokens path reads it) wherever the oracle says so; elsewhere the
    oracle's numbers, or None for a chunk of separators alone (np.fromstring reads " " as [0]; the tokens path
    reads it the same)."""
    chunk = "".join(parts)
    got = baskets_module._parse_numbers(chunk, sep)
    expected = numbers_oracle(chunk, sep)
    if expected is None or got is None:
        assert got is None and (expected is None or not any(map(str.isdigit, chunk)))
    else:
        assert got.tolist() == expected


def test_a_chunk_of_numbers_by_hand():
    assert baskets_module._parse_numbers("12 3\n\n0 7\t45", None).tolist() == [12, 3, -1, -1, 0, 7, 45]
    assert baskets_module._parse_numbers("1,22,\n333", ",").tolist() == [1, 22, -1, 333]
    assert baskets_module._parse_numbers("1 2", ",") is None  # a space is not a comma file's separator
    assert baskets_module._parse_numbers("1,02", ",") is None
    assert baskets_module._parse_numbers("", None).tolist() == []
