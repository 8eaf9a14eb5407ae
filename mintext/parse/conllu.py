"""Reading and writing CoNLL-U (https://universaldependencies.org/format.html).

:func:`read_conllu` turns lines into :class:`ConlluSentence` objects: the
syntactic words (integer IDs) with their ten columns, the multiword-token
lines (``3-4``) kept for writing back, empty nodes (``8.1``) skipped, and the
``# sent_id`` / ``# text`` comments. :func:`format_conllu` writes a sentence
with predicted heads: ID, FORM, HEAD, DEPREL (``root`` for the root word,
``dep`` otherwise) and, when the sentence came from CoNLL-U, the input's
LEMMA, UPOS, XPOS, FEATS, MISC and multiword tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from mintext.errors import InputError

COLUMNS = 10
_EMPTY_NODE = re.compile(r"^\d+\.\d+$")
_RANGE = re.compile(r"^(\d+)-(\d+)$")


@dataclass
class ConlluSentence:
    """One sentence of a CoNLL-U file.

    ``rows`` holds the ten columns of each syntactic word, in order; ``ranges``
    maps the ID of the first word of a multiword token to that token's columns;
    ``line`` is the input line where the sentence starts (1-based).
    """

    rows: list[list[str]]
    sent_id: str | None = None
    text: str | None = None
    ranges: dict[int, list[str]] = field(default_factory=dict)
    line: int = 0

    @property
    def surface(self) -> str:
        """The sentence's text: ``# text`` when the file has it, else the FORMs, each followed by a space
        unless its MISC column says ``SpaceAfter=No``."""
        if self.text is not None:
            return self.text
        parts = []
        for row in self.rows:
            parts.append(row[1])
            if "SpaceAfter=No" not in row[9].split("|"):
                parts.append(" ")
        return "".join(parts).strip()

    @property
    def words(self) -> list[str]:
        """The FORM column of the syntactic words."""
        return [row[1] for row in self.rows]

    @property
    def upos(self) -> list[str]:
        """The UPOS column of the syntactic words."""
        return [row[3] for row in self.rows]

    @property
    def heads(self) -> list[int | None]:
        """The HEAD column as integers (``None`` where it is ``_``)."""
        return [None if row[6] == "_" else int(row[6]) for row in self.rows]

    def describe(self, name: str) -> str:
        """``sentence 3 (sent_id test-s3, line 40 of FILE)`` for messages."""
        sid = f"sent_id {self.sent_id}, " if self.sent_id else ""
        return f"({sid}line {self.line} of {name})"


def read_conllu(lines: Iterable[str], name: str = "<input>") -> Iterator[ConlluSentence]:
    """Sentences of a CoNLL-U text given as lines without their line ends.

    Raises :class:`InputError` naming ``name`` and the line for a token line
    without ten tab-separated columns, a bad ID or HEAD, or word IDs that do
    not run 1, 2, 3...
    """
    rows: list[list[str]] = []
    ranges: dict[int, list[str]] = {}
    sent_id = text = None
    start = 0
    number = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            if rows:
                yield ConlluSentence(rows, sent_id, text, ranges, start)
            elif ranges or sent_id is not None or text is not None:
                raise InputError(f"{name}, line {number}: sentence without words")
            rows, ranges, sent_id, text, start = [], {}, None, None, 0
            continue
        if not start:
            start = number
        if line.startswith("#"):
            key, sep, value = line[1:].partition("=")
            if sep and key.strip() == "sent_id":
                sent_id = value.strip()
            elif sep and key.strip() == "text":
                text = value.strip()
            continue
        columns = line.split("\t")
        if len(columns) != COLUMNS:
            raise InputError(f"{name}, line {number}: expected {COLUMNS} tab-separated columns, found {len(columns)} "
                             "(is it CoNLL-U?)")
        ident = columns[0]
        if _EMPTY_NODE.match(ident):
            continue
        match = _RANGE.match(ident)
        if match:
            ranges[int(match.group(1))] = columns
            continue
        if not ident.isdigit() or int(ident) != len(rows) + 1:
            raise InputError(f"{name}, line {number}: word ID {ident!r} where {len(rows) + 1} was expected")
        if columns[6] != "_" and not columns[6].isdigit():
            raise InputError(f"{name}, line {number}: HEAD {columns[6]!r} is not a number")
        rows.append(columns)
    if rows:
        yield ConlluSentence(rows, sent_id, text, ranges, start)
    elif ranges:
        raise InputError(f"{name}, line {number}: sentence without words")


def validate_heads(heads: Sequence[int]) -> str | None:
    """``None`` when ``heads`` (CoNLL-U numbering) form one tree, else what is wrong."""
    n = len(heads)
    if n == 0:
        return "no words"
    bad = [h for h in heads if not 0 <= h <= n]
    if bad:
        return f"head {bad[0]} out of range 0..{n}"
    roots = sum(1 for h in heads if h == 0)
    if roots != 1:
        return f"{roots} roots"
    for start in range(1, n + 1):
        node, steps = start, 0
        while node != 0:
            node = heads[node - 1]
            steps += 1
            if steps > n:
                return f"cycle through word {start}"
    return None


def format_conllu(
    words: Sequence[str],
    heads: Sequence[int],
    *,
    sent_id: str | None = None,
    text: str | None = None,
    source: ConlluSentence | None = None,
) -> str:
    """A CoNLL-U sentence (comments, one line per word, a blank line) with ``heads``.

    ``heads`` uses CoNLL-U numbering (0 = root). With ``source``, the input's
    LEMMA, UPOS, XPOS, FEATS and MISC columns and its multiword-token lines
    are kept. Raises ``ValueError`` if ``heads`` is not a tree.
    """
    problem = validate_heads(heads)
    if problem is not None or len(heads) != len(words):
        raise ValueError(f"not a dependency tree over {len(words)} words: {problem or 'length differs'}")
    lines = []
    if sent_id is not None:
        lines.append(f"# sent_id = {sent_id}")
    if text is not None:
        lines.append(f"# text = {text}")
    for i, (form, head) in enumerate(zip(words, heads, strict=True), 1):
        if source is not None and i in source.ranges:
            lines.append("\t".join(source.ranges[i]))
        extra = source.rows[i - 1] if source is not None else None
        lemma, upos, xpos, feats = extra[2:6] if extra else ("_", "_", "_", "_")
        misc = extra[9] if extra else "_"
        lines.append("\t".join([str(i), form, lemma, upos, xpos, feats, str(head), "root" if head == 0 else "dep", "_", misc]))
    return "\n".join(lines) + "\n\n"
