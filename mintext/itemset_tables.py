"""Writing frequent itemsets and association rules as CSV, TSV or JSON Lines.

Rows are built level by level (or rule block by block) from arrays of item ids:
each item name is escaped once, counts and supports are formatted once per
distinct value, and whole rows are joined in C (``str.join`` over ``zip``).

Conventions:

- CSV and TSV start with a header line; a field is quoted (RFC 4180, ``""``
  for a quote) only when it contains the delimiter, a quote or a line break.
- The items of an itemset, antecedent or consequent are joined by
  ``item_sep`` (default ``|``) in CSV and TSV, and are a list of strings in
  JSON Lines.
- Floats are written in the shortest form that reads back to the same value
  (Python's ``repr``); infinite and undefined values are ``inf`` and ``nan``
  in CSV and TSV, ``null`` in JSON Lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

import numpy as np

from mintext.itemsets import FrequentItemsets
from mintext.rules import COLUMNS as RULE_COLUMNS
from mintext.rules import RuleBlock

OUTPUT_FORMATS = ("csv", "tsv", "jsonl")
ITEMSET_COLUMNS = ("itemset", "length", "count", "support")
ROWS_PER_WRITE = 1 << 16
_DELIMITERS = {"csv": ",", "tsv": "\t"}


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
        texts = list(map(repr, values.tolist()))
        if self.delimiter is None and not np.all(np.isfinite(values)):
            for at in np.flatnonzero(~np.isfinite(values)).tolist():
                texts[at] = "null"
        return texts

    def _row_texts(self, columns: list[list[str]], names: tuple[str, ...]) -> str:
        if self.delimiter is not None:
            return "".join(f"{line}\n" for line in map(self.delimiter.join, zip(*columns, strict=True)))
        keys = [f'"{name}": ' for name in names]
        pieces = []
        for row in zip(*columns, strict=True):
            pieces.append("{" + ", ".join(key + value for key, value in zip(keys, row, strict=True)) + "}\n")
        return "".join(pieces)

    def _header(self, names: tuple[str, ...]) -> None:
        if self.delimiter is not None:
            self.out.write(self.delimiter.join(names) + "\n")

    # ----------------------------------------------------------------- tables

    def itemsets(self, found: FrequentItemsets) -> int:
        """Write every frequent itemset; returns the number of rows."""
        self._header(ITEMSET_COLUMNS)
        written = 0
        for length, level in enumerate(found.levels, start=1):
            distinct, which = np.unique(level.counts, return_inverse=True)
            count_texts = np.array(list(map(str, distinct.tolist())), dtype=object)
            support_texts = np.array(self._floats(distinct / found.n_baskets), dtype=object)
            for start in range(0, len(level), ROWS_PER_WRITE):
                part = slice(start, start + ROWS_PER_WRITE)
                rows = self._itemset_fields(level.itemsets[part])
                columns = [rows, [str(length)] * len(rows), count_texts[which[part]].tolist(),
                           support_texts[which[part]].tolist()]
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
                columns = [left, right, list(map(str, part.count.tolist()))]
                columns.extend(self._floats(values) for values in part.metrics().values())
                self.out.write(self._row_texts(columns, RULE_COLUMNS))
                written += len(part)
        return written
