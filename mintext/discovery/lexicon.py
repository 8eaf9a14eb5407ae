"""Lexicons: the table discovery produces, its file formats, and a segmenter built from one.

A lexicon is a :class:`pandas.DataFrame` with one row per word:

==============  ==============================================================
word            the word
freq            its count in the discovery segmentation of the corpus
length          number of characters
pmi             solidity: smallest PMI over its binary splits (empty for 1 char)
left_entropy    branching entropy of the character before it (run starts count
                as distinct events)
right_entropy   branching entropy of the character after it
==============  ==============================================================

Rows are sorted by frequency (highest first), then by word. Files are TSV
with a header row, preceded by one ``#`` line recording how the lexicon was
made; ``jieba`` format is ``word freq`` per line (jieba loads it as a
dictionary). :func:`read_lexicon` reads either (only ``word`` and ``freq`` are
needed) and :func:`segmenter_for` turns a lexicon into a :class:`Segmenter`.
"""

from __future__ import annotations

import math
import os
from typing import IO

import numpy as np
import pandas as pd

from mintext.discovery.segmenter import Segmenter
from mintext.discovery.wordmodel import ModelParameters
from mintext.errors import InputError, UsageError, one_line, shown_name
from mintext.io.chars import HAN, char_classes, codepoints
from mintext.io.sources import Source, iter_blocks, resolve_inputs
from mintext.ngrams.vocabulary import CharVocabulary

COLUMNS = ["word", "freq", "length", "pmi", "left_entropy", "right_entropy"]
FORMATS = ("tsv", "jieba")
# the largest frequency read_lexicon accepts: character counts (sums of word frequencies)
# stay exact in float64 and far inside int64 for a million words of six characters
MAX_FREQ = 1e12


def sort_lexicon(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by frequency (highest first), then by word (code point order); a fresh index."""
    keys = list(zip((-table["freq"]).tolist(), table["word"].tolist(), strict=True))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return table.iloc[order].reset_index(drop=True)


def header_line(options: dict[str, object]) -> str:
    """The ``#`` line recording how a lexicon was made: ``key=value`` pairs, space-separated."""
    return "# " + " ".join(f"{k}={_plain(v)}" for k, v in options.items())


def _plain(value: object) -> str:
    """A value as one header token: spaces and tabs as ``_``, other control characters and undecodable bytes escaped."""
    text = str(value).replace(" ", "_").replace("\t", "_")
    return one_line(text)


def write_lexicon(table: pd.DataFrame, out: IO[str], fmt: str = "tsv", header: str | None = None) -> None:
    """Write ``table`` to a text stream as TSV (with ``header`` as first line) or as a jieba dictionary."""
    if fmt not in FORMATS:
        raise UsageError(f"lexicon format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "jieba":
        # jieba needs whole positive counts: round, and never below 1
        out.writelines(f"{w} {max(1, round(f))}\n" for w, f in zip(table["word"], table["freq"], strict=True))
        return
    if header:
        out.write(header.rstrip("\n") + "\n")
    out.write("\t".join(COLUMNS) + "\n")
    columns = [table[c].tolist() for c in COLUMNS]
    for row in zip(*columns, strict=True):
        out.write("\t".join(_cell(v) for v in row) + "\n")


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4f}"
    return str(value)


# --------------------------------------------------------------------------- reading


def read_lexicon(
    path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict", *, encoding_option: str = "--encoding"
) -> pd.DataFrame:
    """Read a lexicon file (mintext TSV, or ``word freq`` lines as jieba writes them).

    Lines starting with ``#`` and blank lines are skipped. A TSV header row
    (starting with ``word``) is recognised; otherwise the first two fields of
    each line, separated by a tab (or by spaces when the file has no tabs), are
    the word and its frequency, a number in (0, ``MAX_FREQ``]. Raises
    :class:`InputError` naming the line of a malformed row (a decoding error
    suggests changing ``encoding_option``). Returns a DataFrame with columns
    ``word`` and ``freq``.
    """
    path = os.fspath(path)
    name = shown_name(path)
    lines = "".join(iter_blocks(_one_source(path), encoding, errors, option=encoding_option)).split("\n")
    numbers = [k for k, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")]
    tsv = bool(numbers) and "\t" in lines[numbers[0] - 1]
    split = (lambda line: line.split("\t")) if tsv else str.split
    if numbers and split(lines[numbers[0] - 1])[0] == "word":
        numbers = numbers[1:]
    if not numbers:
        raise InputError(f"{name} has no lexicon rows; expected lines of 'word<TAB>freq' (mintext discover writes them)")
    fields = [split(lines[k - 1]) for k in numbers]
    table = pd.DataFrame({"word": [f[0].strip() for f in fields], "freq": [f[1] if len(f) > 1 else None for f in fields]})
    freq = pd.to_numeric(table["freq"], errors="coerce")
    bad = table["freq"].isna() | freq.isna() | ~np.isfinite(freq) | (freq <= 0) | (freq > MAX_FREQ) | (table["word"] == "")
    bad |= table["word"].str.contains(r"\s", regex=True)
    duplicated = table["word"].duplicated()
    if bad.any() or duplicated.any():
        first = int(np.flatnonzero(bad.to_numpy() | duplicated.to_numpy())[0])
        raise InputError(_row_error(name, numbers, fields, table["word"].tolist(), first))
    return pd.DataFrame({"word": table["word"], "freq": freq.astype(np.float64)})


def _one_source(path: str) -> Source:
    sources = resolve_inputs([path])
    if len(sources) != 1:
        raise InputError(f"{shown_name(path)} names {len(sources)} files; give one lexicon file")
    return sources[0]


def _row_error(name: str, numbers: list[int], fields: list[list[str]], words: list[str], row: int) -> str:
    """The message for the first malformed or repeated row."""
    number, values = numbers[row], fields[row]
    if len(values) < 2:
        return f"{name} line {number}: expected a word and a frequency separated by a tab, got {values[0][:40]!r}"
    word, text = values[0].strip(), values[1]
    if not word or any(ch.isspace() for ch in word):
        return f"{name} line {number}: the word is empty or contains spaces"
    try:
        value = float(text)
    except ValueError:
        return f"{name} line {number}: frequency {text[:20]!r} is not a number"
    if not math.isfinite(value) or not 0 < value <= MAX_FREQ:
        return f"{name} line {number}: frequency must be a number above 0 and at most {_shown_max()}, got {text[:20]!r}"
    first = numbers[words.index(word)]
    return f"{name} line {number}: {word!r} is listed twice (first on line {first}); keep one row per word"


def _shown_max() -> str:
    return f"{MAX_FREQ:.0e}".replace("+", "")  # 1e12


# --------------------------------------------------------------------------- segmenter


def segmenter_for(
    lexicon: pd.DataFrame, params: ModelParameters = ModelParameters(), max_len: int | None = None
) -> Segmenter:
    """A :class:`Segmenter` for a lexicon (``word`` and ``freq`` columns).

    Only words made of Han characters are used (others are tokens of their
    own anyway). Character frequencies come from the lexicon itself: every
    character of a segmented corpus belongs to exactly one word token, so
    summing ``freq`` over the characters of each word recovers them.
    """
    words = [str(w) for w in lexicon["word"].tolist()]
    freqs = np.asarray(lexicon["freq"], dtype=np.float64)
    han_words, han_freqs = _han_words(words, freqs)
    if max_len is not None:
        keep = np.fromiter((len(w) <= max_len for w in han_words), dtype=bool, count=len(han_words))
        han_words = [w for w, k in zip(han_words, keep.tolist(), strict=True) if k]
        han_freqs = han_freqs[keep]
    vocabulary = _vocabulary(han_words, han_freqs)
    table = vocabulary.lookup_table
    by_length: dict[int, list[int]] = {}
    for k, word in enumerate(han_words):
        by_length.setdefault(len(word), []).append(k)
    ids, counts = {}, {}
    for length, members in sorted(by_length.items()):
        joined = "".join(han_words[k] for k in members)
        ids[length] = table[codepoints(joined)].reshape(len(members), length)
        counts[length] = han_freqs[members]
    return Segmenter(vocabulary, ids, counts, params=params)


def _han_words(words: list[str], freqs: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The words made only of Han characters, with their frequencies."""
    if not words:
        return [], freqs[:0]
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    han = (char_classes(codepoints("".join(words))) == HAN).astype(np.int64)
    # Han characters per word from prefix sums (empty words are fine: their count is 0)
    cumulative = np.concatenate(([0], np.cumsum(han)))
    ends = np.cumsum(lengths)
    keep = (lengths > 0) & (cumulative[ends] - cumulative[ends - lengths] == lengths)
    return [w for w, k in zip(words, keep.tolist(), strict=True) if k], freqs[keep]


def _vocabulary(words: list[str], freqs: np.ndarray) -> CharVocabulary:
    if not words:
        return CharVocabulary.from_counts(np.zeros(0, np.uint32), np.zeros(0, np.int64))
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    cps = codepoints("".join(words))
    weights = np.repeat(freqs, lengths)
    unique, inverse = np.unique(cps, return_inverse=True)
    counts = np.bincount(inverse, weights=weights)
    return CharVocabulary.from_counts(unique, np.maximum(np.round(counts), 1).astype(np.int64))
