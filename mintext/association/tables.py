"""Writing frequent itemsets and association rules as CSV, TSV or JSON Lines.

Rows are built level by level (or rule block by block) from arrays of item ids:
each item name is escaped once, counts and supports are formatted once per
distinct value, and whole rows are joined in C (``str.join`` over ``zip``).

Conventions:

- CSV and TSV start with a header line; a field is quoted (RFC 4180, ``""``
  for a quote) only when it contains the delimiter, a quote or a line break.
- The items of an itemset, antecedent or consequent are joined by
  ``item_sep`` (default ``|``) in CSV and TSV, and are a list of strings in
  JSON Lines. An item that contains ``item_sep`` is refused
  (:func:`check_item_sep`): its sets could not be told from others.
- Floats are written in the shortest form that reads back to the same value
  (Python's ``repr``); infinite and undefined values are ``inf`` and ``nan``
  in CSV and TSV, ``null`` in JSON Lines.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TextIO

import numpy as np

from mintext.association.itemsets import ITEMSET_COLUMNS, FrequentItemsets, Level
from mintext.association.rules import COLUMNS as RULE_COLUMNS
from mintext.association.rules import RuleBlock
from mintext.errors import UsageError

OUTPUT_FORMATS = ("csv", "tsv", "jsonl")
ROWS_PER_WRITE = 1 << 16
_DELIMITERS = {"csv": ",", "tsv": "\t"}


def check_item_sep(items: Sequence[str], item_sep: str, output_format: str) -> None:
    """Refuse (:class:`UsageError`) an ``item_sep`` that an item name contains, in csv and tsv: ``a|b`` would
    read the same as the itemset of ``a`` and ``b``. ``items`` are the names that may be written."""
    if output_format not in _DELIMITERS:
        return
    if not item_sep:
        raise UsageError("--item-sep must not be empty: the items of a set would run together")
    clash = next((name for name in items if item_sep in name), None)
    if clash is not None:
        raise UsageError(
            f"item {clash!r} contains the --item-sep {item_sep!r}, so its itemsets would read like others; "
            "choose another --item-sep or use --output-format jsonl"
        )


class TableWriter:
    """Writes itemsets or rules to a text stream in one of ``OUTPUT_FORMATS``."""

    def __init__(self, out: TextIO, items: list[str], *, output_format: str = "csv", item_sep: str = "|") -> None:
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}")
        self.out = out
        self.format = output_format
        self.item_sep = item_sep
        self.delimiter = _DELIMITERS.get(output_format)
        if self.delimiter is None:
            self.names = np.array([json.dumps(name, ensure_ascii=False) for name in items], dtype=object)
        else:
            self.names = np.array(items, dtype=object)
            self.quoted = np.array([self._needs_quotes(name) for name in items], dtype=bool)
            self.sep_quoted = self._needs_quotes(item_sep)

    # ----------------------------------------------------------------- fields

    def _needs_quotes(self, text: str) -> bool:
        return any(c in text for c in (self.delimiter, '"', "\n", "\r"))

    def _itemset_fields(self, matrix: np.ndarray) -> list[str]:
        """The field for each row of an (n, k) matrix of item ids."""
        columns = [self.names[column].tolist() for column in matrix.T]
        if self.delimiter is None:
            return ["[" + ", ".join(row) + "]" for row in zip(*columns, strict=True)]
        fields = list(map(self.item_sep.join, zip(*columns, strict=True)))
        quote = self.quoted[matrix].any(axis=1) if matrix.size else np.zeros(len(matrix), bool)
        if self.sep_quoted and matrix.shape[1] > 1:
            quote[:] = True
        for row in np.flatnonzero(quote).tolist():
            fields[row] = '"' + fields[row].replace('"', '""') + '"'
        return fields

    def _floats(self, values: np.ndarray) -> list[str]:
        """Shortest round-trip text of each value, formatted once per distinct value."""
        distinct, which = np.unique(values, return_inverse=True)
        texts = list(map(repr, distinct.tolist()))
        if self.delimiter is None:
            texts = [text if math.isfinite(value) else "null" for text, value in zip(texts, distinct.tolist(), strict=True)]
        return np.array(texts, dtype=object)[which].tolist()

    @staticmethod
    def _integers(values: np.ndarray) -> list[str]:
        distinct, which = np.unique(values, return_inverse=True)
        return np.array(list(map(str, distinct.tolist())), dtype=object)[which].tolist()

    def _row_texts(self, columns: list[list[str]], names: tuple[str, ...]) -> str:
        """Rows from columns of field texts, each row ending with a line end."""
        if not columns[0]:
            return ""
        if self.delimiter is not None:
            lines = map(self.delimiter.join, zip(*columns, strict=True))
        else:
            template = "{{" + ", ".join(f'"{name}": {{}}' for name in names) + "}}"  # {{ }}: literal braces
            lines = map(template.format, *columns)
        return "\n".join(lines) + "\n"

    def _header(self, names: tuple[str, ...]) -> None:
        if self.delimiter is not None:
            self.out.write(self.delimiter.join(names) + "\n")

    # ----------------------------------------------------------------- tables

    def itemsets(self, found: FrequentItemsets) -> int:
        """Write every frequent itemset; returns the number of rows."""
        return self.itemset_blocks(found.levels, found.n_baskets)

    def itemset_blocks(self, blocks: Iterable[Level], n_baskets: int) -> int:
        """Write itemsets block by block as they come (each block: itemsets of one length and their counts in
        ``n_baskets`` baskets); returns the number of rows."""
        self._header(ITEMSET_COLUMNS)
        written = 0
        for level in blocks:
            length = str(level.itemsets.shape[1])
            for start in range(0, len(level), ROWS_PER_WRITE):
                part = slice(start, start + ROWS_PER_WRITE)
                rows = self._itemset_fields(level.itemsets[part])
                counts = level.counts[part]
                columns = [rows, [length] * len(rows), self._integers(counts), self._floats(counts / n_baskets)]
                self.out.write(self._row_texts(columns, ITEMSET_COLUMNS))
                written += len(rows)
        return written

    def rules(self, blocks: Iterable[RuleBlock]) -> int:
        """Write rules block by block; returns the number of rows."""
        self._header(RULE_COLUMNS)
        written = 0
        for block in blocks:
            for start in range(0, len(block), ROWS_PER_WRITE):
                part = block.take(slice(start, start + ROWS_PER_WRITE))
                left, right = part.sides(self._itemset_fields)
                columns = [left, right, self._integers(part.count)]
                columns.extend(self._floats(values) for values in part.metrics().values())
                self.out.write(self._row_texts(columns, RULE_COLUMNS))
                written += len(part)
        return written
