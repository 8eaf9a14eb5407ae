"""Segmenting text with a word model: maximum-probability paths, vectorised over many lines.

A :class:`Segmenter` holds word counts (from a lexicon or from discovery)
and the spelling model of :mod:`mintext.discovery.wordmodel`, so a word it has never
seen can still be found when it is cheaper than spelling it as single
characters. Lines are pre-tokenised (:mod:`mintext.io.chars`): Han runs are
segmented, runs of digits/letters and punctuation marks are kept as tokens.
Each output line has the tokens of the input line separated by one space; its
non-space characters are exactly those of the input line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mintext.discovery.gaps import GapEvidence
from mintext.discovery.lattice import Runs, best_word_lengths, concatenated_ranges, length_spans
from mintext.discovery.wordmodel import BaseDistribution, ModelParameters, Spelling
from mintext.io.chars import HAN, codepoints, pretokenize
from mintext.ngrams.counting import run_remaining
from mintext.ngrams.lookup import CodeIndex
from mintext.ngrams.vocabulary import CharVocabulary, pack_at, pack_rows

SPACE, NEWLINE = np.uint32(ord(" ")), np.uint32(ord("\n"))
BATCH_CHARS = 1 << 20  # characters segmented at once by segment_text


@dataclass
class SegmentedBatch:
    """Segmented lines, plus the Han words found (as id rows by length) for counting."""

    text: str
    words: dict[int, np.ndarray]


class Segmenter:
    """Maximum-probability segmentation under a Pitman-Yor unigram word model.

    ``words``: per length L, an ``(m, L)`` array of character ids (of
    ``vocabulary``); ``counts``: their counts; ``banned`` (optional): words
    that may never be used. Characters outside the vocabulary get the id
    ``vocabulary.size + 1`` and are spelled by the base distribution.
    """

    def __init__(
        self,
        vocabulary: CharVocabulary,
        words: dict[int, np.ndarray],
        counts: dict[int, np.ndarray],
        *,
        banned: dict[int, np.ndarray] | None = None,
        params: ModelParameters = ModelParameters(),
        evidence: GapEvidence | None = None,
        base: BaseDistribution | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.evidence = evidence
        self.params = params
        self.max_len = max((n for n, w in words.items() if len(w)), default=1)
        self.unknown_id = vocabulary.size + 1
        self.bits = max(1, self.unknown_id.bit_length())
        if self.max_len * self.bits > 64:
            self.max_len = 64 // self.bits
        self._table = self._char_table()
        banned = banned or {}
        tokens = float(sum(np.sum(counts[n]) for n in counts if n <= self.max_len))
        types = int(sum(np.count_nonzero(counts[n]) for n in counts if n <= self.max_len))
        self.base = base or BaseDistribution.from_words(vocabulary, words, counts, params, self.max_len)
        self._spelling = Spelling.of(self.base, tokens, types, params)
        # one cost per character id (unknown characters included); 0 is the separator
        self._char_cost = self._spelling(np.arange(self.unknown_id + 1, dtype=np.int64)[:, None])
        self._char_cost[0] = np.inf
        codes, costs = [], []
        for n in range(1, self.max_len + 1):
            if n not in words or len(words[n]) == 0:
                continue
            ids = np.asarray(words[n], dtype=np.int64)
            count = np.asarray(counts[n], dtype=np.float64)
            ban = np.asarray(banned[n], dtype=bool) if n in banned else np.zeros(count.size, dtype=bool)
            cost = self._spelling.word_costs(count, ids, params.discount)
            cost[ban] = np.inf
            if n == 1:
                self._char_cost[ids[:, 0]] = cost
                continue
            # a word without cached mass costs its spelling, which needs no lookup
            keep = (count > params.discount) | ban
            codes.append(pack_rows(ids[keep], self.bits))
            costs.append(cost[keep])
        self._codes = np.concatenate(codes) if codes else np.zeros(0, np.uint64)
        self._costs = np.concatenate(costs) if costs else np.zeros(0)
        self._index = CodeIndex(self._codes)

    def _char_table(self) -> np.ndarray:
        table = np.full(0x110000, self.unknown_id, dtype=np.uint32)
        table[self.vocabulary.codepoints] = np.arange(1, self.vocabulary.size + 1, dtype=np.uint32)
        return table

    def __repr__(self) -> str:
        return f"Segmenter({self._codes.size} cached words, max length {self.max_len}, {self.vocabulary.size} characters)"

    # ------------------------------------------------------------------ runs

    def cost_matrix(self, ids: np.ndarray) -> np.ndarray:
        """``costs[L - 1, i]``: cost of the word of length L starting at i (inf across run ends)."""
        n = ids.size
        ids64 = ids.astype(np.int64)
        costs = np.full((self.max_len, n), np.inf)
        costs[0] = self._char_cost[ids64]
        if self.max_len > 1:
            logs = self.base.position_logs(ids)
            remaining = run_remaining(ids)
            for length in range(2, self.max_len + 1):
                start = np.flatnonzero(remaining >= length)
                if start.size == 0:
                    break
                value = self._spelling.along(logs, length)[start]  # the word model's costs, bit for bit
                codes = pack_at(ids64, start, length, self.bits)
                rows = self._index.find(codes)
                known = rows >= 0
                value[known] = self._costs[rows[known]]
                costs[length - 1, start] = value
        if self.evidence is not None and self.evidence.weight:
            self._add_evidence(costs, ids)
        return costs

    def _add_evidence(self, costs: np.ndarray, ids: np.ndarray) -> None:
        """Add the gap evidence; characters unknown to the statistics count as run breaks there."""
        known = np.where(ids < self.unknown_id, ids, 0).astype(np.uint32)
        self.evidence.add_word_costs(costs, self.evidence.text_scores(known))

    def segment_ids(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, lengths)`` of the words of the best segmentation of an id chunk (0 after each run)."""
        lengths, _ = best_word_lengths(self.cost_matrix(ids), Runs.of(ids))
        return length_spans(lengths)

    # ------------------------------------------------------------------ text

    def segment_batch(self, pieces: list[tuple[str, bool]]) -> SegmentedBatch:
        """Segment ``(text, ends_line)`` pieces; returns the output text and the words found."""
        # pieces are joined with newlines so that no token spans two pieces
        text = "\n".join(p for p, _ in pieces)
        cps = codepoints(text)
        starts, ends, kinds = pretokenize(text)
        piece_end = np.cumsum([len(p) + 1 for p, _ in pieces], dtype=np.int64) - 1
        # the Han tokens become runs of an id chunk (a 0 after each)
        han = np.flatnonzero(kinds == HAN)
        han_len = ends[han] - starts[han]
        chunk = np.zeros(int(han_len.sum()) + han.size, dtype=np.uint32)
        where = np.arange(chunk.size - han.size) + np.repeat(np.arange(han.size), han_len)
        source = concatenated_ranges(starts[han], han_len)
        chunk[where] = self._table[cps[source]]
        word_start, word_len = self.segment_ids(chunk) if chunk.size else (np.zeros(0, np.int64),) * 2
        words = _words_by_length(chunk, word_start, word_len, self.max_len)
        # final tokens: non-Han tokens, plus the Han words mapped back to text offsets
        chunk_to_text = np.empty(chunk.size, dtype=np.int64)
        chunk_to_text[where] = source
        token_start = np.concatenate([starts[kinds != HAN], chunk_to_text[word_start]])
        token_len = np.concatenate([(ends - starts)[kinds != HAN], word_len])
        order = np.argsort(token_start, kind="stable")
        token_start, token_len = token_start[order], token_len[order]
        return SegmentedBatch(_render(cps, token_start, token_len, piece_end, [e for _, e in pieces]), words)

    def segment_lines(self, lines: Iterable[str]) -> list[str]:
        """Segment whole lines (no newlines inside); returns one output line (without ``\\n``) per input line."""
        lines = list(lines)
        if not lines:
            return []
        out = self.segment_batch([(line, True) for line in lines]).text
        return out.split("\n")[:-1]

    def segment_text(self, pieces: Iterable[tuple[str, bool]], batch_chars: int = BATCH_CHARS) -> Iterator[SegmentedBatch]:
        """Segment a stream of ``(text, ends_line)`` line pieces in batches of about ``batch_chars`` characters.

        A batch ends before the piece that would take it past ``batch_chars``
        characters, even in the middle of a line: pieces are segmented
        independently of their neighbours (:meth:`segment_batch`), so the
        output does not depend on where batches end, and a batch holds at most
        ``batch_chars`` characters or one piece, however long the line (pieces
        of a long line come from :func:`~mintext.io.sources.iter_lines`, at
        most ``MAX_LINE_CHARS`` each).
        """
        held = False  # the last text yielded ended with a separator held back (see _joined)
        for batch in self._batches(pieces, batch_chars):
            text, held = _joined(batch.text, held)
            yield SegmentedBatch(text, batch.words)

    def _batches(self, pieces: Iterable[tuple[str, bool]], batch_chars: int) -> Iterator[SegmentedBatch]:
        """:meth:`segment_batch` of consecutive pieces, about ``batch_chars`` characters at a time."""
        batch: list[tuple[str, bool]] = []
        size = 0
        for piece in pieces:
            if batch and size + len(piece[0]) + 1 > batch_chars:
                yield self.segment_batch(batch)
                batch, size = [], 0
            batch.append(piece)
            size += len(piece[0]) + 1
        if batch:
            yield self.segment_batch(batch)


def _joined(text: str, held: bool) -> tuple[str, bool]:
    """A batch's rendered ``text`` as it joins the output so far, and whether its last separator is held back.

    A piece that does not end its line ends with the separator after its last
    token; when the rest of the line brings no token (a line that ends in
    whitespace, cut inside it), that separator would stand before the newline,
    where the whole line has none. So a separator before a newline is dropped,
    and one that ends a batch is held until the next batch shows what follows.
    """
    text = text.replace(" \n", "\n")
    if not text:
        return text, held
    if held and not text.startswith("\n"):
        text = " " + text
    if text.endswith(" "):
        return text[:-1], True
    return text, False


def _words_by_length(chunk: np.ndarray, starts: np.ndarray, lengths: np.ndarray, max_len: int) -> dict[int, np.ndarray]:
    words = {}
    for n in range(1, max_len + 1):
        pick = starts[lengths == n]
        words[n] = np.stack([chunk[pick + j] for j in range(n)], axis=1) if pick.size else np.zeros((0, n), np.uint32)
    return words


def _render(cps: np.ndarray, token_start: np.ndarray, token_len: np.ndarray, piece_end: np.ndarray, ends_line: list[bool]) -> str:
    """Tokens separated by one space; a newline after each piece that ends a line."""
    piece_of_token = np.searchsorted(piece_end, token_start, side="right")
    pieces = piece_end.size
    ends_line_arr = np.asarray(ends_line, dtype=bool)
    tokens_in = np.bincount(piece_of_token, minlength=pieces)
    chars_in = np.bincount(piece_of_token, weights=token_len, minlength=pieces).astype(np.int64)
    # a piece takes its token characters plus one separator per token; an empty piece
    # that ends a line takes just its newline, one that does not takes nothing
    size = chars_in + tokens_in + ((tokens_in == 0) & ends_line_arr)
    piece_out = np.cumsum(size) - size
    out = np.full(int(size.sum()), SPACE, dtype=np.uint32)
    # position of each token in the output
    before = np.cumsum(token_len + 1) - (token_len + 1)
    first_of_piece = np.cumsum(tokens_in) - tokens_in
    within = before - np.repeat(before[first_of_piece[tokens_in > 0]], tokens_in[tokens_in > 0])
    token_out = piece_out[piece_of_token] + within
    out[token_out.repeat(token_len) + concatenated_ranges(np.zeros(token_len.size, np.int64), token_len)] = cps[concatenated_ranges(token_start, token_len)]
    line_end = np.flatnonzero(ends_line_arr)
    out[piece_out[line_end] + size[line_end] - 1] = NEWLINE
    return out.tobytes().decode("utf-32-le")
