"""Reading baskets (transactions) into compact arrays.

Three input formats:

- ``basket``: one basket per line, items separated by ``sep`` (default ``,``);
  CSV quoting is honoured and items are trimmed;
- ``fimi``: one basket per line, items separated by whitespace (the FIMI
  repository's ``.dat`` files);
- ``long``: a table with a header line and one row per (basket id, item); the
  columns are named by ``tid`` and ``item`` (by default the first two of a
  two-column header).

Files are read in blocks through :mod:`mintext.io.sources` (compression, encodings
and decoding errors behave as in the rest of mintext). Each block is parsed
with vectorised string operations into integer item ids, assigned as items are
first seen, and the baskets are kept as CSR arrays: ``indptr`` (basket
boundaries) and ``indices`` (item ids). No list of Python sets and no dense
baskets x items matrix is ever built.

>>> b = Baskets.from_iterable([["milk", "bread"], ["milk"], []])
>>> b
Baskets(3 baskets, 2 items, 3 item occurrences)
>>> b.item_counts().tolist()
[2, 1]
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from mintext.errors import InputError, UsageError
from mintext.io.sources import DecodeStats, Source, data_suffix, iter_blocks, resolve_inputs

FORMATS = ("basket", "fimi", "long")
FIMI_SUFFIXES = (".dat",)
TAB_SUFFIXES = (".tsv", ".tab")
MAX_QUOTED_CHARS = 1 << 26  # a quoted field may span lines, but not more than this many characters

_MARK = "\x00"  # line end inside a block of tokens; iter_blocks refuses text with NUL bytes
_MARK_ID = -2  # item id of the line-end marker
_SKIP_ID = -1  # item id of an empty item ("a,,b" or a blank line)


@dataclass(frozen=True, eq=False)
class Baskets:
    """Baskets as CSR arrays over item ids.

    ``items[i]`` is the name of item id ``i`` (ids are given as items are
    first seen). Basket ``b`` holds ``indices[indptr[b]:indptr[b + 1]]``,
    sorted ascending and without duplicates. Empty baskets are allowed.
    """

    items: list[str]
    indptr: np.ndarray  # int64, n_baskets + 1
    indices: np.ndarray  # int32

    @property
    def n_baskets(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return self.n_baskets

    @property
    def longest(self) -> int:
        """The most items in one basket (0 without baskets)."""
        return int(np.diff(self.indptr).max()) if self.n_baskets else 0

    def __repr__(self) -> str:
        return f"Baskets({self.n_baskets:,} baskets, {self.n_items:,} items, {len(self.indices):,} item occurrences)"

    def item_counts(self) -> np.ndarray:
        """Number of baskets that contain each item id (int64, length ``n_items``)."""
        return np.bincount(self.indices, minlength=self.n_items).astype(np.int64, copy=False)

    def space_separated_hint(self) -> str | None:
        """A hint when the baskets look like whitespace-separated items read as one item each: every basket
        has at most one item and every item name has a space or tab (``a b c`` read with ``--sep ,``)."""
        return space_separated_hint(self.items, self.longest)

    def basket(self, b: int) -> list[str]:
        """The item names of basket ``b`` (in id order)."""
        return [self.items[i] for i in self.indices[self.indptr[b] : self.indptr[b + 1]]]

    @classmethod
    def from_iterable(cls, baskets: Iterable[Iterable[str]], *, skip_empty: bool = False) -> Baskets:
        """Baskets from any iterable of iterables of item names (items are trimmed; empty ones dropped).

        >>> Baskets.from_iterable([["a", " b "], ["b", "b"]]).basket(1)
        ['b']
        """
        builder = _Builder(skip_empty=skip_empty)
        chunk: list[str] = []
        for basket in baskets:
            if isinstance(basket, str):
                raise UsageError(f"a basket must be a list of items, not the string {basket!r}")
            chunk.extend(map(_item_name, basket))
            chunk.append(_MARK)
            if len(chunk) >= 1 << 16:
                builder.add_tokens(chunk)
                chunk = []
        builder.add_tokens(chunk)
        return builder.finish()


def space_separated_hint(items: Sequence[str], longest: int) -> str | None:
    """:meth:`Baskets.space_separated_hint` from the item names and the most items in one basket."""
    if longest != 1 or not all(" " in name or "\t" in name for name in items):
        return None
    return (
        "every basket has a single item with spaces in it (such as "
        f"{items[0]!r}); if items are separated by spaces, use --format fimi"
    )


def _item_name(item: object) -> str:
    name = str(item)
    if _MARK in name:
        raise UsageError(f"item names cannot contain the NUL character: {name!r}")
    return name


# --------------------------------------------------------------------------- interning


class _Interner:
    """Strings to dense ids in order of first appearance, trimming each distinct raw string once.

    ``ids(tokens)`` maps a list of raw tokens to an int64 array: the id of the
    trimmed string, ``_SKIP_ID`` for strings that are empty once trimmed and
    ``_MARK_ID`` for the line-end marker. Lookups run in C (``map`` over a
    ``defaultdict`` whose default factory hands out the next raw id).
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self._raw: defaultdict[str, int] = defaultdict()
        self._raw.default_factory = self._raw.__len__
        self._raw_to_id = np.empty(0, np.int64)
        self.ids([_MARK, ""])  # raw ids 0 and 1

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        known = len(self._raw_to_id)
        raw = np.fromiter(map(self._raw.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        if len(self._raw) > known:
            self._learn(raw, tokens, known)
        return self._raw_to_id[raw]

    def intern(self, name: str) -> int:
        """The id of an already trimmed, non-empty name (a new id if unseen)."""
        item_id = self._ids.get(name)
        if item_id is None:
            item_id = self._ids[name] = len(self.names)
            self.names.append(name)
        return item_id

    def _learn(self, raw: np.ndarray, tokens: Sequence[str], known: int) -> None:
        fresh, first = np.unique(raw[raw >= known], return_index=True)
        positions = np.flatnonzero(raw >= known)[first]
        mapped = np.empty(len(fresh), np.int64)
        for slot, position in enumerate(positions.tolist()):
            token = tokens[position]
            name = token.strip()
            if token == _MARK:
                mapped[slot] = _MARK_ID
            elif not name:
                mapped[slot] = _SKIP_ID
            else:
                mapped[slot] = self.intern(name)
        grown = np.empty(len(self._raw), np.int64)
        grown[:known] = self._raw_to_id
        grown[fresh] = mapped
        self._raw_to_id = grown


class _NumberInterner:
    """Non-negative integers (written without leading zeros) to the ids of their decimal names.

    A lookup table indexed by the number replaces string hashing for files
    whose items are all numbers (FIMI data); names stay shared with ``items``,
    so a number read as text elsewhere gets the same id.
    """

    LIMIT = 1 << 22  # largest number handled by the table

    def __init__(self, items: _Interner) -> None:
        self.items = items
        self._table = np.full(0, -1, np.int64)

    def ids(self, numbers: np.ndarray) -> np.ndarray:
        """Ids of ``numbers``; negative numbers are line-end markers (mapped to ``_MARK_ID``)."""
        top = int(numbers.max(initial=-1))
        if top >= len(self._table):
            grown = np.full(max(top + 1, 2 * len(self._table)), -1, np.int64)
            grown[: len(self._table)] = self._table
            self._table = grown
        is_item = numbers >= 0
        items = numbers[is_item]
        ids = np.full(len(numbers), _MARK_ID, np.int64)
        ids[is_item] = self._table[items]
        unseen = items[ids[is_item] < 0]
        if len(unseen):
            low = int(unseen.min())
            present = np.zeros(int(unseen.max()) + 1 - low, bool)
            present[unseen - low] = True
            for number in (np.flatnonzero(present) + low).tolist():
                self._table[number] = self.items.intern(str(number))
            ids[is_item] = self._table[items]
        return ids


# separator -> (pattern of a chunk of numbers, the characters in it that are not digits)
_NUMERIC_CHUNK = {
    None: (re.compile(r"[0-9 \t\n]*"), " \t\n"),  # whitespace-separated numbers
    ",": (re.compile(r"[0-9,\n]*"), ",\n"),
    ";": (re.compile(r"[0-9;\n]*"), ";\n"),
    "\t": (re.compile(r"[0-9\t\n]*"), "\t\n"),
}
_POWERS_OF_TEN = 10 ** np.arange(1, 19, dtype=np.int64)


def _parse_numbers(chunk: str, sep: str | None) -> np.ndarray | None:
    """The items of a chunk made only of numbers, with -1 at each line end; None if the chunk is not that.

    Every number must be written canonically (no leading zeros, no sign), so
    that the number identifies its name, and stay below the interner's table limit.
    """
    pattern, separators = _NUMERIC_CHUNK.get(sep, (None, ""))
    if pattern is None or not pattern.fullmatch(chunk):
        return None
    text = chunk.replace("\n", " -1 ")
    if sep is not None and sep != "\t":
        text = text.replace(sep, " ")
    numbers = np.fromstring(text, dtype=np.int64, sep=" ")
    items = numbers[numbers >= 0]
    if len(items) and items.max() >= _NumberInterner.LIMIT:
        return None
    digits = int(np.searchsorted(_POWERS_OF_TEN, items, side="right").sum()) + len(items)
    if digits != len(chunk) - sum(map(chunk.count, separators)):  # some number had leading zeros
        return None
    return numbers


# --------------------------------------------------------------------------- building CSR


class _Builder:
    """Accumulates parsed blocks into CSR arrays (item ids deduplicated and sorted per basket)."""

    def __init__(self, *, skip_empty: bool = False) -> None:
        self.items = _Interner()
        self.numbers = _NumberInterner(self.items)
        self.skip_empty = skip_empty
        self._lengths: list[np.ndarray] = []
        self._indices: list[np.ndarray] = []
        self.empty_baskets = 0
        # long format: (basket, item) pairs gathered over the whole input
        self.tids = _Interner()
        self._pair_baskets: list[np.ndarray] = []
        self._pair_items: list[np.ndarray] = []

    def add_lines(self, chunk: str, sep: str | None) -> None:
        """Add the baskets of a chunk of whole lines: items separated by ``sep``, or whitespace if None."""
        numbers = _parse_numbers(chunk, sep)
        if numbers is not None:
            self._add_ids(self.numbers.ids(numbers))
        elif sep is None:
            self.add_tokens(chunk.replace("\n", f" {_MARK} ").split())
        elif len(sep) == 1 and '"' in chunk:
            self.add_tokens(_csv_tokens(chunk, sep))
        else:
            self.add_tokens(chunk.replace("\n", f"{sep}{_MARK}{sep}").split(sep))

    def add_tokens(self, tokens: Sequence[str]) -> None:
        """Add baskets given as item tokens, each basket closed by the ``_MARK`` token."""
        self._add_ids(self.items.ids(tokens))

    def _add_ids(self, ids: np.ndarray) -> None:
        ends = ids == _MARK_ID
        n = int(np.count_nonzero(ends))
        if n == 0:
            return
        basket_of = np.cumsum(ends) - ends  # baskets closed before each token
        keep = ids >= 0
        self._add(basket_of[keep], ids[keep], n)

    def _add(self, basket_of: np.ndarray, item_ids: np.ndarray, n: int) -> None:
        """Add ``n`` baskets given as (basket number 0..n-1, item id) pairs."""
        basket_of, item_ids = _unique_pairs(basket_of, item_ids)
        lengths = np.bincount(basket_of, minlength=n)
        empty = int(np.count_nonzero(lengths == 0))
        self.empty_baskets += empty
        if self.skip_empty and empty:
            lengths = lengths[lengths > 0]
        self._lengths.append(lengths)
        self._indices.append(item_ids.astype(np.int32))

    def add_pairs(self, tids: Sequence[str], items: Sequence[str]) -> bool:
        """Long format: add rows (basket id, item); a basket's rows may be anywhere in the input.

        Returns False, adding nothing, when a basket id is blank.
        """
        basket_of = self.tids.ids(tids)
        if np.any(basket_of < 0):
            return False
        self._pair_baskets.append(basket_of)
        self._pair_items.append(self.items.ids(items))
        return True

    def finish(self) -> Baskets:
        if self._pair_baskets:
            baskets = np.concatenate(self._pair_baskets)
            items = np.concatenate(self._pair_items)
            keep = items >= 0
            self._add(baskets[keep], items[keep], len(self.tids.names))
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int64)
        indptr = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.concatenate(self._indices) if self._indices else np.zeros(0, np.int32)
        return Baskets(self.items.names, indptr, indices)


def _unique_pairs(basket_of: np.ndarray, item_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort (basket, item) pairs by basket then item and drop repeated items within a basket."""
    if len(item_ids) == 0:
        return basket_of.astype(np.int64), item_ids
    key = (basket_of.astype(np.int64) << 32) | item_ids.astype(np.int64)
    key.sort()
    if len(key) > 1:
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return key >> 32, key & 0xFFFFFFFF


# --------------------------------------------------------------------------- reading files


def format_for(path: str | None) -> str:
    """The default format of a file: ``fimi`` for ``.dat``, ``basket`` otherwise (also for stdin)."""
    return "fimi" if _suffix(path) in FIMI_SUFFIXES else "basket"


def default_sep(path: str | None) -> str:
    """The default separator of a file: a tab for ``.tsv``/``.tab``, a comma otherwise."""
    return "\t" if _suffix(path) in TAB_SUFFIXES else ","


def _suffix(path: str | None) -> str:
    if path is None:
        return ""
    return data_suffix(os.path.basename(path).lower())


def read_baskets(
    inputs: Sequence[str] | str,
    *,
    format: str | None = None,
    sep: str | None = None,
    tid: str | None = None,
    item: str | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    skip_empty: bool = False,
    stats: DecodeStats | None = None,
) -> Baskets:
    """Read baskets from files (paths, globs, directories, ``-`` for stdin).

    ``format`` is ``basket``, ``fimi`` or ``long``; by default each file's
    suffix decides (``.dat`` is FIMI, anything else one basket per line).
    ``sep`` separates items (``basket``) or columns (``long``); the default is
    a tab for ``.tsv`` files and a comma otherwise. ``tid`` and ``item`` name
    the long format's columns. Repeated items count once per basket; empty
    lines are empty baskets (they count in the total) unless ``skip_empty``.
    Several inputs are read as if concatenated (long-format basket ids are
    shared across files). Raises :class:`InputError` for malformed input
    (with the file and line) and :class:`UsageError` for impossible options.
    """
    check_read_options(format, sep, tid, item)
    stats = stats if stats is not None else DecodeStats()
    builder = _Builder(skip_empty=skip_empty)
    names = []
    for source in resolve_inputs(inputs):
        fmt = format or format_for(source.path)
        blocks = iter_blocks(source, encoding, errors, stats=stats)
        if fmt == "long":
            _read_long(blocks, builder, source, sep or default_sep(source.path), tid, item)
        else:
            _read_lines(blocks, builder, line_separator(fmt, sep, source.path), source.name)
        names.append(source.name)
    baskets = builder.finish()
    check_found(names, baskets.n_baskets, baskets.n_items, builder.empty_baskets)
    return baskets


def check_read_options(format: str | None, sep: str | None, tid: str | None, item: str | None) -> None:
    """Raise :class:`UsageError` for reading options that cannot work: an unknown ``format``, a ``sep`` that is
    empty or holds a quote or a line break, ``tid`` or ``item`` without the long format."""
    if format is not None and format not in FORMATS:
        raise UsageError(f"unknown basket format {format!r}; choose from {', '.join(FORMATS)}")
    if sep is not None:
        _check_sep(sep)
    if (tid is not None or item is not None) and format != "long":
        raise UsageError("--tid and --item name the columns of --format long")


def line_baskets(blocks: Iterable[str], sep: str | None, name: str, *, skip_empty: bool = False) -> tuple[Baskets, int]:
    """The baskets of decoded ``blocks`` of the input ``name``, one a line (items separated by ``sep``; ``None``:
    whitespace), with ids of their own; and how many empty baskets ``skip_empty`` left out."""
    builder = _Builder(skip_empty=skip_empty)
    _read_lines(blocks, builder, sep, name)
    return builder.finish(), builder.empty_baskets


def line_separator(fmt: str, sep: str | None, path: str | None) -> str | None:
    """What separates the items of a line of a ``basket`` or ``fimi`` input at ``path``: ``sep`` or the file's
    default (``None``: whitespace, FIMI). Raises :class:`UsageError` for ``sep`` with ``fimi``."""
    if fmt != "fimi":
        return sep or default_sep(path)
    if sep is not None:
        raise UsageError("--sep does not apply to --format fimi (items are separated by whitespace)")
    return None


def check_found(names: Sequence[str], n_baskets: int, n_items: int, empty_baskets: int) -> None:
    """Raise :class:`InputError` when the inputs named ``names`` held no basket (``empty_baskets`` were
    skipped) or no item."""
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if n_baskets == 0:
        if empty_baskets:
            raise InputError(f"{shown} has only empty baskets ({empty_baskets:,}, skipped by --skip-empty)")
        raise InputError(f"{shown} is empty: no baskets to mine")
    if n_items == 0:
        raise InputError(f"{shown} has {n_baskets:,} baskets but no items: only empty lines")


def _check_sep(sep: str) -> None:
    if not sep or "\n" in sep or "\r" in sep or '"' in sep or _MARK in sep:
        raise UsageError(f"--sep must be a non-empty string without quotes or line breaks, got {sep!r}")


def _complete_lines(blocks: Iterable[str], quoted: bool, name: str) -> Iterator[str]:
    """Regroup decoded blocks into chunks that end with a line end (outside CSV quotes).

    A line split across blocks is carried to the next chunk; with ``quoted``, a
    chunk that would end inside an open ``"..."`` field (an odd number of
    quotes so far) grows until the quotes balance, up to ``MAX_QUOTED_CHARS``.
    The last chunk gets a final ``\\n`` if the input lacked one.
    """
    carry: list[str] = []
    carried = quotes = 0
    for block in blocks:
        if _MARK in block:  # possible only in UTF-16/32 text; the parser uses it as its line-end marker
            raise InputError(f"{name} has a NUL character; remove it or pick the right --encoding")
        end = block.rfind("\n") + 1
        head, tail = block[:end], block[end:]
        if quoted:
            quotes += head.count('"')
        if end == 0 or (quotes % 2 and carried + end < MAX_QUOTED_CHARS):
            carry.append(block)
            carried += len(block)
            quotes += tail.count('"') if quoted else 0
            continue
        carry.append(head)
        yield "".join(carry)
        carry, carried = [tail], len(tail)
        quotes = tail.count('"') if quoted else 0
    rest = "".join(carry)
    if rest:
        yield rest if rest.endswith("\n") else rest + "\n"


def _read_lines(blocks: Iterable[str], builder: _Builder, sep: str | None, name: str) -> None:
    """One basket per line: items separated by ``sep``, or by whitespace when ``sep`` is None."""
    for chunk in _complete_lines(blocks, quoted=sep is not None and len(sep) == 1, name=name):
        builder.add_lines(chunk, sep)


def _csv_tokens(chunk: str, sep: str) -> list[str]:
    """Tokens of a chunk with CSV quoting (``"a, b"``; ``""`` is a quote inside quotes), lines closed by ``_MARK``."""
    tokens: list[str] = []
    for row in csv.reader(io.StringIO(chunk, newline=""), delimiter=sep, strict=False):
        tokens.extend(row)
        tokens.append(_MARK)
    return tokens


# --------------------------------------------------------------------------- long format


def _read_long(
    blocks: Iterable[str], builder: _Builder, source: Source, sep: str, tid: str | None, item: str | None
) -> None:
    chunks = _complete_lines(blocks, quoted=len(sep) == 1, name=source.name)
    header_chunk = next(chunks, "")
    header_line, _, first_rows = header_chunk.partition("\n")
    if not header_line.strip():
        raise InputError(
            f"{source.name} has no header line; --format long needs one naming the basket id and item columns "
            f"(e.g. tid{sep}item)"
        )
    header = _split_header(header_line, sep)
    tid_col, item_col = _long_columns(header, tid, item, source.name)
    line = 2  # line number of the first row of the next chunk
    for chunk in _prepend(first_rows, chunks):
        columns = _long_columns_of(chunk, sep, len(header))
        if columns is None:
            columns = _long_columns_checked(chunk, sep, header, source.name, line)
        if not builder.add_pairs(columns[tid_col], columns[item_col]):
            offset = next(o for o, row in _long_rows(chunk, sep) if _is_row(row) and not row[tid_col].strip())
            raise InputError(f"{source.name} line {line + offset}: empty basket id ({header[tid_col]!r} column)")
        line += chunk.count("\n")


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _split_header(line: str, sep: str) -> list[str]:
    if '"' in line and len(sep) == 1:
        return [f.strip() for f in next(csv.reader([line], delimiter=sep))]
    return [f.strip() for f in line.split(sep)]


def _long_columns(header: list[str], tid: str | None, item: str | None, name: str) -> tuple[int, int]:
    """Positions of the basket id and item columns in ``header``."""
    shown = ", ".join(repr(h) for h in header)
    if tid is None or item is None:
        if len(header) != 2:
            raise InputError(
                f"{name} line 1: the header has {len(header)} column(s) ({shown}); "
                "name the basket id and item columns with --tid and --item"
            )
        if tid is None and item is None:
            return 0, 1
    positions = {}
    for option, wanted in (("--tid", tid), ("--item", item)):
        if wanted is not None:
            if wanted not in header:
                raise InputError(f"{name} line 1: no column {wanted!r} (from {option}) in the header ({shown})")
            positions[option] = header.index(wanted)
    tid_col = positions.get("--tid", 1 - positions.get("--item", 1))
    item_col = positions.get("--item", 1 - tid_col)
    if tid_col == item_col:
        raise UsageError("--tid and --item must name different columns")
    return tid_col, item_col


def _long_columns_of(chunk: str, sep: str, n_cols: int) -> list[list[str]] | None:
    """Fast path: the columns of a chunk without quotes or blank lines whose rows all have ``n_cols`` fields."""
    if '"' in chunk or "\n\n" in chunk or chunk.startswith("\n"):
        return None
    lines = chunk[:-1].split("\n")
    widths = np.fromiter(map(str.count, lines, repeat(sep)), dtype=np.int64, count=len(lines))
    if not np.all(widths == n_cols - 1):
        return None
    fields = chunk[:-1].replace("\n", sep).split(sep)
    return [fields[c::n_cols] for c in range(n_cols)]


def _long_columns_checked(chunk: str, sep: str, header: list[str], name: str, line: int) -> list[list[str]]:
    """The columns of a chunk row by row: blank lines skipped, CSV quotes honoured, widths checked."""
    columns: list[list[str]] = [[] for _ in header]
    for offset, row in _long_rows(chunk, sep):
        if not _is_row(row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{name} line {line + offset}: expected {len(header)} fields ({', '.join(header)}) "
                f"separated by {sep!r}, found {len(row)}"
            )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _long_rows(chunk: str, sep: str) -> Iterator[tuple[int, list[str]]]:
    """(line offset in the chunk, fields) of each record of a chunk, blank ones included."""
    if '"' in chunk and len(sep) == 1:
        reader = csv.reader(io.StringIO(chunk, newline=""), delimiter=sep, strict=False)
        start = 0
        for row in reader:
            yield start, row
            start = reader.line_num
    else:
        for offset, text in enumerate(chunk[:-1].split("\n")):
            yield offset, text.split(sep)


def _is_row(fields: list[str]) -> bool:
    return any(f.strip() for f in fields)
