"""Training data: a corpus streamed into packed token sequences, and their dynamic masking.

:class:`SequenceStream` reads every source of a :class:`~mintext.io.sources.Corpus`
line by line, encodes the lines (:class:`~mintext.pretraining.vocab.Vocabulary`),
and cuts the token stream of each source into sequences of ``seq_len`` tokens,
``[CLS] ... [SEP]``, with a ``[SEP]`` between lines (packing: no padding, every
position is text). The sources are interleaved in proportion to their sizes
(counted by a first pass), so a small file given next to a large one is seen
throughout training, not only at its end, and a bounded shuffle buffer mixes
neighbouring sequences; memory does not grow with the corpus. Everything is
determined by the seed and the epoch: the stream of an epoch can be replayed,
which is how a resumed run finds its data position. Every ``HELD_OUT_EVERY``-th
of the first sequences is held out of training and scored at checkpoints.

:func:`mask_batch` masks 15% of the text tokens of each sequence (80% become
``[MASK]``, 10% a random token, 10% stay), a fresh draw for every batch of
every epoch; with word groups (from a mintext lexicon) it masks whole words.
The model predicts only the masked positions, so a batch carries their
positions, labels and weights (0 for unused slots).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from mintext.io.sources import Corpus, Source, iter_blocks, iter_lines
from mintext.pretraining.vocab import Vocabulary

HELD_OUT_EVERY = 50
SHUFFLE_BUFFER = 4096
MASK_RATE = 0.15

# (lines of one source) -> per line, the word group of each token (consecutive tokens of a word share a number)
WordGroups = Callable[[list[str]], list[list[int] | None]]


@dataclass
class Batch:
    """Inputs and targets of one training step (NumPy arrays, int32 / float32)."""

    token_ids: np.ndarray  # (batch, seq_len): the masked input
    positions: np.ndarray  # (batch, max_masked): masked positions (0 for unused slots)
    labels: np.ndarray  # (batch, max_masked): the original tokens there
    weights: np.ndarray  # (batch, max_masked): 1.0 for a masked position, 0.0 for an unused slot


def max_masked(seq_len: int) -> int:
    """How many masked positions a sequence of ``seq_len`` tokens has room for."""
    return max(1, math.ceil(MASK_RATE * (seq_len - 2)) + 1)


class SequenceStream:
    """Packed sequences of a corpus: ``(tokens, groups)`` int32 arrays of ``seq_len`` each.

    ``groups`` numbers the words of the sequence (each token its own word
    without ``word_groups``; -1 for ``[CLS]``/``[SEP]``). Call :meth:`count`
    once (a pass over the corpus) before :meth:`epoch`.
    """

    def __init__(self, corpus: Corpus, vocab: Vocabulary, seq_len: int, seed: int = 0,
                 word_groups: WordGroups | None = None, held_out: int = 256) -> None:
        if seq_len < 8:
            raise ValueError("seq_len must be at least 8")
        self.corpus = corpus
        self.vocab = vocab
        self.seq_len = seq_len
        self.seed = seed
        self.word_groups = word_groups
        self.held_out_count = held_out
        self.sequences_per_source: list[int] | None = None

    # ------------------------------------------------------------------ per source

    def _lines(self, source: Source) -> Iterator[str]:
        blocks = iter_blocks(source, self.corpus.encoding, self.corpus.errors, restartable=True, stats=self.corpus.stats)
        for text, _ in iter_lines(blocks, self.corpus.max_line_chars):
            yield text

    def _line_batches(self, source: Source, size: int = 256) -> Iterator[list[str]]:
        batch: list[str] = []
        for line in self._lines(source):
            if line.strip():
                batch.append(line)
                if len(batch) == size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _source_sequences(self, source: Source) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The packed sequences of one source, in order."""
        content = self.seq_len - 2
        tokens: list[int] = []
        groups: list[int] = []
        group = 0
        sep = self.vocab.sep_id
        for lines in self._line_batches(source):
            words = self.word_groups(lines) if self.word_groups is not None else [None] * len(lines)
            for line, line_groups in zip(lines, words, strict=True):
                ids = self.vocab.encode(line)
                if not ids:
                    continue
                tokens.extend(ids)
                if line_groups is None or len(line_groups) != len(ids):
                    groups.extend(range(group, group + len(ids)))
                    group += len(ids)
                else:
                    groups.extend(group + g for g in line_groups)
                    group += (line_groups[-1] + 1) if line_groups else 0
                tokens.append(sep)
                groups.append(-1)
                while len(tokens) >= content:
                    yield self._framed(tokens[:content], groups[:content])
                    del tokens[:content], groups[:content]
        if any(t != sep for t in tokens):
            yield self._framed(tokens, groups)

    def _framed(self, tokens: list[int], groups: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``[CLS] tokens [SEP]``, padded with 0 to ``seq_len`` (only a source's last sequence needs it)."""
        out = np.zeros(self.seq_len, dtype=np.int32)
        out[0] = self.vocab.cls_id
        out[1:1 + len(tokens)] = tokens
        out[1 + len(tokens)] = self.vocab.sep_id
        word = np.full(self.seq_len, -1, dtype=np.int32)
        word[1:1 + len(groups)] = groups
        return out, word

    # ------------------------------------------------------------------ the whole corpus

    def count(self) -> list[int]:
        """Count the sequences of each source (one pass); returns and keeps them."""
        self.sequences_per_source = [sum(1 for _ in self._source_sequences(source)) for source in self.corpus.sources]
        return self.sequences_per_source

    @property
    def sequences_per_epoch(self) -> int:
        """Training sequences in one epoch (held-out ones excluded)."""
        total = sum(self._counts())
        return total - self._held_out_total(total)

    def _counts(self) -> list[int]:
        if self.sequences_per_source is None:
            raise RuntimeError("call count() first")
        return self.sequences_per_source

    def _held_out_total(self, total: int) -> int:
        if total < 2 * HELD_OUT_EVERY:  # too small to hold any out: score on training sequences
            return 0
        return min(self.held_out_count, total // HELD_OUT_EVERY)

    def _interleaved(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All sequences, the sources interleaved in proportion to their sequence counts (deterministic)."""
        counts = self._counts()
        streams = [self._source_sequences(s) for s in self.corpus.sources]
        done = [0] * len(counts)
        active = [i for i, n in enumerate(counts) if n > 0]
        while active:
            pick = min(active, key=lambda i: ((done[i] + 0.5) / counts[i], i))
            item = next(streams[pick], None)
            if item is None:
                active.remove(pick)
                continue
            done[pick] += 1
            yield item
        for stream in streams:
            stream.close()

    def held_out(self) -> np.ndarray:
        """The held-out sequences, ``(n, seq_len)`` int32 (training sequences when the corpus is tiny)."""
        total = sum(self._counts())
        n = self._held_out_total(total)
        rows = []
        for index, (tokens, _) in enumerate(self._interleaved()):
            if n == 0 or index % HELD_OUT_EVERY == 0:
                rows.append(tokens)
            if len(rows) >= max(n, 1) and (n > 0 or len(rows) >= min(total, 64)):
                break
        return np.stack(rows) if rows else np.zeros((0, self.seq_len), np.int32)

    def epoch(self, epoch: int, skip: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The training sequences of ``epoch`` in their shuffled order, the first ``skip`` left out."""
        total = sum(self._counts())
        held = self._held_out_total(total)
        rng = np.random.default_rng([self.seed, epoch, 7])
        buffer: list[tuple[np.ndarray, np.ndarray]] = []
        emitted = 0

        def training() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for index, item in enumerate(self._interleaved()):
                if index % HELD_OUT_EVERY == 0 and index // HELD_OUT_EVERY < held:
                    continue
                yield item

        for item in training():
            if len(buffer) < SHUFFLE_BUFFER:
                buffer.append(item)
                continue
            k = int(rng.integers(len(buffer)))
            out, buffer[k] = buffer[k], item
            if emitted >= skip:
                yield out
            emitted += 1
        order = rng.permutation(len(buffer))
        for k in order:
            if emitted >= skip:
                yield buffer[k]
            emitted += 1


# --------------------------------------------------------------------------- masking


def mask_batch(tokens: np.ndarray, groups: np.ndarray, vocab: Vocabulary, rng: np.random.Generator,
               whole_words: bool = False) -> Batch:
    """Mask 15% of the text tokens of each row of ``tokens`` (80% ``[MASK]``, 10% random, 10% kept).

    ``groups``: the word of each token (-1: ``[CLS]``, ``[SEP]``, padding);
    with ``whole_words`` every token of a chosen word is masked. Each row gets
    at least one masked token; at most :func:`max_masked` per row.
    """
    batch, seq_len = tokens.shape
    room = max_masked(seq_len)
    out = tokens.copy()
    positions = np.zeros((batch, room), np.int32)
    labels = np.zeros((batch, room), np.int32)
    weights = np.zeros((batch, room), np.float32)
    special = (tokens == vocab.cls_id) | (tokens == vocab.sep_id) | (tokens == vocab.pad_id)
    for row in range(batch):
        candidates = np.flatnonzero(~special[row])
        if candidates.size == 0:
            continue
        target = min(room, max(1, int(round(MASK_RATE * candidates.size))))
        chosen = _whole_words(candidates, groups[row], target, rng) if whole_words else \
            np.sort(rng.choice(candidates, size=target, replace=False))
        k = chosen.size
        positions[row, :k] = chosen
        labels[row, :k] = tokens[row, chosen]
        weights[row, :k] = 1.0
        draw = rng.random(k)
        replaced = chosen[draw < 0.8]
        randomised = chosen[(draw >= 0.8) & (draw < 0.9)]
        out[row, replaced] = vocab.mask_id
        out[row, randomised] = rng.integers(vocab.first_real_id, vocab.size, size=randomised.size)
    return Batch(out, positions, labels, weights)


def _whole_words(candidates: np.ndarray, groups: np.ndarray, target: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of whole words, drawn in random order until ``target`` tokens are covered (never more)."""
    word_of = groups[candidates]
    words, starts, sizes = np.unique(word_of, return_index=True, return_counts=True)
    chosen: list[np.ndarray] = []
    covered = 0
    for k in rng.permutation(words.size):
        if covered + sizes[k] > target:
            continue
        chosen.append(candidates[starts[k]:starts[k] + sizes[k]])
        covered += int(sizes[k])
        if covered == target:
            break
    if not chosen:  # every word longer than the target: its first tokens
        k = int(rng.integers(words.size))
        chosen.append(candidates[starts[k]:starts[k] + min(int(sizes[k]), target)])
    return np.sort(np.concatenate(chosen))


def batches(sequences: Iterator[tuple[np.ndarray, np.ndarray]], batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stack sequences into ``(tokens, groups)`` batches of ``batch_size`` rows; a last short batch is dropped."""
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for item in sequences:
        rows.append(item)
        if len(rows) == batch_size:
            yield np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])
            rows = []


def batch_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The masking generator of batch ``index`` of ``epoch``: the same draw when a run is resumed."""
    return np.random.default_rng([seed, epoch, index, 11])
