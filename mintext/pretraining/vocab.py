"""The character vocabulary of a pretrained model: counted from the corpus, in Google's layout.

A token is one *atom* of :mod:`mintext.parse.tokens` (one Han character, one
punctuation mark, or one run of other non-space characters such as a Latin
word or a number), lower-cased, as ``mintext parse`` cuts its input: a model
trained here sees exactly the units it is later asked about. :func:`atom_regex`
makes that cut with one compiled regular expression (the same cut as
:func:`mintext.parse.tokens.atoms`, which the tests use as the oracle), fast
enough to stream a corpus of tens of millions of characters.

The vocabulary file is Google's layout (``[PAD]``, ``[unused1..99]``,
``[UNK]``, ``[CLS]``, ``[SEP]``, ``[MASK]``, then the tokens, most frequent
first), written by :func:`mintext.parse.checkpoint.vocabulary`.
"""

from __future__ import annotations

import functools
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mintext.errors import InputError
from mintext.parse.checkpoint import SPECIAL_TOKENS, vocabulary
from mintext.parse.model import is_uncased, vocab_file_tokens
from mintext.parse.tokens import is_single_atom, is_space


def _ranges(flags: Sequence[bool]) -> str:
    """A regex character-class body for the code points whose flag is set."""
    parts, start = [], None
    for code in range(len(flags) + 1):
        on = code < len(flags) and flags[code]
        if on and start is None:
            start = code
        elif not on and start is not None:
            end = code - 1
            parts.append(re.escape(chr(start)) if start == end else f"{re.escape(chr(start))}-{re.escape(chr(end))}")
            start = None
    return "".join(parts)


@functools.lru_cache(maxsize=1)
def atom_regex() -> re.Pattern[str]:
    """A pattern whose ``findall`` gives the atoms of a text, as :func:`mintext.parse.tokens.atoms` does."""
    size = sys.maxunicode + 1
    single = [False] * size
    space = [False] * size
    for code in range(size):
        ch = chr(code)
        if is_space(ch):
            space[code] = True
        elif is_single_atom(ch):
            single[code] = True
    alone = _ranges(single)
    neither = _ranges([not (a or b) for a, b in zip(single, space, strict=True)])
    return re.compile(f"[{alone}]|[{neither}]+")


@dataclass(frozen=True)
class Vocabulary:
    """Tokens in id order and the ids of the special tokens; :meth:`encode` turns a line into ids."""

    tokens: tuple[str, ...]
    lowercase: bool = True

    @functools.cached_property
    def ids(self) -> dict[str, int]:
        return {token: i for i, token in reversed(list(enumerate(self.tokens)))}

    @property
    def size(self) -> int:
        return len(self.tokens)

    def id_of(self, token: str) -> int:
        return self.ids[token]

    @property
    def pad_id(self) -> int:
        return self.ids["[PAD]"]

    @property
    def unk_id(self) -> int:
        return self.ids["[UNK]"]

    @property
    def cls_id(self) -> int:
        return self.ids["[CLS]"]

    @property
    def sep_id(self) -> int:
        return self.ids["[SEP]"]

    @property
    def mask_id(self) -> int:
        return self.ids["[MASK]"]

    @functools.cached_property
    def first_real_id(self) -> int:
        """The first id after the special and ``[unused]`` tokens (random replacements are drawn from here on)."""
        special = {*SPECIAL_TOKENS, *(t for t in self.tokens if t.startswith("[unused"))}
        last = max(i for i, t in enumerate(self.tokens) if t in special)
        return last + 1 if last + 1 < len(self.tokens) else 0

    def encode(self, line: str) -> list[int]:
        """Token ids of the atoms of ``line`` (lower-cased for an uncased vocabulary); unknown atoms are ``[UNK]``."""
        if self.lowercase:
            line = line.lower()
        ids, unk = self.ids, self.unk_id
        return [ids.get(atom, unk) for atom in atom_regex().findall(line)]


def count_atoms(lines: Iterable[str]) -> Counter[str]:
    """How often each lower-cased atom occurs in ``lines``."""
    counts: Counter[str] = Counter()
    findall = atom_regex().findall
    for line in lines:
        counts.update(findall(line.lower()))
    return counts


def vocabulary_from_counts(counts: Counter[str], min_count: int, max_size: int | None = None) -> Vocabulary:
    """The atoms seen at least ``min_count`` times, most frequent first (ties by code point), in Google's layout.

    ``max_size`` caps the whole vocabulary (special tokens included). Raises
    :class:`InputError` when no atom is frequent enough.
    """
    kept = sorted((atom for atom, n in counts.items() if n >= min_count), key=lambda a: (-counts[a], a))
    if not kept:
        raise InputError(f"no character of the corpus occurs {min_count} times or more: the corpus is empty or "
                         "too small; give more text or a lower --min-char-count")
    tokens = vocabulary(kept)
    if max_size is not None:
        tokens = tokens[:max(max_size, 105)]
    return Vocabulary(tuple(tokens), lowercase=True)


def read_vocabulary(path: str) -> Vocabulary:
    """A ``vocab.txt`` (one token a line, Google's layout); :class:`InputError` without the special tokens."""
    tokens = vocab_file_tokens(path, f"--vocab {path}")
    missing = [t for t in SPECIAL_TOKENS if t not in set(tokens)]
    if missing:
        raise InputError(f"--vocab {path} lacks {', '.join(missing)}: a BERT vocab.txt needs [PAD], [UNK], [CLS], "
                         "[SEP] and [MASK]; leave --vocab out to build one from the corpus")
    if tokens[0] != "[PAD]":
        raise InputError(f"--vocab {path} must start with [PAD] (id 0 is padding in bert4keras)")
    return Vocabulary(tuple(tokens), lowercase=is_uncased(tokens))
