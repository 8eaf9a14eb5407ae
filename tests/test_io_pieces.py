"""io.pieces: a corpus cut into pieces decodes, piece by piece, into the text of the whole.

The oracle is the corpus itself: the concatenated text of every piece's blocks
must be ``"".join(Corpus.blocks())`` for any range size, encoding, line ending,
BOM, compression, standard input, normalisation and error policy; the bad
sequences replaced are counted once; a decoding error says what the local read says.
"""

from __future__ import annotations

import gzip
import io
import sys

import pytest

from mintext.cluster.executor import SerialExecutor
from mintext.errors import InputError
from mintext.io import pieces as pieces_module
from mintext.io.pieces import InputPiece, corpus_pieces, piece_blocks, pieces_in_flight
from mintext.io.sources import Corpus, DecodeStats
from mintext.ngrams.hanstream import ClusterHanStream, HanStream

LINES = ["天地玄黄，宇宙洪荒。", "", "日月盈昃 abc 123", "辰宿列张，寒来暑往。" * 7, "秋收冬藏"]
RANGES = [1, 3, 7, 64, 1 << 20]


def pieces_text(corpus: Corpus, range_bytes: int) -> tuple[str, int, int]:
    """The text of every piece in order, the sequences replaced, and the number of pieces."""
    stats, texts, count = DecodeStats(), [], 0
    for piece in corpus_pieces(corpus, range_bytes):
        count += 1
        texts.extend(piece_blocks(piece, corpus.encoding, corpus.errors, corpus.normalize, stats, block_bytes=5))
    return "".join(texts), stats.replaced, count


def whole_text(corpus: Corpus) -> str:
    return "".join(corpus.blocks())


@pytest.mark.parametrize("range_bytes", RANGES)
@pytest.mark.parametrize(
    "ending, bom, final_newline",
    [("\n", False, True), ("\r\n", False, True), ("\r\n", True, False), ("\n", True, True), ("\r", False, False)],
)
def test_utf8_pieces_read_as_the_whole(tmp_path, range_bytes, ending, bom, final_newline):
    text = ending.join(LINES) + (ending if final_newline else "")
    path = tmp_path / "a.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    corpus = Corpus([str(path)])
    joined, _, count = pieces_text(corpus, range_bytes)
    assert joined == whole_text(corpus)
    if range_bytes < 10 and ending != "\r":
        assert count >= len(LINES) - 1  # really cut: a piece per line or so
    if ending == "\r":
        assert count == 1  # no newline byte to cut at


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "big5"])
def test_legacy_multibyte_encodings_are_cut_at_newline_bytes(tmp_path, encoding):
    lines = ["天地玄黃", "宇宙洪荒", "日月盈昃"] * 5
    path = tmp_path / "legacy.txt"
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    corpus = Corpus([str(path)], encoding=encoding)
    joined, _, count = pieces_text(corpus, 5)
    assert joined == whole_text(corpus) == "\n".join(lines) + "\n"
    assert count == len(lines)


def test_compressed_and_utf16_files_are_one_piece_each(tmp_path):
    text = "\n".join(LINES) + "\n"
    gz, wide = tmp_path / "a.txt.gz", tmp_path / "b.txt"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    wide.write_bytes(text.encode("utf-16"))
    packed = Corpus([str(gz)])
    assert pieces_text(packed, 3)[::2] == (whole_text(packed), 1)
    utf16 = Corpus([str(wide)], encoding="utf-16")
    assert pieces_text(utf16, 3)[::2] == (whole_text(utf16), 1)


def test_several_inputs_keep_their_order_and_their_own_last_newline(tmp_path):
    first, second = tmp_path / "1.txt", tmp_path / "2.txt"
    first.write_text("甲乙\n丙丁", encoding="utf-8")
    second.write_text("戊己\n庚辛\n", encoding="utf-8")
    corpus = Corpus([str(first), str(second)])
    assert pieces_text(corpus, 2)[0] == whole_text(corpus) == "甲乙\n丙丁\n戊己\n庚辛\n"


@pytest.mark.parametrize("range_bytes", [4, 1 << 30])
def test_standard_input_is_shipped_in_pieces_that_carry_their_bytes(monkeypatch, range_bytes):
    """Standard input arrives in blocks of BLOCK_BYTES (1 MiB): a piece is at least one, cut at its last newline."""
    data = ("\r\n".join(LINES * 12_000) + "\r\n").encode("utf-8")  # about 3.4 MB
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with Corpus(["-"]) as corpus:
        pieces = list(corpus_pieces(corpus, range_bytes))
        assert all(piece.data is not None and piece.stdin for piece in pieces)
        assert b"".join(piece.data for piece in pieces) == data
        assert all(piece.data.endswith(b"\n") for piece in pieces)
        joined = "".join(
            text for piece in pieces for text in piece_blocks(piece, "utf-8", "strict", False, DecodeStats())
        )
        assert joined == whole_text(corpus) == "\n".join(LINES * 12_000) + "\n"
        assert len(pieces) == (4 if range_bytes == 4 else 1)


def test_normalisation_and_replaced_sequences_are_as_in_the_whole(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("ＡＢＣ１２３天地\n".encode() + b"\xff\xfe bad\n" + "玄黄\n".encode() * 4 + b"\x80\n")
    corpus = Corpus([str(path)], errors="replace", normalize=True)
    whole = whole_text(corpus)
    joined, replaced, count = pieces_text(corpus, 3)
    assert joined == whole and "ABC123" in whole
    assert replaced == corpus.stats.replaced == 3
    assert count > 3


def test_a_decoding_error_in_a_later_piece_is_reported_as_the_local_read_reports_it(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes("天地玄黄\n".encode() * 50 + b"\xff\n" + "宇宙\n".encode())
    corpus = Corpus([str(path)])
    with pytest.raises(InputError) as local:
        with HanStream(corpus):
            pass
    with pytest.raises(InputError) as remote:
        with ClusterHanStream(corpus, SerialExecutor(), range_bytes=16):
            pass
    assert str(remote.value) == str(local.value)
    assert "line 51" in str(local.value)


def test_a_cluster_stream_of_many_pieces_has_the_local_stream(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(LINES * 40) + "\n", encoding="utf-8")
    corpus = Corpus([str(path)])
    with HanStream(corpus) as local, ClusterHanStream(corpus, SerialExecutor(), range_bytes=50) as remote:
        assert len(remote.files.paths) > 10
        assert remote.characters == local.characters
        assert remote.vocabulary.lookup_table.tolist() == local.vocabulary.lookup_table.tolist()
        assert remote.spans(37) == local.spans(37)
        for theirs, ours in zip(remote.chunks(37), local.chunks(37), strict=True):
            assert theirs.tolist() == ours.tolist()


class LookAheadExecutor(SerialExecutor):
    """Runs tasks here as a cluster would: up to ``window`` items taken (submitted) before the first result is
    yielded (default: four per worker thread, like Dask's); records the most piece bytes taken and not back."""

    def __init__(self, workers: int) -> None:
        self.workers, self.most_bytes, self.windows = workers, 0, {}

    def imap(self, function, items, *shared, window=None, done=None):
        window = window or 4 * self.workers
        self.windows[function.__name__] = window
        pending = []
        for item in items:
            pending.append(item)
            held = [item[1].data or b"" for item in pending if isinstance(item, tuple) and isinstance(item[1], InputPiece)]
            self.most_bytes = max(self.most_bytes, sum(map(len, held)))
            if len(pending) >= window:
                yield function(pending.pop(0), *shared)
        for item in pending:
            yield function(item, *shared)


def test_standard_input_in_flight_to_many_workers_stays_within_its_bound(monkeypatch):
    """The client holds standard input's pieces until they come back: at most about SHIPPED_IN_FLIGHT_BYTES of
    them, however many workers there are (each piece here is one 1 MiB block, cut at its last newline)."""
    data = ("\n".join(LINES * 12_000) + "\n").encode("utf-8")  # about 3.4 MB: four pieces
    monkeypatch.setattr(pieces_module, "SHIPPED_IN_FLIGHT_BYTES", 2 << 20)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    executor = LookAheadExecutor(workers=100)
    with Corpus(["-"]) as corpus:
        with ClusterHanStream(corpus, executor, range_bytes=1 << 20) as remote, HanStream(corpus) as local:
            assert executor.windows["read_piece"] == 2
            assert 0 < executor.most_bytes <= 2 * ((1 << 20) + 1024) < len(data)  # two pieces of a block and a line
            assert remote.characters == local.characters


def test_pieces_in_flight(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("天地\n", encoding="utf-8")
    assert pieces_in_flight(Corpus([str(path)]), 64) == 256  # paths and offsets only: four per worker thread
    assert pieces_in_flight(Corpus([str(path), "-"]), 64) == 8  # 512 MiB of 64 MiB pieces
    assert pieces_in_flight(Corpus(["-"]), 1) == 4
    assert pieces_in_flight(Corpus(["-"]), 64, range_bytes=1 << 30) == 2  # at least two
