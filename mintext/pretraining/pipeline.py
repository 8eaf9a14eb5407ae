"""``mintext.pretrain(...)``: raw text in, a Google-format Chinese character BERT folder out.

The stages, in order: check the output (and the folder resumed); read the
corpus once to count its atoms (the vocabulary, unless ``vocab`` or the
resumed folder gives one) and once to count its packed sequences (the held-out
slice, the epoch length); build the model; then train, one batch after another
from the streamed corpus, scoring the held-out slice and saving the folder
atomically every ``save_every`` steps and at the end. A resumed run continues
the step count, the optimiser state, the learning-rate schedule and the data
position (epoch and sequence) of the folder it resumes.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from mintext.errors import InputError, UsageError, shown_name
from mintext.io.progress import progress_bar
from mintext.io.sources import Corpus, resolve_inputs
from mintext.parse.checkpoint import bert_config
from mintext.parse.tokens import is_cjk
from mintext.pretraining import folder
from mintext.pretraining.data import (
    SequenceStream,
    WordGroups,
    batch_rng,
    batches,
    mask_batch,
)
from mintext.pretraining.vocab import Vocabulary, atom_regex, count_atoms, read_vocabulary, vocabulary_from_counts

# name -> (layers, hidden size, attention heads)
SIZES = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8), "base": (12, 768, 12)}
SCORE_BATCH = 64


@dataclass
class PretrainOptions:
    """What to train and for how long; see ``mintext pretrain --help`` for each."""

    size: str = "tiny"
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    seq_len: int = 128
    batch_size: int = 64
    learning_rate: float = 1e-3
    warmup: float = 0.05  # share of the run spent warming up
    steps: int | None = None
    time_limit: float | None = None  # seconds
    epochs: float | None = None
    save_every: int = 500
    min_char_count: int = 2
    max_vocab: int | None = None
    whole_word: str | None = None
    seed: int = 0
    dropout: float = 0.0
    jit_compile: bool = True
    held_out: int = 256
    keep_checkpoints: bool = False

    def shape(self) -> tuple[int, int, int]:
        """(layers, hidden size, heads): the preset of ``size``, overridden by explicit values."""
        if self.size not in SIZES:
            raise UsageError(f"--size must be one of {', '.join(SIZES)}, not {self.size!r}")
        layers, hidden, heads = SIZES[self.size]
        layers, hidden = self.layers or layers, self.hidden or hidden
        heads = self.heads or (heads if hidden % heads == 0 else max(1, hidden // 64))
        if hidden % heads:
            raise UsageError(f"--hidden {hidden} is not a multiple of --heads {heads}")
        return layers, hidden, heads

    def check(self) -> None:
        """Refuse impossible values before any work (:class:`UsageError`)."""
        self.shape()
        if self.seq_len < 8:
            raise UsageError("--seq-len must be at least 8 (the sequence holds [CLS] and [SEP])")
        if self.time_limit is not None and self.time_limit <= 0:
            raise UsageError("--time must be more than 0 (e.g. 45m, 2h, 90s)")
        for name, value in (("--steps", self.steps), ("--epochs", self.epochs)):
            if value is not None and value <= 0:
                raise UsageError(f"{name} must be more than 0")
        if not 0 <= self.warmup < 1:
            raise UsageError("--warmup must be a share of the run in [0, 1)")


@dataclass
class PretrainResult:
    """The output folder and the training curve (one row per checkpoint); unpacks as ``path, curve``."""

    path: str
    curve: pd.DataFrame = field(repr=False)

    def __iter__(self) -> Iterator:
        return iter((self.path, self.curve))


def parse_duration(text: str) -> float:
    """Seconds of ``90s``, ``45m``, ``1.5h``, ``1h30m`` or a plain number of seconds; :class:`UsageError` otherwise."""
    import re

    value = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([hms])", value)
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([hms])", "", value).strip():
        raise UsageError(f"--time {text!r} is not a duration; use e.g. 90s, 45m, 2h or 1h30m")
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in parts)


# --------------------------------------------------------------------------- checks


def check_output(output: str, resume: str | None, overwrite: bool) -> None:
    """Refuse an output that is a file, in a missing folder, or an existing model that would be overwritten."""
    shown = shown_name(output)
    if os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"-o {shown} is a file; pretrain writes a model folder: give a folder path")
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write -o {shown}: directory {shown_name(parent)} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write -o {shown}: directory {shown_name(parent)} is not writable")
    same = resume is not None and os.path.abspath(resume) == os.path.abspath(output)
    if not same and not overwrite and (folder.is_model_folder(output) or (os.path.isdir(output) and os.listdir(output))):
        raise UsageError(f"-o {shown} already holds a model (or other files) that this run would overwrite; "
                         "give another folder, --resume it, or add --overwrite")


def check_not_over_inputs(output: str, inputs: Sequence[str], extra: Sequence[str | None]) -> None:
    """Refuse an output folder that holds a file this run reads (the corpus, ``--vocab``, ``--whole-word``):
    saving a checkpoint replaces the whole folder, so the input would be destroyed."""
    folder_path = os.path.realpath(output)
    read = [s.path for s in resolve_inputs(inputs) if s.path is not None] + [p for p in extra if p is not None]
    for path in read:
        real = os.path.realpath(path)
        if real == folder_path or real.startswith(folder_path + os.sep):
            raise UsageError(f"-o {shown_name(output)} holds the input {shown_name(path)}: saving the model would "
                             "destroy it; write the model to another folder")


def check_resumed(state: dict, options: PretrainOptions, given: set[str], path: str) -> None:
    """Refuse a resume whose model options differ from the folder's (size, sequence length)."""
    config = state["config"]
    layers, hidden, heads = options.shape()
    made = (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"])
    if given & {"size", "layers", "hidden", "heads"} and made != (layers, hidden, heads):
        raise UsageError(f"--resume {shown_name(path)} was made with another size ({made[0]} layers x {made[1]} "
                         f"hidden, {made[2]} heads), not {layers} x {hidden}, {heads} heads; leave the size "
                         "options out to continue it")
    if "seq_len" in given and options.seq_len != state["options"]["seq_len"]:
        raise UsageError(f"--resume {shown_name(path)} was trained with --seq-len {state['options']['seq_len']}; "
                         "leave --seq-len out to continue it")


# --------------------------------------------------------------------------- the vocabulary and words


def corpus_vocabulary(corpus: Corpus, options: PretrainOptions, vocab_path: str | None) -> Vocabulary:
    """The vocabulary: ``vocab_path`` if given, else the corpus's atoms seen ``min_char_count`` times or more.

    Raises :class:`InputError` for an empty corpus or one without Han characters.
    """
    counts = count_atoms(corpus)
    if not counts:
        raise InputError("the corpus is empty (no text in the input); give a text file with Chinese sentences")
    if not any(len(atom) == 1 and is_cjk(atom) for atom in counts):
        raise InputError("the corpus has no Han characters (only punctuation, Latin text or digits); mintext "
                         "pretrain trains a Chinese character model: give Chinese text")
    if vocab_path is not None:
        return read_vocabulary(vocab_path)
    vocab = vocabulary_from_counts(counts, options.min_char_count, options.max_vocab)
    if not any(len(t) == 1 and is_cjk(t) for t in vocab.tokens):
        raise InputError(f"no Han character occurs {options.min_char_count} times or more in the corpus; give more "
                         "text or a lower --min-char-count")
    return vocab


def whole_word_groups(lexicon_path: str) -> WordGroups:
    """Word groups from a mintext lexicon: each line segmented by it, each token numbered by its word."""
    from mintext.discovery.lexicon import read_lexicon, segmenter_for

    segmenter = segmenter_for(read_lexicon(lexicon_path))
    findall = atom_regex().findall

    def groups(lines: list[str]) -> list[list[int] | None]:
        out: list[list[int] | None] = []
        for segmented in segmenter.segment_lines(lines):
            numbers: list[int] = []
            for k, word in enumerate(segmented.split(" ")):
                numbers.extend([k] * len(findall(word.lower())))
            out.append(numbers)
        return out

    return groups


# --------------------------------------------------------------------------- training


@dataclass
class _Run:
    """The counters of a run, saved in ``pretrain.json`` and restored by a resume."""

    step: int = 0
    epoch: int = 0
    position: int = 0  # training sequences of ``epoch`` already used
    tokens: int = 0
    seconds: float = 0.0


class _Limits:
    """When to stop, and how far along the run is (for the learning rate): the first limit reached counts."""

    def __init__(self, options: PretrainOptions, sequences_per_epoch: int) -> None:
        self.options = options
        self.per_epoch = sequences_per_epoch
        self.epochs = options.epochs if options.epochs is not None else (
            1.0 if options.steps is None and options.time_limit is None else None)

    def progress(self, run: _Run) -> float:
        shares = []
        if self.options.steps is not None:
            shares.append(run.step / self.options.steps)
        if self.options.time_limit is not None:
            shares.append(run.seconds / self.options.time_limit)
        if self.epochs is not None:
            done = run.epoch + run.position / max(1, self.per_epoch)
            shares.append(done / self.epochs)
        return min(1.0, max(shares))

    def rate(self, run: _Run) -> float:
        """Linear warm-up over the first ``warmup`` share of the run, then linear decay to 0."""
        peak, warm = self.options.learning_rate, self.options.warmup
        p = self.progress(run)
        if warm > 0 and p < warm:
            return peak * max(p, 1e-3 * warm) / warm
        return peak * max(0.0, 1.0 - p) / (1.0 - warm)

    def done(self, run: _Run) -> bool:
        return self.progress(run) >= 1.0


def _held_out_batches(stream: SequenceStream, vocab: Vocabulary, seed: int) -> list:
    """The held-out rows masked once (single tokens, a fixed seed): the same batches at every checkpoint."""
    rows = stream.held_out()
    groups = np.tile(np.arange(stream.seq_len, dtype=np.int32), (len(rows), 1))
    rng = np.random.default_rng([seed, 1 << 20])
    return [mask_batch(rows[k:k + SCORE_BATCH], groups[k:k + SCORE_BATCH], vocab, rng)
            for k in range(0, len(rows), SCORE_BATCH)]


def _score(trainer, held_out: list) -> tuple[float, float]:
    total = hits = count = 0.0
    for batch in held_out:
        t, h, c = trainer.score(batch.token_ids, batch.positions, batch.labels, batch.weights)
        total, hits, count = total + t, hits + h, count + c
    return total / max(count, 1.0), hits / max(count, 1.0)


def _training_batches(stream: SequenceStream, run: _Run, batch_size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(index in epoch, tokens, groups)`` from the run's data position on, epoch after epoch."""
    while True:
        index = run.position // batch_size
        produced = False
        for tokens, groups in batches(stream.epoch(run.epoch, skip=run.position), batch_size):
            produced = True
            yield index, tokens, groups
            index += 1
        if not produced and run.position == 0:
            raise InputError("the corpus gives no full training batch")
        run.epoch += 1
        run.position = 0


def pretrain(
    inputs: Sequence[str] | str,
    output: str | os.PathLike,
    *,
    options: PretrainOptions | None = None,
    vocab: str | None = None,
    resume: str | os.PathLike | None = None,
    overwrite: bool = False,
    encoding: str = "utf-8",
    errors: str = "strict",
    progress: bool = False,
    given: set[str] | None = None,
    note: Callable[[str], None] | None = None,
    **option_values,
) -> PretrainResult:
    """Train a BERT masked language model on the raw text ``inputs``; write it to the folder ``output``.

    ``inputs``: files, globs, directories, ``-`` (read like every mintext
    input, ``encoding`` and ``errors`` as in :class:`~mintext.io.sources.Corpus`).
    ``options``: a :class:`PretrainOptions`, or its fields as keywords
    (``size="mini"``, ``steps=1000``, ``time_limit=3600``, ``whole_word="lexicon.tsv"``...).
    ``vocab``: a ``vocab.txt`` to use instead of counting one. ``resume``: a
    folder written by an earlier run, continued (into ``output``). Returns
    the folder path and the held-out curve (a DataFrame with the columns of
    ``training.tsv``). Raises :class:`InputError` / :class:`UsageError` with
    one-line messages.
    """
    options = options or PretrainOptions(**option_values)
    given = set(option_values) if given is None else given
    output = os.fspath(output)
    resume = os.fspath(resume) if resume is not None else None
    note = note or (lambda message: None)
    options.check()
    state = None
    if resume is not None:
        state = folder.read_state(resume)
        check_resumed(state, options, given, resume)
        saved = state["options"]
        for key in ("size", "layers", "hidden", "heads", "seq_len", "whole_word", "seed", "dropout", "min_char_count",
                    "max_vocab"):
            if key not in given:
                setattr(options, key, saved.get(key, getattr(options, key)))
    check_output(output, resume, overwrite)
    check_not_over_inputs(output, [inputs] if isinstance(inputs, str) else list(inputs), [vocab, options.whole_word])
    folder.remove_stale_temporaries(output)

    corpus = Corpus(inputs if not isinstance(inputs, str) else [inputs], encoding, errors)
    try:
        return _train(corpus, output, options, vocab, resume, state, progress, note)
    finally:
        corpus.close()


def _train(corpus: Corpus, output: str, options: PretrainOptions, vocab_path: str | None, resume: str | None,
           state: dict | None, progress: bool, note: Callable[[str], None]) -> PretrainResult:
    # a resumed run keeps its folder's vocabulary (the corpus is still checked)
    vocab = corpus_vocabulary(corpus, options, os.path.join(resume, folder.VOCAB_FILE) if resume else vocab_path)
    groups = whole_word_groups(options.whole_word) if options.whole_word else None
    stream = SequenceStream(corpus, vocab, options.seq_len, options.seed, groups, options.held_out)
    counts = stream.count()
    total = sum(counts)
    if stream.sequences_per_epoch < options.batch_size:
        raise InputError(f"the corpus is shorter than one batch: {total} sequence(s) of --seq-len {options.seq_len} "
                         f"tokens, --batch-size {options.batch_size}; give more text or lower --batch-size")
    layers, hidden, heads = options.shape()
    config = state["config"] if state else bert_config(vocab.size, hidden_size=hidden, num_hidden_layers=layers,
                                                       num_attention_heads=heads,
                                                       max_position_embeddings=options.seq_len)
    config = {**config, "hidden_dropout_prob": options.dropout, "attention_probs_dropout_prob": options.dropout}
    note(f"{vocab.size} tokens in the vocabulary, {total} sequences of {options.seq_len} tokens "
         f"({stream.sequences_per_epoch} for training), model {layers} x {hidden}, {heads} heads")

    from mintext.pretraining.model import Trainer

    trainer = Trainer(config, seed=options.seed, jit_compile=options.jit_compile)
    run = _Run()
    curve: list[list[object]] = []
    if state is not None:
        trainer.restore(folder.read_weights(resume), folder.read_optimizer(resume))
        run = _Run(**state["run"])
        curve = folder.read_curve(resume)
    held_out = _held_out_batches(stream, vocab, options.seed)
    limits = _Limits(options, stream.sequences_per_epoch)
    return _loop(trainer, stream, vocab, options, config, run, curve, held_out, limits, output, progress)


def _loop(trainer, stream: SequenceStream, vocab: Vocabulary, options: PretrainOptions, config: dict, run: _Run,
          curve: list, held_out: list, limits: _Limits, output: str, progress: bool) -> PretrainResult:
    def save() -> None:
        loss, accuracy = _score(trainer, held_out)
        train_loss = float(np.mean(recent)) if recent else float("nan")
        curve.append([run.step, round(run.epoch + run.position / max(1, stream.sequences_per_epoch), 4), run.tokens,
                      round(run.seconds, 1), f"{rate:.3g}", f"{train_loss:.4f}", f"{loss:.4f}", f"{accuracy:.4f}"])
        recent.clear()
        state = {"config": config, "options": asdict(options), "run": asdict(run)}
        keep = f"{os.path.abspath(output)}-step{run.step}" if options.keep_checkpoints else None
        folder.save_folder(output, config, vocab.tokens, trainer.values(), trainer.optimizer_state(), state, curve, keep)

    recent: list[float] = []
    rate = limits.rate(run)
    started = time.perf_counter() - run.seconds
    saved_at = run.step if curve else -1
    whole = options.whole_word is not None
    with progress_bar(progress, total=options.steps, initial=run.step, desc="pretrain", unit="step") as bar:
        if not limits.done(run):
            for index, tokens, groups in _training_batches(stream, run, options.batch_size):
                batch = mask_batch(tokens, groups, vocab, batch_rng(options.seed, run.epoch, index), whole)
                rate = limits.rate(run)
                loss, _, _ = trainer.train_step(batch.token_ids, batch.positions, batch.labels, batch.weights, rate)
                if not math.isfinite(loss):
                    raise InputError(f"the loss became {loss} at step {run.step + 1}; lower --learning-rate")
                recent.append(loss)
                run.step += 1
                run.position += options.batch_size
                run.tokens += int(np.count_nonzero(tokens))
                run.seconds = time.perf_counter() - started
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{loss:.3f}", tokens_per_s=f"{run.tokens / max(run.seconds, 1e-9):.0f}",
                                    refresh=False)
                bar.update(1)
                if limits.done(run):
                    break
                if run.step % options.save_every == 0:
                    save()
                    saved_at = run.step
        if saved_at != run.step:
            save()
    frame = pd.DataFrame(curve, columns=list(folder.CURVE_COLUMNS))
    for column in frame.columns:
        frame[column] = pd.to_numeric(frame[column])
    return PretrainResult(output, frame)
