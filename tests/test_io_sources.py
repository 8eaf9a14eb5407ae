"""Reading inputs: path resolution, compression, encodings, errors, long lines."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.errors import InputError, UsageError
from mintext.io.chars import HAN, classify_char
from mintext.io.sources import (
    Corpus,
    DecodeStats,
    Source,
    detect_encoding,
    guess_legacy_encoding,
    iter_blocks,
    iter_lines,
    resolve_inputs,
)

TEXT = "共同创造美好的新世纪\r\n二○○一年新年贺词𠀀𪚥\n最后一行"


def read_all(path, **kw) -> str:
    return "".join(iter_blocks(Source(str(path)), **kw))


def test_crlf_bom_and_non_bmp(write):
    path = write("a.txt", "\ufeff" + TEXT)
    assert read_all(path) == TEXT.replace("\r\n", "\n")


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_inputs_are_read_transparently(write, compress):
    path = write("a.txt.x", compress(TEXT.encode()))
    assert read_all(path) == TEXT.replace("\r\n", "\n")


def test_cr_split_across_blocks(write):
    path = write("a.txt", "ab\r\ncd\r\nef")
    assert read_all(path, block_bytes=3) == "ab\ncd\nef"


def test_multibyte_split_across_blocks(write):
    path = write("a.txt", TEXT)
    assert read_all(path, block_bytes=5) == TEXT.replace("\r\n", "\n")


def test_gbk_read_as_utf8_names_byte_line_and_fix(write):
    path = write("gbk.txt", "line one\n" + "中华人民共和国成立了" * 20, encoding="gbk")
    with pytest.raises(InputError) as err:
        read_all(path)
    message = str(err.value)
    assert message == f"not UTF-8 at byte 9 (line 2) of {path}; try --encoding gb18030"


def test_gbk_with_encoding_option(write):
    path = write("gbk.txt", "中华人民共和国\n", encoding="gbk")
    assert read_all(path, encoding="gb18030") == "中华人民共和国\n"


def test_big5_is_suggested(write):
    path = write("big5.txt", "中華民國憲法，臺灣的歷史與文化。" * 30, encoding="big5")
    with pytest.raises(InputError, match="try --encoding big5$"):
        read_all(path)


def test_replace_counts_bad_sequences(write):
    path = write("bad.txt", b"ab\xffcd\xfe\n")
    stats = DecodeStats()
    assert read_all(path, errors="replace", stats=stats) == "ab\ufffdcd\ufffd\n"
    assert stats.replaced == 2


def test_binary_file_is_refused(write):
    path = write("bin.txt", b"abc\x00\x01\x02")
    with pytest.raises(InputError, match=r"looks binary \(NUL byte at byte 3\)"):
        read_all(path)


def test_utf16_with_bom_is_read(write):
    path = write("u16.txt", TEXT, encoding="utf-16")
    assert read_all(path, encoding="utf-16") == TEXT.replace("\r\n", "\n")
    assert read_all(path, encoding="auto") == TEXT.replace("\r\n", "\n")


def test_auto_detection():
    assert detect_encoding("中文".encode()) == "utf-8-sig"
    assert detect_encoding(("中华人民共和国" * 10).encode("gbk")) == "gb18030"
    assert guess_legacy_encoding(b"plain ascii") is None


def test_unknown_encoding(write):
    path = write("a.txt", "x")
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        read_all(path, encoding="klingon")


def test_resolve_missing_glob_and_empty_directory(tmp_path, write):
    with pytest.raises(UsageError, match="no such file"):
        resolve_inputs([str(tmp_path / "nope.txt")])
    with pytest.raises(UsageError, match="no file matches"):
        resolve_inputs([str(tmp_path / "*.nope")])
    (tmp_path / "empty").mkdir()
    write("empty/image.png", b"\x89PNG")
    with pytest.raises(UsageError, match="has no text files"):
        resolve_inputs([str(tmp_path / "empty")])


def test_resolve_directory_sorted_and_filtered(tmp_path, write):
    write("d/b.txt", "b")
    write("d/a.txt.gz", gzip.compress(b"a"))
    write("d/sub/c.utf8", "c")
    write("d/skip.png", b"x")
    write("d/.hidden.txt", "h")
    names = [s.path for s in resolve_inputs([str(tmp_path / "d")])]
    assert names == [str(tmp_path / "d" / n) for n in ("a.txt.gz", "b.txt", "sub/c.utf8")]


def test_iter_lines_bounds_long_lines():
    blocks = ["abc", "defg\nhi", "\n", "jklmnopq"]
    assert list(iter_lines(blocks, max_chars=3)) == [
        ("abc", False), ("def", False), ("g", True), ("hi", True), ("jkl", False), ("mno", False), ("pq", True),
    ]


def test_iter_lines_cuts_long_lines_where_no_token_is_cut():
    # between a Han and a non-Han character (天地|，|玄黄), after whitespace (ab |cd |ef)
    assert list(iter_lines(["天地，玄黄宇宙\n"], max_chars=4)) == [("天地，", False), ("玄黄宇宙", True)]
    assert list(iter_lines(["ab cd ef"], max_chars=4)) == [("ab ", False), ("cd ", False), ("ef", True)]
    assert list(iter_lines(["3.14年-5%。"], max_chars=4)) == [("3.14", False), ("年", False), ("-5%。", True)]
    # one Han run throughout: at multiples of MAX_RUN from its start; letters without a space: at max_chars
    pieces = list(iter_lines(["，" + "文" * 5000 + "\n"], max_chars=1500))
    assert [len(p) for p, _ in pieces] == [1, 1024, 1024, 1024, 1024, 904] and pieces[-1][1]
    assert list(iter_lines(["abcdefg"], max_chars=3)) == [("abc", False), ("def", False), ("g", True)]


def safe_cuts(line: str) -> set[int]:
    """Offsets k where a line may be cut (between line[k - 1] and line[k]), by the rule's words."""
    def is_han(ch: str) -> bool:
        return classify_char(ch) == HAN

    return {k for k in range(1, len(line)) if is_han(line[k - 1]) != is_han(line[k]) or line[k - 1].isspace()}


@given(st.text(alphabet="天地玄黄𠀀ab1.,-% \u3000，。", max_size=80), st.integers(1, 12), st.lists(st.integers(1, 9), max_size=12))
@settings(max_examples=300, deadline=None)
def test_iter_lines_pieces_end_at_the_last_safe_cut(line, max_chars, block_sizes):
    # the line arrives in blocks of arbitrary sizes; pieces are the same whatever the blocks
    blocks, at = [], 0
    for size in block_sizes:
        blocks.append(line[at : at + size])
        at += size
    blocks.append(line[at:] + "\n")
    pieces = list(iter_lines(blocks, max_chars=max_chars))
    assert "".join(p for p, _ in pieces) == line
    assert [e for _, e in pieces] == [False] * (len(pieces) - 1) + [True]
    allowed = safe_cuts(line)
    start = 0
    for text, ends_line in pieces:
        assert len(text) <= max_chars
        if not ends_line:
            # the last safe cut in the window, else max_chars (MAX_RUN does not fit in these windows)
            window = {k - start for k in allowed if start < k <= start + max_chars}
            assert len(text) == (max(window) if window else max_chars), (line, start)
        start += len(text)


def test_iter_lines_empty_and_final_newline():
    assert list(iter_lines([])) == []
    assert list(iter_lines(["a\n", "\n"])) == [("a", True), ("", True)]


def test_corpus_is_restartable_over_stdin(monkeypatch, tmp_path):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("一\n二".encode())))
    corpus = Corpus(["-"])
    assert list(corpus) == ["一", "二"]
    assert list(corpus) == ["一", "二"]
    corpus.close()


def test_corpus_joins_files_with_newline(write):
    a = write("a.txt", "甲乙")
    b = write("b.txt", "丙丁\n")
    assert list(Corpus([str(a), str(b)])) == ["甲乙", "丙丁"]


def test_nfkc_option(write):
    path = write("a.txt", "ＡＢＣ１２３，")
    assert list(Corpus([str(path)], normalize=True)) == ["ABC123,"]
