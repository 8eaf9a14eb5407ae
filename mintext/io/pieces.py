"""A corpus cut into pieces that other processes decode by themselves, each as the whole input decodes there.

:func:`corpus_pieces` plans the pieces of a :class:`~mintext.io.sources.Corpus`, in its order:

- a plain file in an encoding where a newline byte is always a newline (:data:`CUTTABLE_CODECS`:
  UTF-8, GBK/GB18030, Big5...) is cut into byte ranges of about ``range_bytes``, each just after a
  newline; only the bytes near each cut are read here (and the first block, for the encoding);
- a compressed file, or a file in another encoding (UTF-16...), is one piece;
- standard input is read here (and spooled, as :class:`~mintext.io.sources.Corpus` spools it) and
  its pieces carry their bytes (:func:`pieces_in_flight` bounds how many are on their way at once).

:func:`piece_blocks` decodes one piece into the text blocks :meth:`Corpus.blocks
<mintext.io.sources.Corpus.blocks>` yields for that part of its input: the raw blocks end where the
whole input's do (:func:`~mintext.io.sources.raw_chunks`), the decoder starts clean just after a
newline, a BOM is read only at the start of a file, and ``\\r`` is never held across a cut, so the
concatenated blocks of the pieces are those of the whole (each split at the cuts, which are newlines,
where NFKC and the Han-run carry of :func:`~mintext.ngrams.counting.han_streams` start afresh).
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass

from mintext.errors import MintextError
from mintext.io.sources import (
    BLOCK_BYTES,
    Corpus,
    DecodeStats,
    Source,
    check_encoding,
    decoded_blocks,
    input_blocks,
    iter_blocks,
    raw_chunks,
    resolve_codec,
)

DEFAULT_RANGE_BYTES = 64 << 20
SHIPPED_IN_FLIGHT_BYTES = 512 << 20  # standard input's bytes on their way to the workers, at most (about)
# codecs in which the byte 0x0A is only ever a newline (never inside a multi-byte character)
CUTTABLE_CODECS = frozenset({
    "utf-8", "utf-8-sig", "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "cp950", "ascii", "iso8859-1", "cp1252",
    "euc_jp", "shift_jis", "cp932", "euc_kr", "cp949",
})
# with --errors replace or ignore, a malformed multi-byte sequence may swallow the newline after it
# (GB18030 reads 81 30 0A as one bad sequence), so then only UTF-8 and one-byte codecs are cut
LENIENT_CUTTABLE_CODECS = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "cp1252"})
_COMPRESSED = (gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile)
_SCAN_BYTES = 1 << 16


@dataclass(frozen=True)
class InputPiece:
    """A piece of the ``source``-th input of a corpus, for a task to decode by itself.

    ``codec`` ``None``: the whole input, read as the corpus reads it (``path``, or the spooled copy of
    standard input). Otherwise the bytes ``start:end`` of the file ``path``, or ``data`` (bytes of
    standard input that start at byte ``start``), in ``codec`` (resolved for the whole input).
    ``error``: why the input could not be planned, raised by the task, in the corpus's order.
    """

    source: int
    name: str
    path: str | None
    start: int = 0
    end: int | None = None
    codec: str | None = None
    data: bytes | None = None
    stdin: bool = False
    error: MintextError | None = None

    @property
    def whole(self) -> bool:
        """Whether the piece is a whole input (its errors name the line as the local run does)."""
        return self.codec is None


def cuttable(codec: str, errors: str) -> bool:
    """Whether an input read with ``codec`` (resolved) and ``errors`` can be cut at newline bytes."""
    return codec in (CUTTABLE_CODECS if errors == "strict" else LENIENT_CUTTABLE_CODECS)


def pieces_in_flight(corpus: Corpus, workers: int, range_bytes: int = DEFAULT_RANGE_BYTES) -> int:
    """How many pieces to have submitted and not yet back: four per worker thread, but where the pieces carry
    standard input's bytes, no more than :data:`SHIPPED_IN_FLIGHT_BYTES` of them (at least two pieces), so
    that the client's memory does not grow with the number of workers."""
    window = 4 * max(1, workers)
    if any(source.path is None for source in corpus.sources):
        window = min(window, max(2, SHIPPED_IN_FLIGHT_BYTES // max(1, range_bytes)))
    return window


def corpus_pieces(corpus: Corpus, range_bytes: int = DEFAULT_RANGE_BYTES) -> Iterator[InputPiece]:
    """The pieces of every input of ``corpus``, in order (see the module docstring)."""
    codec = check_encoding(corpus.encoding)
    for index, source in enumerate(corpus.sources):
        try:
            if source.path is None:
                yield from _stdin_pieces(index, source, codec, corpus.errors, range_bytes)
            else:
                yield from _file_pieces(index, source, codec, corpus.errors, range_bytes)
        except MintextError as err:
            yield InputPiece(index, source.name, source.path, error=err)


def _file_pieces(index: int, source: Source, codec: str, errors: str, range_bytes: int) -> Iterator[InputPiece]:
    """The byte ranges of a plain file, or the whole file as one piece."""
    with source.open_binary() as raw:
        if isinstance(raw, _COMPRESSED):
            yield InputPiece(index, source.name, source.path)
            return
        first = next(raw_chunks(raw, source), b"")
        resolved = resolve_codec(codec, first, source)
        if not cuttable(resolved, errors):
            yield InputPiece(index, source.name, source.path)
            return
        size = os.fstat(raw.fileno()).st_size
        cuts = [*line_cuts(raw, size, range_bytes), size]
    for start, end in itertools.pairwise(cuts):
        yield InputPiece(index, source.name, source.path, start, end, resolved)


def line_cuts(raw: io.BufferedReader, size: int, range_bytes: int) -> list[int]:
    """Offsets 0 < c1 < c2 ... < ``size`` just after a newline, about ``range_bytes`` apart (0 first):
    each the first newline at or after the previous cut plus ``range_bytes``, found by reading from there."""
    cuts = [0]
    while (cut := _next_line_start(raw, cuts[-1] + range_bytes - 1, size)) < size:
        cuts.append(cut)
    return cuts


def _next_line_start(raw: io.BufferedReader, offset: int, size: int) -> int:
    """The offset just after the first newline at or after ``offset`` (``size`` if there is none)."""
    while offset < size:
        raw.seek(offset)
        scanned = raw.read(_SCAN_BYTES)
        newline = scanned.find(b"\n")
        if newline >= 0:
            return offset + newline + 1
        if not scanned:
            break
        offset += len(scanned)
    return size


def _stdin_pieces(index: int, source: Source, codec: str, errors: str, range_bytes: int) -> Iterator[InputPiece]:
    """Standard input in pieces of about ``range_bytes`` that carry their bytes, cut just after a newline; in
    an encoding that cannot be cut, one piece that reads the spooled copy."""
    with source.open_binary(restartable=True) as raw:
        chunks = raw_chunks(raw, source)
        first = next(chunks, b"")
        resolved = resolve_codec(codec, first, source)
        if not cuttable(resolved, errors):
            yield InputPiece(index, source.name, source._spooled, stdin=True)
            return
        held, start = bytearray(), 0
        for chunk in itertools.chain([first], chunks):
            held += chunk
            cut = held.rfind(b"\n") + 1 if len(held) >= range_bytes else 0
            if cut:
                yield InputPiece(index, source.name, None, start, start + cut, resolved, bytes(held[:cut]), stdin=True)
                del held[:cut]
                start += cut
        if held or not start:
            yield InputPiece(index, source.name, None, start, start + len(held), resolved, bytes(held), stdin=True)


def piece_blocks(
    piece: InputPiece, encoding: str, errors: str, normalize: bool, stats: DecodeStats, block_bytes: int = BLOCK_BYTES
) -> Iterator[str]:
    """The text blocks of ``piece`` as :meth:`Corpus.blocks <mintext.io.sources.Corpus.blocks>` yields them for
    that part of its input (``encoding``, ``errors``, ``normalize``: the corpus's); bad sequences counted in ``stats``."""
    if piece.error is not None:
        raise piece.error
    source = Source(None, _spooled=piece.path) if piece.stdin else Source(piece.path)
    if piece.whole:
        blocks = iter_blocks(source, encoding, errors, stats=stats, block_bytes=block_bytes)
    else:
        blocks = _range_blocks(piece, source, errors, stats, block_bytes)
    return input_blocks(blocks, normalize)


def _range_blocks(piece: InputPiece, source: Source, errors: str, stats: DecodeStats, block_bytes: int) -> Iterator[str]:
    """The decoded bytes ``start:end`` of a piece's file (or its ``data``); a BOM is read only at byte 0."""
    assert piece.codec is not None and piece.end is not None
    codec = "utf-8" if piece.codec == "utf-8-sig" and piece.start > 0 else piece.codec
    with io.BytesIO(piece.data) if piece.data is not None else source.open_binary() as raw:
        if piece.data is None:
            raw.seek(piece.start)
        chunks = raw_chunks(raw, source, block_bytes, piece.start, piece.end)
        yield from decoded_blocks(chunks, codec, errors, stats, piece.name, fed=piece.start)


def raise_as_read_here(corpus: Corpus, piece: InputPiece) -> None:
    """Re-read the input of ``piece`` (which failed on a worker) as the local run reads it, up to its error,
    so that the message names the byte and the line as it does there; returns if that read finds none."""
    if piece.whole or piece.error is not None:
        return  # the worker read it as the local run does: its message is that one
    for _ in iter_blocks(corpus.sources[piece.source], corpus.encoding, corpus.errors, restartable=True):
        pass
