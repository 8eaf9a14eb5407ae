"""association.cluster_baskets: baskets read in pieces where tasks run, against the local reader.

The oracle is :func:`read_baskets` of the same inputs: the same number of
baskets, the same count for every item name, the same itemsets and rules mined
from them (through the executor), the same errors. The executor here runs the
tasks in this process (tests/test_cluster.py runs them on Dask workers).
"""

from __future__ import annotations

import gzip
import io
import sys

import pytest

from mintext.association.baskets import read_baskets
from mintext.association.cluster_baskets import ClusterBaskets, read_baskets_on
from mintext.association.pipeline import apriori
from mintext.cluster.executor import SerialExecutor
from mintext.errors import InputError, UsageError

RANGES = [1, 7, 64, 1 << 20]
TEXT_ROWS = ["milk, bread ,eggs", "", "bread,eggs", "milk,,beer", "béer,milk", "eggs", "milk,bread"] * 9


def counts_by_name(baskets) -> dict[str, int]:
    return dict(zip(baskets.items, baskets.item_counts().tolist(), strict=True))


def assert_same(paths: list[str], range_bytes: int | None = None, min_count: int = 2, **options) -> ClusterBaskets:
    """Read both ways; the same baskets (counts per name), itemsets and rules. Returns the remote baskets."""
    local = read_baskets(paths, **options)
    remote = read_baskets_on(SerialExecutor(), paths, range_bytes=range_bytes, **options)
    assert remote.n_baskets == local.n_baskets
    assert counts_by_name(remote) == counts_by_name(local)
    assert remote.space_separated_hint() == local.space_separated_hint()
    executor = SerialExecutor()
    itemsets = apriori(remote, min_count=min_count, itemsets=True, executor=executor)
    assert len(itemsets) > 3 and itemsets.equals(apriori(local, min_count=min_count, itemsets=True))
    rules = apriori(remote, min_count=min_count, min_confidence=0.2, executor=executor)
    assert rules.equals(apriori(local, min_count=min_count, min_confidence=0.2))
    return remote


@pytest.mark.parametrize("range_bytes", RANGES)
@pytest.mark.parametrize("ending, bom, final_newline", [("\n", False, True), ("\r\n", True, False), ("\r", False, True)])
def test_text_baskets_in_byte_ranges_are_the_local_baskets(tmp_path, range_bytes, ending, bom, final_newline):
    path = tmp_path / "b.csv"
    text = ending.join(TEXT_ROWS) + (ending if final_newline else "")
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    remote = assert_same([str(path)], range_bytes)
    assert remote.items == read_baskets(str(path)).items  # text items: ids in the order first seen, as locally
    if range_bytes < 64:  # cut after newline bytes: old Mac line ends (CR alone) leave one piece
        assert len(remote.partitions) > 10 if "\n" in ending else len(remote.partitions) == 1


@pytest.mark.parametrize("range_bytes", RANGES)
@pytest.mark.parametrize("skip_empty", [False, True])
def test_fimi_numbers_tabs_and_blank_lines(tmp_path, range_bytes, skip_empty):
    dat = tmp_path / "b.dat"
    dat.write_text("".join(f"{i % 7} {i % 5}  {i % 3}\t{(i * 7) % 11}\n" + ("\n" if i % 4 == 0 else "") for i in range(300)))
    tsv = tmp_path / "b.tsv"
    tsv.write_text("".join(f"x{i % 4}\ty{i % 3}\t\n" for i in range(100)))
    assert_same([str(dat), str(tsv)], range_bytes, min_count=10, skip_empty=skip_empty)


@pytest.mark.parametrize("range_bytes", [1, 16, 1 << 20])
def test_quoted_items_across_lines_read_their_input_whole(tmp_path, range_bytes):
    """A quoted item holding a line break and the separator: a byte range cannot be parsed on its own, so the
    input with quotes is read again as one piece; the other input keeps its ranges."""
    quoted = tmp_path / "q.csv"
    quoted.write_text('milk,"bread,\nwhite"\n' * 30 + 'eggs,"a ""b"""\nmilk,eggs\n' * 10)
    plain = tmp_path / "p.csv"
    plain.write_text("milk,eggs\nbread,white\n" * 40)
    remote = assert_same([str(quoted), str(plain)], range_bytes)
    assert "bread,\nwhite" in remote.items and 'a "b"' in remote.items


def test_compressed_files_are_one_piece_each_among_ranges(tmp_path):
    packed = tmp_path / "a.csv.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write("\n".join(TEXT_ROWS) + "\n")
    plain = tmp_path / "b.csv"
    plain.write_text("\n".join(reversed(TEXT_ROWS)) + "\n")
    remote = assert_same([str(packed), str(plain)], 16)
    assert len(remote.partitions) > 5


def test_long_format_and_standard_input_are_read_here_and_shipped(tmp_path, monkeypatch):
    long = tmp_path / "l.csv"
    long.write_text("tid,item\n" + "".join(f"{i % 13},{'abcdefg'[i % 7]}\n" for i in range(400)))
    remote = assert_same([str(long)], 16, format="long")
    assert len(remote.partitions) == 2  # two a worker thread
    data = ("\n".join(TEXT_ROWS) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    remote = read_baskets_on(SerialExecutor(), ["-"], range_bytes=16)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    local = read_baskets(["-"])
    assert remote.n_baskets == local.n_baskets == len(TEXT_ROWS)
    assert counts_by_name(remote) == counts_by_name(local) and len(remote.partitions) == 2


def test_the_same_errors_as_the_local_reader(tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"milk,eggs\n" * 50 + b"milk,\xff\n" + b"eggs\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n\n")
    for paths, options in (([str(broken)], {}), ([str(empty)], {}), ([str(empty)], {"skip_empty": True}),
                           ([str(broken)], {"sep": ";", "format": "fimi"}), ([str(broken)], {"tid": "t"})):
        with pytest.raises((InputError, UsageError)) as local:
            read_baskets(paths, **options)
        with pytest.raises(type(local.value)) as remote:
            read_baskets_on(SerialExecutor(), paths, range_bytes=32, **options)
        assert str(remote.value) == str(local.value)
    assert "line 51" in str(pytest.raises(InputError, read_baskets_on, SerialExecutor(), [str(broken)],
                                          range_bytes=32).value)


def test_replaced_sequences_are_counted_once(tmp_path):
    from mintext.io.sources import DecodeStats

    path = tmp_path / "bad.csv"
    path.write_bytes(b"milk,\xff\xfe\n" * 20 + b"milk,eggs\n" * 20)
    local, remote = DecodeStats(), DecodeStats()
    read_baskets(str(path), errors="replace", stats=local)
    baskets = read_baskets_on(SerialExecutor(), [str(path)], errors="replace", stats=remote, range_bytes=8)
    assert remote.replaced == local.replaced > 0
    assert counts_by_name(baskets) == counts_by_name(read_baskets(str(path), errors="replace"))
