"""Splitting text into the units a Chinese BERT sees, keeping every character.

BERT's basic tokenizer (bert4keras's ``Tokenizer._tokenize``) puts every CJK
character and every punctuation mark in a token of its own, splits on
whitespace, and hands the remaining runs (Latin words, digits...) to
WordPiece. :func:`atom_spans` makes the same cut but returns character offsets
into the original text, so that output can be written with the characters
unchanged (no lower-casing, no normalisation). One *atom* is one CJK
character, one punctuation mark, one control or replacement character (which
BERT would drop; mintext keeps it and feeds ``[UNK]``), or one run of other
non-space characters (which may become several WordPiece tokens).
Whitespace only separates atoms.
"""

from __future__ import annotations

import unicodedata

_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_cjk(ch: str) -> bool:
    """A CJK ideograph, as BERT's tokenizer defines it (one token per character)."""
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def is_punctuation(ch: str) -> bool:
    """ASCII symbols and every Unicode ``P*`` character, as BERT's tokenizer defines them."""
    code = ord(ch)
    return 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126 or (
        unicodedata.category(ch).startswith("P")
    )


def is_space(ch: str) -> bool:
    """Whitespace: separates atoms and is not part of any."""
    return ch.isspace() or unicodedata.category(ch) == "Zs"


def is_dropped_by_bert(ch: str) -> bool:
    """Characters BERT's tokenizer deletes (NUL, U+FFFD, control and format characters)."""
    return ch in ("\x00", "\ufffd") or unicodedata.category(ch) in ("Cc", "Cf")


def is_single_atom(ch: str) -> bool:
    """Characters that are always an atom on their own."""
    return is_cjk(ch) or is_punctuation(ch) or is_dropped_by_bert(ch)


def atom_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the atoms of ``text``, in order.

    >>> atom_spans("我爱 iPhone15，好")
    [(0, 1), (1, 2), (3, 11), (11, 12), (12, 13)]
    """
    spans: list[tuple[int, int]] = []
    run_start = -1
    for i, ch in enumerate(text):
        if is_space(ch) or is_single_atom(ch):
            if run_start >= 0:
                spans.append((run_start, i))
                run_start = -1
            if not is_space(ch):
                spans.append((i, i + 1))
        elif run_start < 0:
            run_start = i
    if run_start >= 0:
        spans.append((run_start, len(text)))
    return spans


def atoms(text: str) -> list[str]:
    """The atoms of ``text`` as strings (see :func:`atom_spans`)."""
    return [text[a:b] for a, b in atom_spans(text)]


def joined_after(text: str, spans: list[tuple[int, int]]) -> list[bool]:
    """For each gap between consecutive atoms: ``True`` when no whitespace separates them."""
    return [spans[k][1] == spans[k + 1][0] for k in range(len(spans) - 1)]
