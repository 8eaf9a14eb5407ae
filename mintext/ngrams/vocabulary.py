"""Dense character ids ranked by frequency, and the packing of id sequences into n-gram codes.

Counting works on ids, not code points: id 1 is the most frequent character
(ties broken by code point), id ``size`` the rarest, and id 0 is the run
separator of :func:`mintext.io.chars.han_stream`. Every id fits in ``bits`` bits.

An n-gram of order n is packed into a *code*, its ids concatenated with
``bits`` bits each, first character in the high bits, so that sorting codes
sorts n-grams (by id, first character first):

- when ``n * bits <= 64`` the code is one ``uint64`` (a 1-D array of codes);
- otherwise the code is a row of ``code_words(n, bits)`` big-endian 64-bit words
  (a 2-D ``>u8`` array). Each word holds ``64 // bits`` characters (the last
  word the rest), so comparing rows word by word, or their bytes with
  ``memcmp``, is comparing n-grams.

Code points outside a vocabulary map to id 0 (like a separator: they cut runs)
unless ``strict=True`` asks for a :class:`~mintext.errors.UsageError` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from mintext.errors import UsageError
from mintext.io.chars import codepoints as text_codepoints
from mintext.io.chars import han_stream

CODE_BITS = 64
UNICODE_LIMIT = 0x110000
WIDE_DTYPE = np.dtype(">u8")

Code = int | tuple[int, ...]


# --------------------------------------------------------------------------- code layout


def is_wide(order: int, bits: int) -> bool:
    """Whether n-grams of ``order`` need more than one 64-bit word with ``bits`` bits per id."""
    return order * bits > CODE_BITS


def code_words(order: int, bits: int) -> int:
    """Number of 64-bit words in the code of an n-gram of ``order`` (1 unless wide)."""
    if not is_wide(order, bits):
        return 1
    per_word = CODE_BITS // bits
    return -(-order // per_word)


def _word_spans(order: int, bits: int) -> list[tuple[int, int]]:
    """``(first, end)`` character positions held by each word of a code."""
    if not is_wide(order, bits):
        return [(0, order)]
    per_word = CODE_BITS // bits
    return [(start, min(order, start + per_word)) for start in range(0, order, per_word)]


def pack_at(ids: np.ndarray, starts: np.ndarray, order: int, bits: int) -> np.ndarray:
    """Codes of the ``order``-grams of the id stream ``ids`` that start at ``starts`` (as :func:`pack_ids`)."""
    return pack_ids([np.asarray(ids[starts + j], dtype=np.uint64) for j in range(order)], bits)


def pack_rows(matrix: np.ndarray, bits: int) -> np.ndarray:
    """Codes of the rows of an ``(n, order)`` id matrix (as :func:`pack_ids`)."""
    return pack_ids([np.asarray(matrix[:, j], dtype=np.uint64) for j in range(matrix.shape[1])], bits)


def pack_ids(columns: Sequence[np.ndarray], bits: int) -> np.ndarray:
    """Codes of n-grams given column-wise: ``columns[j][i]`` is the id of character j of n-gram i.

    Returns a 1-D ``uint64`` array, or a 2-D ``>u8`` array of rows when the
    order ``len(columns)`` is wide for ``bits``.
    """
    order = len(columns)
    words = []
    for first, end in _word_spans(order, bits):
        word = np.zeros(len(columns[0]), dtype=np.uint64)
        for column in columns[first:end]:
            word <<= np.uint64(bits)
            word |= column
        words.append(word)
    if not is_wide(order, bits):
        return words[0]
    rows = np.empty((len(columns[0]), len(words)), dtype=WIDE_DTYPE)
    for w, word in enumerate(words):
        rows[:, w] = word
    return rows


def unpack_codes(codes: np.ndarray, order: int, bits: int) -> np.ndarray:
    """The ids of packed codes: a ``(len(codes), order)`` ``uint32`` array (inverse of :func:`pack_ids`)."""
    codes = np.asarray(codes)
    wide = is_wide(order, bits)
    if codes.ndim != (2 if wide else 1) or (wide and codes.shape[1] != code_words(order, bits)):
        raise UsageError(
            f"codes of order {order} with {bits} bits per id must be "
            + (f"rows of {code_words(order, bits)} words" if wide else "a 1-D array")
            + f", got shape {codes.shape}"
        )
    mask = np.uint64((1 << bits) - 1)
    ids = np.empty((codes.shape[0], order), dtype=np.uint32)
    for w, (first, end) in enumerate(_word_spans(order, bits)):
        word = codes[:, w].astype(np.uint64) if wide else codes.astype(np.uint64, copy=False)
        for j in range(first, end):
            ids[:, j] = (word >> np.uint64(bits * (end - 1 - j))) & mask
    return ids


# --------------------------------------------------------------------------- counting characters


def count_codepoints(streams: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Count the characters of han streams (code-point arrays, 0 = separator), streaming.

    Returns ``(codepoints, counts)``: the distinct non-zero code points in
    increasing order (``uint32``) and how often each occurs (``int64``).
    Memory is one counter per code point up to the largest seen (at most 9 MB).
    """
    totals = np.zeros(0, dtype=np.int64)
    for stream in streams:
        stream = np.asarray(stream)
        if stream.size == 0:
            continue
        block = np.bincount(stream)
        if block.size > totals.size:
            totals = np.concatenate([totals, np.zeros(block.size - totals.size, dtype=np.int64)])
        totals[: block.size] += block
    if totals.size:
        totals[0] = 0
    seen = np.flatnonzero(totals)
    return seen.astype(np.uint32), totals[seen]


# --------------------------------------------------------------------------- the vocabulary


class CharVocabulary:
    """Characters with dense ids ranked by frequency (1 = most frequent; 0 = run separator).

    Build one with :meth:`from_counts`, :meth:`from_streams` or :meth:`from_text`.
    ``codepoints[i]`` and ``counts[i]`` describe the character of id ``i + 1``.
    """

    def __init__(self, ranked_codepoints: np.ndarray, ranked_counts: np.ndarray) -> None:
        """Wrap arrays already in id order (use :meth:`from_counts` to rank them)."""
        self.codepoints = np.asarray(ranked_codepoints, dtype=np.uint32)
        self.counts = np.asarray(ranked_counts, dtype=np.int64)
        self.codepoints.flags.writeable = False
        self.counts.flags.writeable = False
        self._table: np.ndarray | None = None

    # ---- construction

    @classmethod
    def from_counts(cls, codepoints: np.ndarray | Sequence[int], counts: np.ndarray | Sequence[int]) -> CharVocabulary:
        """Rank characters by count (descending), ties by code point (ascending).

        ``codepoints`` must be distinct, in 1..0x10FFFF; ``counts`` non-negative.
        """
        cps = np.asarray(codepoints, dtype=np.int64).ravel()
        cnt = np.asarray(counts, dtype=np.int64).ravel()
        if cps.shape != cnt.shape:
            raise UsageError(f"codepoints and counts must have the same length, got {cps.size} and {cnt.size}")
        if cps.size and (cps.min() < 1 or cps.max() >= UNICODE_LIMIT):
            raise UsageError(f"code points must be between 1 and {UNICODE_LIMIT - 1} (0 is the separator)")
        if cnt.size and cnt.min() < 0:
            raise UsageError(f"character counts must be >= 0, got {int(cnt.min())}")
        if np.unique(cps).size != cps.size:
            raise UsageError("code points of a vocabulary must be distinct")
        rank = np.lexsort((cps, -cnt))
        return cls(cps[rank], cnt[rank])

    @classmethod
    def from_streams(cls, streams: Iterable[np.ndarray]) -> CharVocabulary:
        """The vocabulary of han streams (code points with 0 separators), counted streaming."""
        return cls.from_counts(*count_codepoints(streams))

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """The vocabulary of the Han characters of ``text`` (for small inputs and tests)."""
        return cls.from_streams([han_stream(text)])

    # ---- properties

    @property
    def size(self) -> int:
        """Number of characters (the largest id)."""
        return int(self.codepoints.size)

    def __len__(self) -> int:
        return self.size

    @property
    def bits(self) -> int:
        """Bits needed to store any id 0..size (at least 1)."""
        return max(1, self.size.bit_length())

    @property
    def total(self) -> int:
        """Sum of the character counts."""
        return int(self.counts.sum())

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and self.id_of(char) != 0

    def __repr__(self) -> str:
        top = "".join(chr(c) for c in self.codepoints[:10].tolist())
        return f"CharVocabulary(size={self.size}, bits={self.bits}, total={self.total}, top={top!r})"

    # ---- ids

    @property
    def lookup_table(self) -> np.ndarray:
        """``uint32`` array indexed by code point: the id, or 0 outside the vocabulary."""
        if self._table is None:
            table = np.zeros(UNICODE_LIMIT, dtype=np.uint32)
            table[self.codepoints] = np.arange(1, self.size + 1, dtype=np.uint32)
            table.flags.writeable = False
            self._table = table
        return self._table

    def to_ids(self, codepoints: np.ndarray, *, strict: bool = False) -> np.ndarray:
        """Map code points to ids (``uint32``, same shape); 0 stays 0.

        A code point outside the vocabulary maps to 0, i.e. it ends the run it is
        in; with ``strict=True`` it raises :class:`UsageError` instead.
        """
        codepoints = np.asarray(codepoints)
        ids = np.take(self.lookup_table, codepoints, mode="clip")
        if strict:
            unknown = (ids == 0) & (codepoints != 0)
            if unknown.any():
                cp = int(codepoints[unknown].flat[0])
                shown = chr(cp) if 0 < cp < UNICODE_LIMIT else "?"
                raise UsageError(f"character {shown!r} (U+{cp:04X}) is not in the vocabulary of {self.size} characters")
        return ids

    def id_of(self, char: str) -> int:
        """The id of one character, 0 when it is not in the vocabulary."""
        return int(self.to_ids(text_codepoints(char))[0])

    def char(self, char_id: int) -> str:
        """The character of an id in 1..size."""
        if not 1 <= char_id <= self.size:
            raise UsageError(f"character id must be between 1 and {self.size}, got {char_id}")
        return chr(int(self.codepoints[char_id - 1]))

    # ---- codes

    def _bits(self, bits: int | None) -> int:
        if bits is None:
            return self.bits
        if not self.bits <= bits <= 32:
            raise UsageError(f"bits must be between {self.bits} and 32 for this vocabulary, got {bits}")
        return bits

    def encode_many(self, words: Sequence[str], order: int, *, bits: int | None = None, strict: bool = True) -> np.ndarray:
        """Codes of words of ``order`` characters: 1-D ``uint64``, or 2-D ``>u8`` rows when wide.

        With ``strict=False`` a character outside the vocabulary becomes id 0, so
        the code matches no counted n-gram (its count looks up as 0).
        """
        bits = self._bits(bits)
        if any(len(word) != order for word in words):
            bad = next(word for word in words if len(word) != order)
            raise UsageError(f"every word must have {order} characters, got {bad!r}")
        cps = text_codepoints("".join(words)).reshape(len(words), order)
        ids = self.to_ids(cps, strict=strict)
        return pack_rows(ids, bits)

    def encode(self, word: str, *, bits: int | None = None) -> Code:
        """The code of one word: an ``int``, or a tuple of word values when wide."""
        if not word:
            raise UsageError("cannot encode an empty word")
        code = self.encode_many([word], len(word), bits=bits)[0]
        return tuple(int(w) for w in code) if code.ndim else int(code)

    def decode_many(self, codes: np.ndarray, order: int, *, bits: int | None = None) -> list[str]:
        """The words of codes of ``order`` (as returned by :meth:`encode_many` or an n-gram table)."""
        ids = unpack_codes(codes, order, self._bits(bits))
        if ids.size and (ids.min() < 1 or ids.max() > self.size):
            raise UsageError(f"codes hold ids outside 1..{self.size}: not n-grams of order {order} of this vocabulary")
        chars = np.ascontiguousarray(self.codepoints[ids.astype(np.intp) - 1], dtype="<u4")
        return chars.view(f"<U{order}")[:, 0].tolist()

    def decode(self, code: Code, order: int, *, bits: int | None = None) -> str:
        """The word of one code of ``order``."""
        wide = is_wide(order, self._bits(bits))
        array = np.array([code], dtype=WIDE_DTYPE if wide else np.uint64)
        return self.decode_many(array, order, bits=bits)[0]
