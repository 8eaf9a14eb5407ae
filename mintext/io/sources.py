"""Reading text inputs: paths, globs, directories and ``-``; compression; encodings.

Everything here streams: files are read in blocks of ``BLOCK_BYTES`` and decoded
incrementally, so memory does not grow with the size of a file (or of a line).

The main entry points:

- :func:`resolve_inputs` turns command-line arguments into :class:`Source` objects;
- :func:`iter_blocks` decodes one source into text blocks with ``\\n`` line ends;
- :func:`iter_lines` yields ``(text, ends_line)`` pieces of lines of bounded size,
  cut where the segmentation of a line cannot change (:func:`line_cut`);
- :class:`Corpus` is a restartable iterable over several sources (stdin is spooled
  to a temporary file when more than one pass is needed).
"""

from __future__ import annotations

import bz2
import codecs
import errno
import glob
import gzip
import io
import itertools
import lzma
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from mintext.errors import InputError, MintextError, UsageError, shown_name
from mintext.io.chars import HAN, MAX_RUN, SPACE, char_classes, codepoints
from mintext.io.stopping import signals_deferred

BLOCK_BYTES = 1 << 20
MAX_LINE_CHARS = 1 << 20
ENCODING_ERRORS = ("strict", "replace", "ignore")
TEXT_SUFFIXES = (".txt", ".text", ".utf8", ".u8", ".csv", ".tsv", ".dat", ".conllu", "")
COMPRESSION_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
STDIN = "-"


@dataclass
class Source:
    """One input: a file path, or standard input when ``path`` is ``None``."""

    path: str | None
    _spooled: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The name used in messages: the path as given, or ``<stdin>``."""
        return shown_name(self.path) if self.path is not None else "<stdin>"

    def open_binary(self, restartable: bool = False) -> BinaryIO:
        """Open for reading raw (decompressed) bytes.

        With ``restartable``, standard input is first copied to a temporary file
        so that it can be read again; the copy is removed by :meth:`cleanup`.
        """
        if self.path is None:
            if not restartable and self._spooled is None:
                return _decompressing(sys.stdin.buffer)
            if self._spooled is None:
                self._spooled = _spool(sys.stdin.buffer)
            return _decompressing(open(self._spooled, "rb"))
        try:
            return _decompressing(open(self.path, "rb"))
        except OSError as err:
            raise unreadable(self.path, err) from None

    def cleanup(self) -> None:
        """Remove the spooled copy of standard input, if any."""
        if self._spooled is not None:
            os.unlink(self._spooled)
            self._spooled = None


def _spool(stream: BinaryIO) -> str:
    """Copy ``stream`` to a new temporary file and return its path; the file is removed if the copy
    is interrupted (Ctrl-C while standard input is still arriving)."""
    with signals_deferred():
        handle, path = tempfile.mkstemp(prefix="mintext-stdin-")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(stream, out, BLOCK_BYTES)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _decompressing(raw: BinaryIO) -> BinaryIO:
    """Wrap ``raw`` in a decompressor when its first bytes are a gzip, bzip2 or xz header."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    head = buffered.peek(6)[:6]
    for magic, opener in COMPRESSION_MAGIC.items():
        if head.startswith(magic):
            return opener(buffered, "rb")
    return buffered


def resolve_inputs(
    patterns: Sequence[str] | str, *, suffixes: Sequence[str] = TEXT_SUFFIXES
) -> list[Source]:
    """Expand paths, globs and directories into sources, in a stable order.

    A directory contributes every file below it whose suffix (after removing
    ``.gz``, ``.bz2`` or ``.xz``) is in ``suffixes``, sorted by path. ``-``
    means standard input (at most once). Raises :class:`UsageError` for a
    missing path, an unmatched glob or a directory without text files.
    """
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [os.fspath(patterns)]
    if not patterns:
        raise UsageError("no input given; name files, directories, globs or - for stdin")
    sources: list[Source] = []
    for pattern in patterns:
        pattern = os.fspath(pattern)
        if pattern == STDIN:
            if any(s.path is None for s in sources):
                raise UsageError("- (stdin) can be given only once")
            sources.append(Source(None))
        elif os.path.isdir(pattern):
            found = _text_files_below(pattern, suffixes)
            if not found:
                shown = ", ".join(f"*{s}" for s in suffixes if s) + " or no suffix, optionally .gz/.bz2/.xz"
                raise UsageError(f"directory {shown_name(pattern)} has no text files (looked for {shown})")
            sources.extend(Source(p) for p in found)
        elif os.path.exists(pattern):
            sources.append(Source(pattern))
        elif glob.has_magic(pattern) and not os.path.lexists(pattern):
            matches = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
            if not matches:
                raise UsageError(f"no file matches {shown_name(pattern)}")
            sources.extend(Source(p) for p in matches)
        else:
            try:
                os.stat(pattern)
            except OSError as err:
                raise unreadable(pattern, err) from None
            sources.append(Source(pattern))  # it appeared since os.path.exists looked
    return sources


def unreadable(path: str, err: OSError) -> MintextError:
    """The one-line error for ``path`` that cannot be opened or found, saying why from ``err.errno``.

    A missing file (or a symlink to one) is a :class:`UsageError`; a symlink
    loop, a permission denied (on the file or a directory above it) or any
    other failure is an :class:`InputError`.
    """
    name = shown_name(path)
    if err.errno == errno.ENOENT:
        if os.path.islink(path):
            return UsageError(f"no such file: {name} is a symlink to {shown_name(os.readlink(path))}, which does not exist")
        return UsageError(f"no such file: {name}")
    if err.errno == errno.ENOTDIR:
        return UsageError(f"no such file: {name} (a part of the path before the last / is a file, not a directory)")
    if err.errno == errno.ELOOP:
        return InputError(f"cannot read {name}: it is a symlink loop (a chain of symlinks that never reaches a file)")
    if err.errno == errno.EACCES:
        return InputError(
            f"cannot read {name}: permission denied (on the file or on a directory above it; check them with ls -ld)"
        )
    if err.errno == errno.EISDIR:
        return UsageError(f"{name} is a directory; give files, a directory name to read all its text files, or a glob")
    return InputError(f"cannot read {name}: {err.strerror or err}")


def _text_files_below(directory: str, suffixes: Sequence[str]) -> list[str]:
    found = []

    def refuse(err: OSError) -> None:
        below = err.filename if err.filename is not None else directory
        if err.errno == errno.EACCES:
            raise InputError(f"cannot list the directory {shown_name(below)}: permission denied") from None
        raise unreadable(below, err) from None

    for root, dirs, files in os.walk(directory, onerror=refuse):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            if data_suffix(name).lower() in suffixes:
                found.append(os.path.join(root, name))
    return sorted(found)


def data_suffix(name: str) -> str:
    """The suffix of a file name once compression suffixes are taken off: ``a.txt.gz`` -> ``.txt``."""
    for comp in COMPRESSED_SUFFIXES:
        if name.endswith(comp):
            name = name[: -len(comp)]
    return os.path.splitext(name)[1]


# --------------------------------------------------------------------------- decoding


@dataclass
class DecodeStats:
    """Counts gathered while decoding: undecodable sequences replaced or dropped."""

    replaced: int = 0

    def summary(self, errors: str) -> str:
        """The warning for the count: ``replaced N ...`` with ``--errors replace``, ``dropped N ...`` with ``ignore``."""
        done = "replaced" if errors == "replace" else "dropped"
        return f"{done} {self.replaced} undecodable byte sequences"


def check_encoding(encoding: str, option: str = "--encoding") -> str:
    """Return the codec name for ``encoding`` (``auto`` allowed) or raise :class:`UsageError`.

    Codecs that are not text encodings (``rot13``, ``base64``, ``hex``, ``zlib``...)
    are refused like unknown names; ``option`` is the option named in the message.
    """
    if encoding.lower() == "auto":
        return "auto"
    valid = "give a text encoding such as utf-8, gb18030, big5, utf-16 or auto"
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r} for {option}; {valid}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise UsageError(f"{option} {encoding} is a bytes-to-bytes codec, not a text encoding; {valid}")
    return info.name


def iter_blocks(
    source: Source,
    encoding: str = "utf-8",
    errors: str = "strict",
    *,
    restartable: bool = False,
    stats: DecodeStats | None = None,
    block_bytes: int = BLOCK_BYTES,
    option: str = "--encoding",
) -> Iterator[str]:
    """Decode ``source`` into text blocks whose line ends are all ``\\n``.

    ``encoding`` is a codec name or ``auto``; UTF-8 input may start with a BOM;
    ``utf-16`` and ``utf-32`` without a BOM are read in the byte order the
    first block shows (see :func:`bomless_byte_order`). ``option`` is the
    option a message suggests changing (``--lexicon-encoding`` for a lexicon).
    With ``errors="strict"`` an undecodable byte raises :class:`InputError`
    naming the file, the byte offset and the line, with a suggested encoding.
    ``replace``/``ignore`` carry on and count the bad sequences in ``stats``.
    A NUL byte in a file not read as UTF-16/32 raises :class:`InputError`.
    """
    if errors not in ENCODING_ERRORS:
        raise UsageError(f"--errors must be one of {', '.join(ENCODING_ERRORS)}, not {errors!r}")
    codec = check_encoding(encoding, option)
    stats = stats if stats is not None else DecodeStats()
    with source.open_binary(restartable) as raw:
        chunks = raw_chunks(raw, source, block_bytes)
        first = next(chunks, b"")
        codec = resolve_codec(codec, first, source, option)
        yield from decoded_blocks(itertools.chain([first], chunks), codec, errors, stats, source.name, option)


def resolve_codec(codec: str, first: bytes, source: Source, option: str = "--encoding") -> str:
    """The codec that reads ``source``, given ``codec`` (a name or ``auto``) and its first block ``first``:
    ``auto`` detected, UTF-8 read with an optional BOM, UTF-16/32 without a BOM in the byte order the block shows."""
    if codec == "auto":
        return detect_encoding(first)
    if codec == "utf-8":
        return "utf-8-sig"
    if codec in ("utf-16", "utf-32"):
        return _bomless(source, first, codec, option)
    return codec


def raw_chunks(
    raw: BinaryIO, source: Source, block_bytes: int = BLOCK_BYTES, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """The bytes ``start:end`` of ``raw`` (positioned at ``start``) in blocks that end where the blocks of the
    whole stream end (at multiples of ``block_bytes``), so that a part of a file decodes as in the whole."""
    size = block_bytes - start % block_bytes
    left = None if end is None else end - start
    while left is None or left > 0:
        chunk = _read(raw, size if left is None else min(size, left), source)
        if not chunk:
            return
        yield chunk
        if left is not None:
            left -= len(chunk)
        size = block_bytes


def decoded_blocks(
    chunks: Iterable[bytes], codec: str, errors: str, stats: DecodeStats, name: str, option: str = "--encoding",
    fed: int = 0,
) -> Iterator[str]:
    """Raw ``chunks`` decoded with ``codec`` into text blocks whose line ends are all ``\\n`` (see :func:`iter_blocks`);
    ``fed`` is the byte offset of the first chunk in its file (the offset a message names)."""
    wide = codec.startswith(("utf-16", "utf-32"))
    decoder = codecs.getincrementaldecoder(codec)(_error_handler(errors, stats))
    lines_done = 0
    held_cr = False
    for chunk in itertools.chain(chunks, [b""]):
        final = not chunk
        if not wide and (nul := chunk.find(b"\x00")) >= 0:
            raise InputError(
                f"{name} looks binary (NUL byte at byte {fed + nul}); "
                f"mintext reads text (use {option} utf-16 if it is UTF-16)"
            )
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as err:
            offset = fed - pending + err.start
            line = lines_done + _count_newlines(err.object[: err.start]) + 1
            raise InputError(_decode_error_message(name, codec, offset, line, err.object[err.start :], option)) from None
        fed += len(chunk)
        if held_cr:
            text = "\r" + text
        held_cr = text.endswith("\r") and not final
        if held_cr:
            text = text[:-1]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text:
            lines_done += text.count("\n")
            yield text
        if final:
            return


def _bomless(source: Source, first: bytes, family: str, option: str) -> str:
    """The codec for ``--encoding utf-16``/``utf-32`` given the first block; refuse a file that is neither."""
    codec = bomless_byte_order(first, family)
    if codec != family and _text_share(first[:65536], codec) < MIN_TEXT_SHARE:
        raise InputError(
            f"{source.name} has no byte-order mark and reads as text in neither {family.upper()} byte order; "
            f"try {option} auto (or {family}-le / {family}-be to force one)"
        )
    return codec


def _read(raw: BinaryIO, size: int, source: Source) -> bytes:
    try:
        return raw.read(size)
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise InputError(f"cannot read {source.name}: {err} (corrupt or truncated compressed file?)") from None


def _count_newlines(data: bytes) -> int:
    return data.count(b"\n")


_HANDLER_IDS = itertools.count()


def _error_handler(errors: str, stats: DecodeStats) -> str:
    """Register a codec error handler that counts bad sequences into ``stats``; return its name."""
    if errors == "strict":
        return "strict"
    replacement = "\ufffd" if errors == "replace" else ""

    def handler(err: UnicodeError) -> tuple[str, int]:
        stats.replaced += 1
        return replacement, err.end  # type: ignore[attr-defined]

    name = f"mintext-{errors}-{next(_HANDLER_IDS)}"
    codecs.register_error(name, handler)
    return name


def _decode_error_message(name: str, codec: str, offset: int, line: int, tail: bytes, option: str) -> str:
    shown = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8"}.get(codec, codec)
    guess = guess_legacy_encoding(tail[:65536])
    if guess and guess != codec:
        hint = f"try {option} {guess}"
    else:
        others = ", ".join(e for e in ("utf-8", "gb18030", "big5", "auto") if e != shown.lower())
        hint = f"try {option} ENCODING (e.g. {others}) or --errors replace"
    return f"not {shown} at byte {offset} (line {line}) of {name}; {hint}"


def guess_legacy_encoding(sample: bytes) -> str | None:
    """Guess ``gb18030`` or ``big5`` for a sample of non-UTF-8 Chinese bytes, else ``None``.

    GB2312/GBK text keeps both bytes of common characters in 0xA1-0xFE, while
    about half of common Big5 characters have a second byte in 0x40-0x7E.
    """
    if not sample:
        return None
    candidates = [enc for enc in ("gb18030", "big5") if _mostly_decodes(sample, enc)]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    low_trail = pairs = 0
    i, n = 0, len(sample)
    while i < n - 1:
        if sample[i] >= 0x81:
            pairs += 1
            low_trail += sample[i + 1] < 0x7F
            i += 2
        else:
            i += 1
    return "big5" if pairs and low_trail / pairs > 0.1 else "gb18030"


def _mostly_decodes(sample: bytes, encoding: str) -> bool:
    text = sample.decode(encoding, errors="replace")
    bad = text.count("\ufffd")
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return bad <= 2 and han > 0


def detect_encoding(head: bytes) -> str:
    """Pick a codec for ``encoding="auto"`` from the first bytes of a file.

    A BOM decides; else a sample with NUL bytes (which UTF-8 and the legacy
    Chinese encodings never contain) is UTF-32 or UTF-16 when it reads as text
    in one byte order (see :func:`bomless_byte_order`); else UTF-8 when it
    decodes, else GB18030 or Big5 as :func:`guess_legacy_encoding` says.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return codec
    sample = head[:65536]
    if b"\x00" in sample:
        wide = _utf32_order(sample) or bomless_byte_order(sample, "utf-16")
        if wide.startswith("utf-32") or _text_share(sample, wide) >= MIN_TEXT_SHARE:
            return wide
        return "utf-8-sig"  # binary: iter_blocks stops at its first NUL byte
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as err:
        if err.start >= len(sample) - 3:  # a character cut at the end of the sample
            return "utf-8-sig"
    return guess_legacy_encoding(sample) or "utf-8-sig"


# characters of Chinese text: ASCII text, Latin-1, general punctuation, CJK symbols and kana,
# the Han block, full-width forms (a random 16-bit unit is one of them with odds of about 1/3)
_TEXT_LIKE = re.compile("[\t\n\r\x20-\x7e\u00a0-\u00ff\u2000-\u206f\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
MIN_TEXT_SHARE = 0.6  # text in the right byte order is ~100% such characters, in the wrong one ~30%


def _text_share(sample: bytes, codec: str) -> float:
    """The share of the characters of ``sample`` decoded with ``codec`` that are ordinary text characters."""
    width = 4 if codec.startswith("utf-32") else 2
    text = sample[: len(sample) // width * width].decode(codec, errors="replace")
    return 1 - len(_TEXT_LIKE.sub("", text)) / len(text) if text else 0.0


def _utf32_order(sample: bytes) -> str | None:
    """``utf-32-le``/``-be`` when ``sample`` reads as UTF-32 code points in that order, else ``None``.

    Every 4-byte unit must be below 0x110000 (top byte 0, next byte at most
    0x10) and at least half of them in the BMP (next byte 0): UTF-16 text of
    one-character lines (``a\\n`` ...) has the first property, not the second.
    """
    n = len(sample) // 4 * 4
    for codec, top, plane in (("utf-32-le", 3, 2), ("utf-32-be", 0, 1)):
        planes = sample[plane:n:4]
        if n and not any(sample[top:n:4]) and max(planes) <= 0x10 and planes.count(0) * 2 >= len(planes):
            return codec
    return None


def bomless_byte_order(head: bytes, family: str) -> str:
    """The codec for ``family`` (``utf-16`` or ``utf-32``) given the first bytes of a file.

    With a BOM, ``family`` itself (its decoder reads the BOM). Without one,
    the byte order in which more of the sample reads as ordinary text (ASCII,
    punctuation, Han... counted on the first 64 KiB); little-endian on a tie.
    """
    boms = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) if family == "utf-16" else (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
    if head.startswith(boms) or not head:
        return family
    sample = head[:65536]
    if family == "utf-32":
        return _utf32_order(sample) or "utf-32-le"
    little, big = _text_share(sample, "utf-16-le"), _text_share(sample, "utf-16-be")
    return "utf-16-be" if big > little else "utf-16-le"


# --------------------------------------------------------------------------- lines


def iter_lines(blocks: Iterable[str], max_chars: int = MAX_LINE_CHARS) -> Iterator[tuple[str, bool]]:
    """Split decoded blocks into lines without their ``\\n``.

    Yields ``(text, ends_line)``. A line longer than ``max_chars`` comes in
    several pieces, all but the last with ``ends_line=False``, so memory stays
    bounded by ``max_chars`` whatever the input. Pieces end at safe cuts
    (:func:`line_cut`), so that segmenting the pieces one by one gives the
    segmentation of the whole line. A last line without a final newline is
    still a line; an empty input yields nothing.
    """
    partial: list[str] = []
    partial_len = 0
    for block in blocks:
        start = 0
        while True:
            end = block.find("\n", start)
            if end < 0:
                rest = block[start:]
                if rest:
                    partial.append(rest)
                    partial_len += len(rest)
                    if partial_len > max_chars:
                        rest = yield from _long_line_pieces("".join(partial), max_chars)
                        partial, partial_len = [rest], len(rest)
                break
            piece = block[start:end]
            if partial:
                piece = "".join(partial) + piece
                partial, partial_len = [], 0
            if len(piece) > max_chars:
                piece = yield from _long_line_pieces(piece, max_chars)
            yield piece, True
            start = end + 1
    if partial:
        yield "".join(partial), True


def _long_line_pieces(text: str, max_chars: int) -> Generator[tuple[str, bool], None, str]:
    """Yield ``(piece, False)`` pieces off the front of ``text`` until at most ``max_chars`` are left; return those."""
    while len(text) > max_chars:
        cut = line_cut(text, max_chars)
        yield text[:cut], False
        text = text[cut:]
    return text


def line_cut(text: str, max_chars: int) -> int:
    """How many characters of ``text`` (the rest of a line, longer than ``max_chars``) its next piece takes.

    The piece ends at the last safe cut at or before ``max_chars``: between a
    Han and a non-Han character, or just after whitespace. No token crosses
    those, and no character is tokenised differently for its neighbour across
    them, so the pieces segment exactly as the whole line. Where the first
    ``max_chars + 1`` characters are one Han run, the cut is at the largest
    multiple of :data:`~mintext.io.chars.MAX_RUN` (the piece length the
    segmenter cuts long runs into anyway): ``text`` then starts where the run
    does or at an earlier such cut, so the multiple counts from the run's
    start. Where they are non-Han characters without whitespace, the cut is
    at ``max_chars``, which may cut a token.
    """
    classes = char_classes(codepoints(text[: max_chars + 1]))
    han = classes == HAN
    # a cut at k (1 <= k <= max_chars) falls between text[k - 1] and text[k]
    safe = np.flatnonzero((han[1:] != han[:-1]) | (classes[:-1] == SPACE))
    if safe.size:
        return int(safe[-1]) + 1
    if han[0] and max_chars >= MAX_RUN:
        return max_chars - max_chars % MAX_RUN
    return max_chars


def nfkc(text: str) -> str:
    """Unicode NFKC normalisation (full-width forms to half-width, compatibility characters)."""
    return unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- corpus


class Corpus:
    """A restartable iterable over the lines of one or more text inputs.

    ``Corpus(["a.txt", "dir/", "*.gz", "-"])`` resolves its inputs once; each
    iteration re-reads them from disk (standard input is spooled to a temporary
    file on the first pass). Iterating yields lines (without ``\\n``); lines
    longer than ``max_line_chars`` are yielded in pieces. :meth:`blocks` yields
    larger decoded text blocks for vectorised consumers.
    """

    def __init__(
        self,
        inputs: Sequence[str] | str,
        encoding: str = "utf-8",
        errors: str = "strict",
        *,
        normalize: bool = False,
        max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self.sources = resolve_inputs(inputs)
        self.encoding = encoding
        check_encoding(encoding)
        if errors not in ENCODING_ERRORS:
            raise UsageError(f"errors must be one of {', '.join(ENCODING_ERRORS)}, not {errors!r}")
        self.errors = errors
        self.normalize = normalize
        self.max_line_chars = max_line_chars
        self.stats = DecodeStats()

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.sources[:3]) + (", ..." if len(self.sources) > 3 else "")
        return f"Corpus([{names}], encoding={self.encoding!r})"

    def blocks(self, restartable: bool = True) -> Iterator[str]:
        """Decoded text blocks of every source in order; each source ends with a newline.

        ``restartable=False`` reads standard input directly, for a single pass.
        """
        self.stats.replaced = 0
        for source in self.sources:
            blocks = iter_blocks(source, self.encoding, self.errors, restartable=restartable, stats=self.stats)
            yield from input_blocks(blocks, self.normalize)

    def line_pieces(self, restartable: bool = True) -> Iterator[tuple[str, bool]]:
        """``(text, ends_line)`` pieces of every line, as :func:`iter_lines` (``restartable``: see :meth:`blocks`)."""
        return iter_lines(self.blocks(restartable), self.max_line_chars)

    def __iter__(self) -> Iterator[str]:
        for text, _ in self.line_pieces():
            yield text

    def close(self) -> None:
        """Remove temporary copies of standard input."""
        for source in self.sources:
            source.cleanup()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def input_blocks(blocks: Iterable[str], normalize: bool = False) -> Iterator[str]:
    """The decoded ``blocks`` of one input as a :class:`Corpus` yields them: NFKC-normalised with
    ``normalize``, and ending with a newline (one is added after a last line without one)."""
    last = ""
    for block in blocks:
        last = block
        yield nfkc(block) if normalize else block
    if last and not last.endswith("\n"):
        yield "\n"


def read_lines(
    inputs: Sequence[str] | str,
    encoding: str = "utf-8",
    errors: str = "strict",
    *,
    stats: DecodeStats | None = None,
) -> Iterator[str]:
    """Whole lines (without ``\\n``) of one or more inputs, read in a single streaming pass.

    Unlike :class:`Corpus`, long lines are not cut: use this where a line is a
    record (a sentence to score, a basket). Standard input is not spooled.
    """
    for source in resolve_inputs(inputs):
        pieces: list[str] = []
        for text, ends_line in iter_lines(iter_blocks(source, encoding, errors, stats=stats)):
            pieces.append(text)
            if ends_line:
                yield "".join(pieces)
                pieces = []
