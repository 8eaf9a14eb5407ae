"""Reading inputs: path resolution, compression, encodings, errors, long lines."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os

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


# --------------------------------------------------------------------------- encodings without a BOM (issue 9)

LONG = "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。\n一二三四五六七八九十\nabc 123\n" * 50


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_bomless_utf16_and_utf32_are_read_in_the_right_byte_order(write, codec):
    path = write("wide.txt", LONG.encode(codec))
    family = codec[:6]
    assert read_all(path, encoding=family) == LONG
    assert read_all(path, encoding="auto") == LONG
    assert detect_encoding(LONG.encode(codec)) == codec


def test_bomless_utf16_of_han_only_text_with_few_nul_bytes(write):
    # UTF-16 Han characters have no NUL byte; one newline per line gives the only ones (and 一 = U+4E00)
    text = "一天一地一玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏\n" * 40
    for codec in ("utf-16-le", "utf-16-be"):
        path = write("han.txt", text.encode(codec))
        assert read_all(path, encoding="utf-16") == text
        assert read_all(path, encoding="auto") == text


def test_utf16_asked_for_a_file_that_is_not_utf16_names_a_fix_that_works(write):
    path = write("u8.txt", LONG)
    with pytest.raises(InputError) as info:
        read_all(path, encoding="utf-16")
    assert str(info.value) == (
        f"{path} has no byte-order mark and reads as text in neither UTF-16 byte order; "
        "try --encoding auto (or utf-16-le / utf-16-be to force one)"
    )
    assert read_all(path, encoding="auto") == LONG


def test_random_bytes_stay_binary_under_auto(write):
    import random

    data = random.Random(7).randbytes(20_000)
    path = write("noise.txt", data)
    with pytest.raises(InputError, match=r"looks binary \(NUL byte at byte \d+\)"):
        read_all(path, encoding="auto")


@pytest.mark.parametrize("codec", ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri"])
def test_codecs_that_are_not_text_encodings_are_usage_errors(write, codec):
    path = write("a.txt", "天地\n")
    with pytest.raises(UsageError) as info:
        read_all(path, encoding=codec)
    assert str(info.value) == (
        f"--encoding {codec} is a bytes-to-bytes codec, not a text encoding; "
        "give a text encoding such as utf-8, gb18030, big5, utf-16 or auto"
    )
    with pytest.raises(UsageError, match=f"^--encoding {codec} is a bytes-to-bytes codec"):
        Corpus([str(path)], encoding=codec)  # refused when the corpus is made, before any reading


def test_decoding_errors_name_the_option_to_change(write):
    path = write("gbk.tsv", "天地\t3\n".encode("gbk"))
    with pytest.raises(InputError, match=r"; try --lexicon-encoding gb18030$"):
        "".join(iter_blocks(Source(str(path)), option="--lexicon-encoding"))


# --------------------------------------------------------------------------- inputs that cannot be read (issue 9)


def test_symlink_loop_is_named_as_such(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(InputError) as info:
        resolve_inputs([str(tmp_path / "a")])
    assert str(info.value) == f"cannot read {tmp_path / 'a'}: it is a symlink loop (a chain of symlinks that never reaches a file)"


def test_symlink_loop_inside_a_directory_is_named_when_read(tmp_path, write):
    write("dir/good.txt", "天地\n")
    (tmp_path / "dir" / "loop.txt").symlink_to(tmp_path / "dir" / "loop.txt")
    sources = resolve_inputs([str(tmp_path / "dir")])
    assert [s.path for s in sources] == [str(tmp_path / "dir" / "good.txt"), str(tmp_path / "dir" / "loop.txt")]
    with pytest.raises(InputError, match=r"loop\.txt: it is a symlink loop"):
        "".join(iter_blocks(sources[1]))


def test_dangling_symlink_and_file_used_as_directory(tmp_path, write):
    (tmp_path / "link.txt").symlink_to(tmp_path / "gone.txt")
    with pytest.raises(UsageError) as info:
        resolve_inputs([str(tmp_path / "link.txt")])
    assert str(info.value) == f"no such file: {tmp_path / 'link.txt'} is a symlink to {tmp_path / 'gone.txt'}, which does not exist"
    file = write("plain.txt", "天地\n")
    with pytest.raises(UsageError) as info:
        resolve_inputs([f"{file}/x.txt"])
    assert str(info.value) == f"no such file: {file}/x.txt (a part of the path before the last / is a file, not a directory)"


def test_undecodable_and_control_characters_in_names_are_escaped(tmp_path):
    source = Source(os.fsdecode(b"/tmp/bad\xffname\n.txt"))
    assert source.name == "/tmp/bad\\xffname\\n.txt"
    missing = os.fsdecode(bytes(tmp_path) + b"/no\xfe\tpe.txt")
    with pytest.raises(UsageError) as info:
        resolve_inputs([missing])
    assert str(info.value) == f"no such file: {tmp_path}/no\\xfe\\tpe.txt"


def test_utf16_of_one_character_lines_is_not_taken_for_utf32():
    # a\n a\n ... in UTF-16-LE has a zero top byte and a byte <= 0x10 in every 4-byte unit, as UTF-32 would
    assert detect_encoding(("a\n" * 100).encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding(("天\n" * 100).encode("utf-16-be")) == "utf-16-be"
    assert detect_encoding(("a\n天𠀀" * 100).encode("utf-32-be")) == "utf-32-be"  # a plane-2 character in every line
