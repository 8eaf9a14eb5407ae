"""Character classes and pre-tokenisation, vectorised over NumPy code-point arrays.

Discovery works on runs of Han characters; everything else is a boundary.
In segmented output, runs of digits and letters stay whole tokens (a decimal
point or thousands separator between digits stays inside the number), each
punctuation mark is its own token (a run of the same mark, such as ``——`` or
``……``, is one mark), and whitespace only separates tokens.

Classes are looked up in a table indexed by code point. The table is filled
lazily from :mod:`unicodedata` for the code points actually seen, so start-up
costs nothing and every plane (including non-BMP Han) is covered.
"""

from __future__ import annotations

import unicodedata

import numpy as np

HAN, DIGIT, LETTER, SPACE, PUNCT = 1, 2, 3, 4, 5

# Unicode blocks of Han ideographs (unified, extensions A-I, compatibility),
# plus 々 (iteration mark), 〇 (ideographic zero) and ○ (used for zero in
# Chinese dates such as 二○○一年).
HAN_RANGES = (
    (0x3005, 0x3005), (0x3007, 0x3007), (0x25CB, 0x25CB),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF), (0x2A700, 0x2EE5F), (0x2F800, 0x2FA1F), (0x30000, 0x323AF),
)
# Han runs longer than this are segmented in pieces of this many characters
# (mintext.discovery.lattice), and a long line is cut inside a Han run only at a
# multiple of it from the run's start (mintext.io.sources.line_cut)
MAX_RUN = 1024
NUMBER_JOINERS = ".,．/／"  # inside 3.14, 1,000, 3/4
NUMBER_SIGNS = "-－+＋−"  # before -5 (not after a digit: 1-5)
NUMBER_SUFFIXES = "%％‰"  # after 90%
JOINER, SIGN, SUFFIX = 1, 2, 4

_TABLE = np.zeros(0x110000, dtype=np.uint8)  # 0 = not classified yet
_ROLE = np.zeros(0x110000, dtype=np.uint8)  # number marks: JOINER | SIGN | SUFFIX bits
for _marks, _bit in ((NUMBER_JOINERS, JOINER), (NUMBER_SIGNS, SIGN), (NUMBER_SUFFIXES, SUFFIX)):
    _ROLE[[ord(c) for c in _marks]] |= _bit


def classify_char(ch: str) -> int:
    """The class of one character: HAN, DIGIT, LETTER, SPACE or PUNCT."""
    cp = ord(ch)
    if any(lo <= cp <= hi for lo, hi in HAN_RANGES):
        return HAN
    category = unicodedata.category(ch)
    if category == "Nd":
        return DIGIT
    if category[0] in "LM":
        return LETTER
    if category[0] == "Z" or ch.isspace():
        return SPACE
    return PUNCT


def char_classes(codepoints: np.ndarray) -> np.ndarray:
    """Class of each code point (uint8 array of the same shape)."""
    classes = _TABLE[codepoints]
    unknown = classes == 0
    if unknown.any():
        new = np.unique(codepoints[unknown])
        _TABLE[new] = [classify_char(chr(c)) for c in new.tolist()]
        classes = _TABLE[codepoints]
    return classes


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` as a uint32 array (non-BMP characters are one element)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def han_mask(text_codepoints: np.ndarray) -> np.ndarray:
    """Boolean mask of the Han characters."""
    return char_classes(text_codepoints) == HAN


def han_stream(text: str) -> np.ndarray:
    """Code points of the Han runs of ``text``, each run followed by a single 0.

    Non-Han characters (punctuation, digits, letters, spaces, line ends) are
    boundaries. The result never starts with 0 and always ends with 0 when it
    is not empty, so streams of consecutive blocks can be concatenated.
    """
    cps = codepoints(text)
    if cps.size == 0:
        return cps.copy()
    han = han_mask(cps)
    keep = han.copy()
    # keep the first non-Han position after each Han character, as the 0 separator
    keep[1:] |= han[:-1]
    stream = np.where(han, cps, 0)[keep]
    if stream.size and stream[-1] != 0:
        stream = np.append(stream, np.uint32(0))
    return stream.astype(np.uint32, copy=False)


def token_kinds(text_codepoints: np.ndarray) -> np.ndarray:
    """Classes used for tokenising: LETTER folded into DIGIT, and the marks that belong to a number.

    A run of digits and letters is one token. A number keeps its decimal
    point, thousands separator or fraction slash between digits (3.14, 1,000,
    3/4), a sign right before it that does not follow a digit or letter (-5,
    but 1-5 stays three tokens) and a percent or per-mille sign right after it (90%).
    """
    classes = char_classes(text_codepoints)
    kinds = classes.copy()
    kinds[kinds == LETTER] = DIGIT
    digit = classes == DIGIT
    n = kinds.size
    role = _ROLE[text_codepoints]
    if n >= 3:
        inside = ((role[1:-1] & JOINER) != 0) & digit[:-2] & digit[2:]
        kinds[1:-1][inside] = DIGIT
    if n >= 2:
        sign = ((role[:-1] & SIGN) != 0) & digit[1:]
        sign[1:] &= kinds[:-2] != DIGIT
        kinds[:-1][sign] = DIGIT
        suffix = ((role[1:] & SUFFIX) != 0) & digit[:-1]
        kinds[1:][suffix] = DIGIT
    return kinds


def pretokenize(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``text`` into tokens: ``(starts, ends, kinds)`` arrays of character offsets.

    Kinds are HAN (a run of Han characters, to be segmented further), DIGIT (a
    run of digits and letters), PUNCT (one mark, or a run of the same mark).
    Whitespace is dropped.
    """
    cps = codepoints(text)
    n = cps.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.uint8)
    kinds = token_kinds(cps)
    change = np.ones(n, dtype=bool)
    change[1:] = (kinds[1:] != kinds[:-1]) | ((kinds[1:] == PUNCT) & (cps[1:] != cps[:-1]))
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    token_kind = kinds[starts]
    keep = token_kind != SPACE
    return starts[keep], ends[keep], token_kind[keep]


def tokens(text: str) -> list[tuple[str, int]]:
    """``pretokenize`` as a list of ``(token_text, kind)``, for small inputs and tests."""
    starts, ends, kinds = pretokenize(text)
    return [(text[s:e], int(k)) for s, e, k in zip(starts.tolist(), ends.tolist(), kinds.tolist(), strict=True)]
