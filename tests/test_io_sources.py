"""Reading inputs: path resolution, compression, encodings, errors, long lines."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest

from mintext.errors import InputError, UsageError
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
