"""Lexicons: the table discovery produces, its file formats, and a segmenter built from one.

A lexicon is a table with one row per word (a :class:`pandas.DataFrame` from
:func:`~mintext.discovery.pipeline.discover` and :func:`read_lexicon`; a
:class:`Lexicon` of NumPy columns inside the pipeline, which the command
writes without importing pandas):

==============  ==============================================================
word            the word
freq            its count in the discovery segmentation of the corpus
length          number of characters
pmi             solidity: smallest PMI over its binary splits (empty for 1 char)
left_entropy    branching entropy of the character before it (run starts count
                as distinct events)
right_entropy   branching entropy of the character after it
count           its count in the word model that segments (the refinement's
                counts; a word's cost is computed from them)
banned          1 for a free-form compound the model never uses as a word
==============  ==============================================================

``freq`` and ``count`` differ: ``freq`` counts the words of the final
segmentation, ``count`` is the model that produced it. A lexicon written
whole (no filter) lists every word of either (``freq`` 0 for a word only the
model holds, such as a banned one), so :func:`segmenter_for` rebuilds the very
model discovery segmented with.

Rows are sorted by frequency (highest first), then by word. Files are TSV
with a header row, preceded by one ``#`` line recording how the lexicon was
made (the model's parameters among them); ``jieba`` format is ``word freq``
per line (jieba loads it as a dictionary; it carries no ``count``).
:func:`read_lexicon` reads either (only ``word`` and ``freq`` are needed) and
:func:`segmenter_for` turns a lexicon into a :class:`Segmenter`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

import numpy as np

from mintext.discovery.gaps import GapTable
from mintext.discovery.segmenter import Segmenter
from mintext.discovery.wordmodel import BaseDistribution, ModelParameters
from mintext.errors import InputError, UsageError, one_line, shown_name
from mintext.io.chars import HAN, char_classes, codepoints
from mintext.io.sources import Source, iter_blocks, resolve_inputs
from mintext.ngrams.vocabulary import CharVocabulary

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["word", "freq", "length", "pmi", "left_entropy", "right_entropy", "count", "banned"]
MODEL_COLUMNS = ("count", "banned")  # what a lexicon needs beyond word and freq to be discovery's model
FORMATS = ("tsv", "jieba")
# the largest frequency read_lexicon accepts: character counts (sums of word frequencies)
# stay exact in float64 and far inside int64 for a million words of six characters
MAX_FREQ = 1e12


@dataclass(frozen=True, repr=False)
class Lexicon:
    """A lexicon as NumPy columns (those of :data:`COLUMNS`, one value a word) and how it was made.

    ``columns["word"]`` is an object array of str; ``options`` is what the
    file's ``#`` header records (a DataFrame's ``attrs["options"]``).
    """

    columns: dict[str, np.ndarray]
    options: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["word"])

    def __repr__(self) -> str:
        first = " ".join(self.columns["word"][:8].tolist())
        return f"Lexicon({len(self):,} words{': ' if first else ''}{first}{' ...' if len(self) > 8 else ''})"

    def rows(self, which: np.ndarray | slice) -> Lexicon:
        """The lexicon of the rows ``which`` selects (a boolean mask, indices or a slice), in their order."""
        return Lexicon({name: column[which] for name, column in self.columns.items()}, self.options)

    def sorted(self) -> Lexicon:
        """Rows by frequency (highest first), then by word (see :func:`lexicon_order`)."""
        return self.rows(lexicon_order(self.columns["word"], self.columns["freq"]))

    @classmethod
    def of(cls, table: Lexicon | pd.DataFrame) -> Lexicon:
        """``table`` as a Lexicon: itself, or a DataFrame's columns as arrays and its ``attrs["options"]``."""
        if isinstance(table, Lexicon):
            return table
        return cls({name: table[name].to_numpy() for name in table.columns}, table.attrs.get("options", {}))

    def to_frame(self) -> pd.DataFrame:
        """The lexicon as a DataFrame, ``attrs["options"]`` set."""
        import pandas as pd

        frame = pd.DataFrame({name: self.columns[name] for name in COLUMNS if name in self.columns})
        frame.attrs["options"] = dict(self.options)
        return frame


def lexicon_order(words: np.ndarray | list[str], freq: np.ndarray) -> np.ndarray:
    """Row indices by frequency (highest first), then by word (code point order)."""
    words = words if isinstance(words, list) else np.asarray(words, dtype=object).tolist()
    freq = np.asarray(freq, dtype=np.float64)
    if any("\0" in word for word in words):  # NumPy strings drop trailing NULs: compare such words in Python
        keys = list(zip((-freq).tolist(), words, strict=True))
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    return np.lexsort((np.array(words, dtype=str), -freq))


def header_line(options: dict[str, object]) -> str:
    """The ``#`` line recording how a lexicon was made: ``key=value`` pairs, space-separated."""
    return "# " + " ".join(f"{k}={_plain(v)}" for k, v in options.items())


def _plain(value: object) -> str:
    """A value as one header token: spaces and tabs as ``_``, other control characters and undecodable bytes escaped."""
    text = str(value).replace(" ", "_").replace("\t", "_")
    return one_line(text)


def write_lexicon(table: Lexicon | pd.DataFrame, out: IO[str], fmt: str = "tsv", header: str | None = None) -> None:
    """Write a lexicon to a text stream as TSV (with ``header`` as first line) or as a jieba dictionary."""
    if fmt not in FORMATS:
        raise UsageError(f"lexicon format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    columns = Lexicon.of(table).columns
    words = np.asarray(columns["word"], dtype=object)
    if fmt == "jieba":
        # jieba needs whole positive counts: round, and never below 1; words of the model only (freq 0) are left out
        freq = np.asarray(columns["freq"], dtype=np.float64)
        seen = freq > 0
        out.writelines(f"{w} {max(1, round(f))}\n" for w, f in zip(words[seen].tolist(), freq[seen].tolist(), strict=True))
        return
    if header:
        out.write(header.rstrip("\n") + "\n")
    names = [c for c in COLUMNS if c in columns]
    out.write("\t".join(names) + "\n")
    cells = [_cells(columns[c]) for c in names]
    if len(words):
        out.write("\n".join(map("\t".join, zip(*cells, strict=True))) + "\n")


def _cells(column: object) -> list[str]:
    """The TSV cells of a column, as :func:`_cell` writes each value, whole columns at a time."""
    values = np.asarray(column)
    if values.dtype.kind == "f":
        values = values.astype(np.float64, copy=False)
        text = np.full(values.size, "", dtype=object)
        with np.errstate(invalid="ignore"):
            whole = (values == np.floor(values)) & (np.abs(values) < 1e15)
        decimal = ~np.isnan(values) & ~whole
        text[whole] = list(map(str, values[whole].astype(np.int64).tolist()))
        text[decimal] = [f"{v:.4f}" for v in values[decimal].tolist()]
        return text.tolist()
    if values.dtype.kind in "iub":
        return list(map(str, values.astype(np.int64).tolist()))
    return [_cell(v) for v in values.tolist()]


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

    Lines starting with ``#`` and blank lines are skipped; the first ``#``
    line's ``key=value`` fields become ``attrs["options"]`` (strings). A TSV
    header row (starting with ``word``) is recognised; otherwise the first two
    fields of each line, separated by a tab (or by spaces when the file has no
    tabs), are the word and its frequency, a number in (0, ``MAX_FREQ``]. A
    TSV whose header names ``count`` and ``banned`` (as discover writes it)
    also gives those columns, and its frequencies may be 0 (words only the
    model holds). Raises :class:`InputError` naming the line of a malformed
    row (a decoding error suggests changing ``encoding_option``). Returns a
    DataFrame with columns ``word`` and ``freq`` (and ``count``, ``banned``).
    """
    return read_lexicon_columns(path, encoding, errors, encoding_option=encoding_option).to_frame()


def read_lexicon_columns(
    path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict", *, encoding_option: str = "--encoding"
) -> Lexicon:
    """:func:`read_lexicon`, the lexicon as a :class:`Lexicon` (``freq`` and ``count`` float64, ``banned`` bool):
    what ``mintext segment`` reads, without importing pandas."""
    path = os.fspath(path)
    name = shown_name(path)
    lines = "".join(iter_blocks(_one_source(path), encoding, errors, option=encoding_option)).split("\n")
    comments = [line for line in lines if line.lstrip().startswith("#")]
    numbers = [k for k, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")]
    tsv = bool(numbers) and "\t" in lines[numbers[0] - 1]
    split = (lambda line: line.split("\t")) if tsv else str.split
    header: list[str] = []
    if numbers and split(lines[numbers[0] - 1])[0] == "word":
        header = [h.strip() for h in split(lines[numbers[0] - 1])]
        numbers = numbers[1:]
    if not numbers:
        raise InputError(f"{name} has no lexicon rows; expected lines of 'word<TAB>freq' (mintext discover writes them)")
    fields = [split(lines[k - 1]) for k in numbers]
    words = [f[0].strip() for f in fields]
    freq = _numbers([f[1] if len(f) > 1 else "" for f in fields])
    with_model = all(c in header for c in MODEL_COLUMNS)
    lowest = 0 if with_model else np.nextafter(0, 1)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(freq) | (freq < lowest) | (freq > MAX_FREQ)
    bad |= np.fromiter((not w or _SPACE.search(w) is not None for w in words), dtype=bool, count=len(words))
    duplicated = _repeated(words)
    if bad.any() or duplicated.any():
        first = int(np.flatnonzero(bad | duplicated)[0])
        raise InputError(_row_error(name, numbers, fields, words, first, zero_allowed=with_model))
    column = np.empty(len(words), dtype=object)
    column[:] = words
    columns = {"word": column, "freq": freq}
    if with_model:
        columns["count"], columns["banned"] = _model_columns(name, numbers, fields, header)
    return Lexicon(columns, _header_fields(comments[0]) if comments else {})


_SPACE = re.compile(r"\s")


def _repeated(words: list[str]) -> np.ndarray:
    """Which words were seen on an earlier row."""
    seen: set[str] = set()
    repeated = np.zeros(len(words), dtype=bool)
    for k, word in enumerate(words):
        repeated[k] = word in seen
        seen.add(word)
    return repeated


def _numbers(texts: list[str]) -> np.ndarray:
    """Numbers as float64, NaN where a text is not one (plain ASCII decimals as pandas.to_numeric reads them:
    no digit separators, no other scripts' digits)."""
    out = np.full(len(texts), np.nan)
    for k, text in enumerate(texts):
        if text.isascii() and "_" not in text:
            try:
                out[k] = float(text) + 0.0  # + 0.0: -0 is 0
            except ValueError:
                pass
    return out


def _model_columns(name: str, numbers: list[int], fields: list[list[str]], header: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` and ``banned`` columns of a discover TSV, checked: a count in [0, MAX_FREQ], banned 0 or 1."""
    at_count, at_banned = header.index("count"), header.index("banned")
    count_text = [f[at_count] if len(f) > at_count else "" for f in fields]
    banned_text = [f[at_banned].strip() if len(f) > at_banned else "" for f in fields]
    count = _numbers(count_text)
    with np.errstate(invalid="ignore"):
        bad_count = ~np.isfinite(count) | (count < 0) | (count > MAX_FREQ)
    bad_banned = ~np.isin(banned_text, ["0", "1"])
    if bad_count.any() or bad_banned.any():
        row = int(np.flatnonzero(bad_count | bad_banned)[0])
        if bad_count[row]:
            raise InputError(f"{name} line {numbers[row]}: count must be a number from 0 to {_shown_max()}, got {count_text[row][:20]!r}")
        raise InputError(f"{name} line {numbers[row]}: banned must be 0 or 1, got {banned_text[row][:20]!r}")
    return count, np.asarray(banned_text) == "1"


def _header_fields(line: str) -> dict[str, str]:
    """The ``key=value`` fields of a ``#`` header line (see :func:`header_line`)."""
    pairs = (token.split("=", 1) for token in line.lstrip().lstrip("#").split())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def model_parameters(options: dict[str, str]) -> ModelParameters:
    """The word model's parameters recorded in a lexicon header (``model.*`` fields); defaults for those missing."""
    given = {}
    for name in ModelParameters.__dataclass_fields__:
        text = options.get(f"model.{name}")
        try:
            value = float(text) if text is not None else math.nan
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            given[name] = value
    return ModelParameters(**given)


def _one_source(path: str) -> Source:
    sources = resolve_inputs([path])
    if len(sources) != 1:
        raise InputError(f"{shown_name(path)} names {len(sources)} files; give one lexicon file")
    return sources[0]


def _row_error(
    name: str, numbers: list[int], fields: list[list[str]], words: list[str], row: int, *, zero_allowed: bool = False
) -> str:
    """The message for the first malformed or repeated row (``zero_allowed``: a lexicon with the model's columns)."""
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
        valid = f"from 0 to {_shown_max()}" if zero_allowed else f"above 0 and at most {_shown_max()}"
        return f"{name} line {number}: frequency must be a number {valid}, got {text[:20]!r}"
    first = numbers[words.index(word)]
    return f"{name} line {number}: {word!r} is listed twice (first on line {first}); keep one row per word"


def _shown_max() -> str:
    return f"{MAX_FREQ:.0e}".replace("+", "")  # 1e12


# --------------------------------------------------------------------------- segmenter


def segmenter_for(
    lexicon: Lexicon | pd.DataFrame,
    params: ModelParameters | None = None,
    max_len: int | None = None,
    gaps: GapTable | None = None,
) -> Segmenter:
    """A :class:`Segmenter` for a lexicon (``word`` and ``freq`` columns; ``count`` and ``banned`` if it has them).

    Only words made of Han characters are used (others are tokens of their
    own anyway). Character frequencies come from ``freq``: every character of
    a segmented corpus belongs to exactly one word token, so summing ``freq``
    over the characters of each word recovers them. The word costs come from
    ``count`` and ``banned`` when the lexicon has them (discover's model),
    otherwise from ``freq``. ``params``: the model's parameters (default: those
    of the lexicon's header, see :func:`model_parameters`). ``gaps``: the gap
    evidence of the discovery run (:meth:`GapTable.read`), which ``discover
    --segment`` adds to the word costs.
    """
    lexicon = Lexicon.of(lexicon)
    columns, options = lexicon.columns, lexicon.options
    if params is None:
        params = model_parameters(options)
    words = [str(w) for w in np.asarray(columns["word"], dtype=object).tolist()]
    freqs = np.asarray(columns["freq"], dtype=np.float64)
    with_model = all(c in columns for c in MODEL_COLUMNS)
    counts = np.asarray(columns["count"], dtype=np.float64) if with_model else freqs
    banned = np.asarray(columns["banned"], dtype=bool) if with_model else np.zeros(freqs.size, dtype=bool)
    han = _han_rows(words)
    if max_len is not None:
        han &= np.fromiter((len(w) <= max_len for w in words), dtype=bool, count=len(words))
    words = [w for w, k in zip(words, han.tolist(), strict=True) if k]
    freqs, counts, banned = freqs[han], counts[han], banned[han]
    vocabulary = _vocabulary(words, freqs)
    if with_model:
        # the model's words: counted or banned (a word with neither costs its spelling, as one not listed)
        used = (counts > 0) | banned
        words = [w for w, k in zip(words, used.tolist(), strict=True) if k]
        counts, banned = counts[used], banned[used]
    table = vocabulary.lookup_table
    by_length: dict[int, list[int]] = {}
    for k, word in enumerate(words):
        by_length.setdefault(len(word), []).append(k)
    ids, word_counts, word_bans = {}, {}, {}
    for length, members in sorted(by_length.items()):
        joined = "".join(words[k] for k in members)
        ids[length] = table[codepoints(joined)].reshape(len(members), length)
        word_counts[length] = counts[members]
        word_bans[length] = banned[members]
    evidence = gaps.for_vocabulary(vocabulary) if gaps is not None else None
    base = None
    model_len = _model_max_len(options, vocabulary) if with_model else None
    if model_len is not None:
        # the spelling model's length distribution spans discovery's longest word, used or not
        base = BaseDistribution.from_words(vocabulary, ids, word_counts, params, max(model_len, max(ids, default=1)))
    return Segmenter(vocabulary, ids, word_counts, banned=word_bans, params=params, evidence=evidence, base=base)


def _model_max_len(options: dict[str, str], vocabulary: CharVocabulary) -> int | None:
    """The longest word of the discovery run that wrote a lexicon (its ``max_word_length``, as far as codes allow)."""
    try:
        asked = int(options["max_word_length"])
    except (KeyError, ValueError):
        return None
    return min(asked, max(1, 64 // vocabulary.bits))


def _han_rows(words: list[str]) -> np.ndarray:
    """Which words are made only of Han characters."""
    if not words:
        return np.zeros(0, dtype=bool)
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    han = (char_classes(codepoints("".join(words))) == HAN).astype(np.int64)
    # Han characters per word from prefix sums (empty words are fine: their count is 0)
    cumulative = np.concatenate(([0], np.cumsum(han)))
    ends = np.cumsum(lengths)
    return (lengths > 0) & (cumulative[ends] - cumulative[ends - lengths] == lengths)


def _vocabulary(words: list[str], freqs: np.ndarray) -> CharVocabulary:
    if not words:
        return CharVocabulary.from_counts(np.zeros(0, np.uint32), np.zeros(0, np.int64))
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    cps = codepoints("".join(words))
    weights = np.repeat(freqs, lengths)
    unique, inverse = np.unique(cps, return_inverse=True)
    counts = np.bincount(inverse, weights=weights)
    return CharVocabulary.from_counts(unique, np.maximum(np.round(counts), 1).astype(np.int64))
