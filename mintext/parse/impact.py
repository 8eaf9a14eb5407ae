"""Perturbed masking, batched: impacts between the units of many sentences.

For units (characters or words) ``i`` and ``j`` of a sentence, the impact of
``j`` on ``i`` is ``F[i, j] = dist(h_i(x with i masked), h_i(x with i and j
masked))``, where ``h_i`` is the mean of the hidden vectors of ``i``'s tokens
in the chosen layer and a masked unit has all its tokens replaced by
``[MASK]`` (algorithms.md, section 3). ``F[i, i] = 0``.

How the work is organised:

- every sentence becomes *masked copies*: one per unit that takes part in a
  pair (``i`` masked) and one per pair (``i`` and ``j`` masked). Segmentation
  needs the adjacent pairs only (``2n - 1`` copies for ``n`` units), parsing
  all pairs (``n (n + 1) / 2`` copies);
- copies of many sentences are pooled in *blocks* of whole sentences (a block
  ends with the sentence that brings its copies to ``batch_size *
  BUFFER_BATCHES`` or more), each block sorted by length (a stable sort) and
  cut into batches of at most ``batch_size`` copies (fewer for long copies:
  at most ``128 * batch_size`` padded tokens per batch, and at most ``128 *
  128 * batch_size`` attention scores per head, ``copies * length ** 2``, so
  that a batch of long copies does not hold a huge score tensor), padded with
  id 0, which
  the model masks out of attention, so that a copy's vectors do not depend on
  its batch (checked by the tests);
- each batch is one call of a compiled TensorFlow function that returns the
  hidden vectors at the masked units only; two batches are in the model at
  once (one call rarely keeps two CPU cores busy), their results recorded in
  batch order;
- results come out block by block, in input order. A block depends only on
  its own sentences: its batches, and so its floats, do not depend on what
  came before it, so blocks can run anywhere (:func:`block_impacts` on an
  executor, :mod:`mintext.cluster`) with the same bits.

Sliding windows. A model reads at most ``window`` tokens (max_position_embeddings
- 2 for ``[CLS]`` and ``[SEP]``). A longer sentence is cut into windows of
whole units of at most ``window`` tokens; each window starts at the unit where
the previous one reaches half of its tokens, so consecutive windows overlap by
about half. Every pair is scored in exactly one window: among the windows that
hold both units, the one whose centre is nearest to the pair's midpoint (the
earlier on a tie), so that each pair sees about a quarter window of context or
more on both sides. Both copies behind one impact (``i`` masked, ``i`` and
``j`` masked) come from the same window, so no impact mixes two contexts.
Adjacent pairs always share a window; pairs too far apart to share one are
not observed and get impact 0. The cost stays linear in the sentence length
for segmentation: about two copies of ``window + 2`` tokens per gap. A unit
longer than half a window (a very long run of Latin letters) is cut to its
first ``window // 2`` tokens.

Units of only unknown tokens carry no information: a sentence whose tokens
are all ``[UNK]`` is not run (its impacts are all 0 and it is flagged).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from mintext.cluster.executor import Executor, SerialExecutor
from mintext.errors import UsageError
from mintext.parse.model import ModelRef
from mintext.parse.tokens import atom_spans

DISTANCES = ("euclidean", "cosine")
DEFAULT_BATCH_SIZE = 128  # copies per call: fewer, larger calls spread TensorFlow's per-call cost (docs/parse.md)
TOKENS_PER_COPY = 128  # a batch holds at most TOKENS_PER_COPY * batch_size padded tokens
BUFFER_BATCHES = 16  # copies pooled (and sorted by length) at a time: batch_size * BUFFER_BATCHES
CONCURRENT_BATCHES = 2  # batches in the model at once: one call rarely keeps two CPU cores busy


class TokenEncoder(Protocol):
    """What the batcher needs from a model (see :class:`mintext.parse.model.Encoder`)."""

    max_tokens: int
    unk_id: int
    cls_id: int
    sep_id: int
    mask_id: int

    def token_ids(self, atom: str) -> list[int]: ...

    def hidden_at(self, token_ids: np.ndarray, positions: np.ndarray) -> np.ndarray: ...


@dataclass
class Impacts:
    """Impacts of one sentence.

    ``units``: the unit strings; ``matrix``: ``F`` (``n x n``) for all pairs,
    or ``None`` for segmentation; ``adjacent``: ``(F[i, i+1] + F[i+1, i]) / 2``
    for ``i < n - 1``; ``known``: ``False`` when every token was ``[UNK]``
    (nothing was computed; impacts are 0).
    """

    units: list[str]
    adjacent: np.ndarray
    matrix: np.ndarray | None = None
    known: bool = True
    copies: int = 0


# --------------------------------------------------------------------------- planning


@dataclass
class _Window:
    sentence: _Sentence
    lo: int  # first unit
    ids: np.ndarray  # [CLS] tokens of the window's units [SEP]
    offsets: np.ndarray  # token position of each unit of the window and of its end, +1 for [CLS]
    pending: int = 0  # copies not run yet
    singles: dict[int, np.ndarray] = field(default_factory=dict)  # unit -> vector with the unit masked


@dataclass
class _Sentence:
    units: list[str]
    tokens: list[list[int]]
    all_pairs: bool
    impacts: Impacts | None = None


def plan_windows(token_counts: Sequence[int], window: int) -> list[tuple[int, int]]:
    """Unit ranges ``(lo, hi)`` of the windows of a sentence (see the module docstring).

    ``token_counts[u]`` is the number of tokens of unit ``u``, each at most
    ``window // 2``. One window when everything fits.
    """
    n = len(token_counts)
    ends = np.concatenate([[0], np.cumsum(token_counts)])
    if ends[-1] <= window:
        return [(0, n)]
    windows = []
    lo = 0
    while True:
        hi = int(np.searchsorted(ends, ends[lo] + window, side="right")) - 1
        windows.append((lo, hi))
        if hi >= n:
            return windows
        half = ends[lo] + (ends[hi] - ends[lo]) / 2
        nxt = int(np.searchsorted(ends, half, side="left"))
        lo = min(max(nxt, lo + 1), hi - 1)


def assign_pairs(
    token_counts: Sequence[int], windows: Sequence[tuple[int, int]], all_pairs: bool
) -> list[list[tuple[int, int]]]:
    """The pairs ``(i, j)``, ``i < j``, that each window scores (see the module docstring)."""
    n = len(token_counts)
    if len(windows) == 1:
        return [[(i, j) for i in range(n - 1) for j in range(i + 1, n if all_pairs else i + 2)]]
    ends = np.concatenate([[0], np.cumsum(token_counts)])
    mids = (ends[:-1] + ends[1:]) / 2
    centres = [(ends[lo] + ends[hi]) / 2 for lo, hi in windows]
    first = np.zeros(n, dtype=int)  # first window holding each unit
    last = np.zeros(n, dtype=int)
    for k in range(len(windows) - 1, -1, -1):
        first[windows[k][0] : windows[k][1]] = k
    for k, (lo, hi) in enumerate(windows):
        last[lo:hi] = k
    owned: list[list[tuple[int, int]]] = [[] for _ in windows]
    for i in range(n - 1):
        for j in range(i + 1, n if all_pairs else i + 2):
            if first[j] > last[i]:
                break  # no window holds both; nor any later j
            candidates = range(first[j], last[i] + 1)
            midpoint = (mids[i] + mids[j]) / 2
            best = min(candidates, key=lambda k: (abs(centres[k] - midpoint), k))
            owned[best].append((i, j))
    return owned


def check_window(encoder: TokenEncoder, window: int | None) -> int:
    """The window in tokens (default: the model's limit); :class:`UsageError` when out of range."""
    limit = encoder.max_tokens
    window = limit if window is None else window
    if not 2 <= window <= limit:
        raise UsageError(f"--window must be between 2 and {limit} tokens for this model (default {limit})")
    return window


# --------------------------------------------------------------------------- the batcher


class _Batcher:
    """Cuts sentences into blocks (:meth:`blocks`) and runs the masked copies of a block in batches (:meth:`run_block`)."""

    def __init__(self, encoder: TokenEncoder, batch_size: int, window: int | None, distance: str) -> None:
        if batch_size < 1:
            raise UsageError(f"--batch-size must be at least 1, not {batch_size}")
        if distance not in DISTANCES:
            raise UsageError(f"distance must be one of {', '.join(DISTANCES)}, not {distance!r}")
        window = check_window(encoder, window)
        self.encoder = encoder
        self.batch_size = batch_size
        self.batch_tokens = max(TOKENS_PER_COPY * batch_size, window + 2)
        self.window = window
        self.distance = distance

    # ----- planning

    def _known(self, sentence: _Sentence) -> bool:
        unknown = self.encoder.unk_id
        return not sentence.tokens or any(t != unknown for unit in sentence.tokens for t in unit)

    def _window_pairs(self, sentence: _Sentence) -> list[tuple[int, int, list[tuple[int, int]]]]:
        """``(lo, hi, pairs)`` for each window of ``sentence`` that scores pairs; none when nothing is run."""
        if len(sentence.units) < 2 or not self._known(sentence):
            return []
        counts = [len(unit[: self._cap]) for unit in sentence.tokens]
        windows = plan_windows(counts, self.window)
        owned = assign_pairs(counts, windows, sentence.all_pairs)
        return [(lo, hi, pairs) for (lo, hi), pairs in zip(windows, owned, strict=True) if pairs]

    @property
    def _cap(self) -> int:
        """Tokens kept of one unit (the first ``window // 2``)."""
        return max(1, self.window // 2)

    def copies(self, sentence: _Sentence) -> int:
        """How many masked copies ``sentence`` needs (planning only: no model, no token arrays)."""
        return sum(len({u for pair in pairs for u in pair}) + len(pairs) for _, _, pairs in self._window_pairs(sentence))

    def blocks(self, sentences: Iterable[_Sentence]) -> Iterator[list[_Sentence]]:
        """Consecutive sentences cut into blocks, each ending with the sentence whose copies bring the block's
        to ``batch_size * BUFFER_BATCHES`` or more (the last block: the rest)."""
        limit = self.batch_size * BUFFER_BATCHES
        block: list[_Sentence] = []
        copies = 0
        for sentence in sentences:
            block.append(sentence)
            copies += self.copies(sentence)
            if copies >= limit:
                yield block
                block, copies = [], 0
        if block:
            yield block

    def _rows(self, sentence: _Sentence) -> Iterator[tuple]:
        """Masked copies of one sentence as ``(window, masked units)``, a window's single-unit copies first."""
        n = len(sentence.units)
        matrix = np.zeros((n, n), dtype=np.float32) if sentence.all_pairs else None
        adjacent = np.zeros(max(n - 1, 0), dtype=np.float32)
        sentence.impacts = Impacts(sentence.units, adjacent, matrix, known=self._known(sentence))
        tokens = [unit[: self._cap] for unit in sentence.tokens]
        counts = [len(t) for t in tokens]
        for lo, hi, pairs in self._window_pairs(sentence):
            flat = [t for unit in tokens[lo:hi] for t in unit]
            ids = np.array([self.encoder.cls_id, *flat, self.encoder.sep_id], dtype=np.int32)
            offsets = 1 + np.concatenate([[0], np.cumsum(counts[lo:hi])])
            units = sorted({u for pair in pairs for u in pair})
            win = _Window(sentence, lo, ids, offsets, pending=len(units) + len(pairs))
            sentence.impacts.copies += len(units) + len(pairs)
            for u in units:
                yield win, (u,)
            for pair in pairs:
                yield win, pair

    # ----- running

    def run_block(self, block: list[_Sentence]) -> list[Impacts]:
        """The impacts of every sentence of ``block``, in order: its copies pooled, sorted and run in batches."""
        rows = [row for sentence in block for row in self._rows(sentence)]
        if rows:
            self._run_rows(rows)
        return [sentence.impacts for sentence in block]

    def _run_rows(self, rows: list[tuple]) -> None:
        """Run ``rows`` in batches, ``CONCURRENT_BATCHES`` at a time; record the results in batch order."""
        rows.sort(key=lambda row: len(row[0].ids))  # stable: a window's singles stay before its pairs
        in_flight: deque[tuple[Future, list[tuple], list]] = deque()
        start = 0
        with ThreadPoolExecutor(CONCURRENT_BATCHES, thread_name_prefix="mintext-batch") as pool:
            while start < len(rows):
                end = min(start + self.batch_size, len(rows))
                # fewer copies per batch when they are long (the last, longest copy sets the padding)
                while end - start > 1 and not self._fits(end - start, len(rows[end - 1][0].ids)):
                    end -= 1
                batch = rows[start:end]
                ids, positions, spans = self._batch_arrays(batch, len(rows[end - 1][0].ids))
                in_flight.append((pool.submit(self.encoder.hidden_at, ids, positions), batch, spans))
                if len(in_flight) >= CONCURRENT_BATCHES:
                    self._record_batch(*in_flight.popleft())
                start = end
            while in_flight:
                self._record_batch(*in_flight.popleft())

    def _fits(self, copies: int, length: int) -> bool:
        """Whether ``copies`` padded to ``length`` tokens stay within the token and attention-score budgets."""
        return copies * length <= self.batch_tokens and copies * length * length <= self.batch_tokens * TOKENS_PER_COPY

    def _batch_arrays(self, rows: list[tuple], length: int) -> tuple[np.ndarray, np.ndarray, list]:
        """Token ids (masked copies padded with 0), read positions, and each row's masked spans."""
        mask_id = self.encoder.mask_id
        ids = np.zeros((len(rows), length), dtype=np.int32)
        spans = []
        for r, (win, units) in enumerate(rows):
            ids[r, : len(win.ids)] = win.ids
            row_spans = []
            for u in units:
                a, b = win.offsets[u - win.lo], win.offsets[u - win.lo + 1]
                ids[r, a:b] = mask_id
                row_spans.append((a, b))
            spans.append(row_spans)
        reads = max(sum(b - a for a, b in s) for s in spans)
        positions = np.zeros((len(rows), reads), dtype=np.int32)
        for r, row_spans in enumerate(spans):
            k = 0
            for a, b in row_spans:
                positions[r, k : k + b - a] = np.arange(a, b)
                k += b - a
        return ids, positions, spans

    def _record_batch(self, future: Future, rows: list[tuple], spans: list) -> None:
        hidden = future.result()
        for r, (win, units) in enumerate(rows):
            k, vectors = 0, []
            for a, b in spans[r]:  # a unit's vector: the mean over its tokens (most units are one token)
                vectors.append(hidden[r, k] if b - a == 1 else hidden[r, k : k + b - a].mean(axis=0))
                k += b - a
            self._record(win, units, vectors)

    def _record(self, win: _Window, units: tuple, vectors: list[np.ndarray]) -> None:
        win.pending -= 1
        if len(units) == 1:
            win.singles[units[0]] = vectors[0].astype(np.float64)  # compared with up to n - 1 pairs
            return
        i, j = units
        f_ij = self._dist(win.singles[i], vectors[0])
        f_ji = self._dist(win.singles[j], vectors[1])
        impacts = win.sentence.impacts
        if impacts.matrix is not None:
            impacts.matrix[i, j], impacts.matrix[j, i] = f_ij, f_ji
        if j == i + 1:
            impacts.adjacent[i] = (f_ij + f_ji) / 2
        if win.pending == 0:
            win.singles.clear()

    def _dist(self, a: np.ndarray, b: np.ndarray) -> float:
        a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if self.distance == "euclidean":
            return float(np.sqrt(np.sum((a64 - b64) ** 2)))
        denominator = np.sqrt(np.sum(a64 * a64) * np.sum(b64 * b64))
        return float(1.0 - np.sum(a64 * b64) / denominator) if denominator > 0 else 0.0


# --------------------------------------------------------------------------- public API


def _unit_tokens(encoder: TokenEncoder, unit: str) -> list[int]:
    """Token ids of a unit: its atoms' WordPiece ids, concatenated."""
    ids = [t for a, b in atom_spans(unit) for t in encoder.token_ids(unit[a:b])]
    return ids or [encoder.unk_id]


def block_impacts(
    block: list[_Sentence], encoder: TokenEncoder | ModelRef, batch_size: int, window: int | None, distance: str
) -> list[Impacts]:
    """The task of one block (see the module docstring): its sentences' :class:`Impacts`, in order.

    ``encoder`` is a loaded model, or (on a cluster worker) the
    :class:`~mintext.parse.model.ModelRef` a loaded :class:`~mintext.parse.model.Encoder`
    pickles as, loaded once in that process and kept.
    """
    if isinstance(encoder, ModelRef):
        encoder = encoder.encoder()
    return _Batcher(encoder, batch_size, window, distance).run_block(block)


def _stream(
    encoder: TokenEncoder, sentences: Iterable[_Sentence], batch_size: int, window: int | None, distance: str,
    executor: Executor | None, done: Callable[[], Any] | None,
) -> Iterator[Impacts]:
    """Cut ``sentences`` into blocks here and run each with :func:`block_impacts` on ``executor`` (default:
    this process), yielding the impacts in input order as the blocks come back; ``done()`` is called as
    each block finishes, in any order (see :class:`~mintext.cluster.executor.Executor`)."""
    planner = _Batcher(encoder, batch_size, window, distance)  # checks the options before any work
    executor = executor or SerialExecutor()

    def results() -> Iterator[Impacts]:
        model = executor.share(encoder)
        blocks = planner.blocks(sentences)
        for impacts in executor.imap(block_impacts, blocks, model, batch_size, window, distance, done=done):
            yield from impacts

    return results()


def adjacent_impacts(
    encoder: TokenEncoder,
    texts: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    window: int | None = None,
    distance: str = "euclidean",
    executor: Executor | None = None,
    done: Callable[[], Any] | None = None,
) -> Iterator[Impacts]:
    """Impacts between neighbouring atoms of each text, in input order (for segmentation).

    The units are the atoms of :func:`mintext.parse.tokens.atom_spans` (one
    CJK character, one punctuation mark, or one run of other characters); the
    ``2n - 1`` masked copies of each text run in shared batches. Yields one
    :class:`Impacts` per text with ``adjacent`` filled and ``matrix`` ``None``.
    With an ``executor`` (:mod:`mintext.cluster`), the blocks run where it
    runs tasks, with the same results; ``done()``, if given, is called as
    each block of sentences finishes (what a progress bar of finished tasks
    counts; on a cluster, from another thread and in any order).
    """

    def sentences() -> Iterator[_Sentence]:
        for text in texts:
            units = [text[a:b] for a, b in atom_spans(text)]
            yield _Sentence(units, [encoder.token_ids(u) for u in units], all_pairs=False)

    return _stream(encoder, sentences(), batch_size, window, distance, executor, done)


def impact_matrices(
    encoder: TokenEncoder,
    sentences: Iterable[Sequence[str]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    window: int | None = None,
    distance: str = "euclidean",
    executor: Executor | None = None,
    done: Callable[[], Any] | None = None,
) -> Iterator[Impacts]:
    """Word-level impact matrices ``F`` of many sentences (lists of words), in input order.

    A word is masked as a whole span (all its tokens); its vector is the mean
    of its tokens' vectors. Yields one :class:`Impacts` per sentence with
    ``matrix`` (``n x n``, float32, zero diagonal) and ``adjacent`` filled.
    ``executor`` and ``done``: as for :func:`adjacent_impacts`.
    """

    def items() -> Iterator[_Sentence]:
        for words in sentences:
            words = list(words)
            yield _Sentence(words, [_unit_tokens(encoder, w) for w in words], all_pairs=True)

    return _stream(encoder, items(), batch_size, window, distance, executor, done)


def impact_matrix(encoder: TokenEncoder, words: Sequence[str], **options) -> np.ndarray:
    """The ``n x n`` impact matrix ``F`` of one sentence given as words (see :func:`impact_matrices`).

    >>> F = impact_matrix(encoder, ["计算机", "的", "鼠标"])   # doctest: +SKIP
    >>> F.shape
    (3, 3)
    """
    (result,) = impact_matrices(encoder, [list(words)], **options)
    return result.matrix
