"""``mintext pretrain``: a Chinese character BERT trained from raw text, written as a Google-format folder.

Nothing heavy is imported at module level (``mintext --help`` loads this
module to list it): TensorFlow and bert4keras come with the model.
"""

from __future__ import annotations

import click

from cli.options import FiniteFloatRange, input_options, note, quiet_option

SIZE_CHOICES = ("tiny", "mini", "small", "base")  # mintext.pretraining.pipeline.SIZES, not imported for --help (tested equal)


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               short_help="Train a Chinese character BERT on raw text (masked language model).")
@click.argument("inputs", nargs=-1, required=True, metavar="CORPUS...")
@click.option("-o", "--output", metavar="DIR", default=None,
              help="Model folder to write (bert_config.json, bert_model.ckpt.*, vocab.txt, training.tsv); "
                   "default with --resume: the resumed folder.")
@click.option("--size", type=click.Choice(SIZE_CHOICES), default="tiny", show_default=True,
              help="Preset layers x hidden: tiny 2x128, mini 4x256, small 4x512, base 12x768.")
@click.option("--layers", type=click.IntRange(min=1), default=None, metavar="N", help="Transformer layers (overrides --size).")
@click.option("--hidden", type=click.IntRange(min=8), default=None, metavar="N", help="Hidden size (overrides --size).")
@click.option("--heads", type=click.IntRange(min=1), default=None, metavar="N", help="Attention heads (overrides --size).")
@click.option("--seq-len", type=click.IntRange(min=8, max=4096), default=128, show_default=True, metavar="TOKENS",
              help="Tokens a training sequence, [CLS] and [SEP] included; parse with --window at most this - 2.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True, metavar="N",
              help="Sequences a step.")
@click.option("--learning-rate", type=FiniteFloatRange(min=0, min_open=True), default=1e-3, show_default=True,
              metavar="RATE", help="Peak learning rate (AdamW), reached after the warm-up, then decayed linearly to 0.")
@click.option("--warmup", type=FiniteFloatRange(min=0, max=1, max_open=True), default=0.05, show_default=True,
              metavar="SHARE", help="Share of the run spent warming the learning rate up.")
@click.option("--steps", type=click.IntRange(min=1), default=None, metavar="N", help="Train N steps in all.")
@click.option("--time", "time_limit", default=None, metavar="DURATION",
              help="Train until this much time is spent in all (90s, 45m, 2h, 1h30m).")
@click.option("--epochs", type=FiniteFloatRange(min=0, min_open=True), default=None, metavar="N",
              help="Train N passes over the corpus.  [default: 1, unless --steps or --time]")
@click.option("--save-every", type=click.IntRange(min=1), default=500, show_default=True, metavar="STEPS",
              help="Score the held-out slice and save a checkpoint every STEPS steps (and at the end).")
@click.option("--keep-checkpoints", is_flag=True,
              help="Also keep each checkpoint as a folder DIR-stepN beside DIR.")
@click.option("--resume", metavar="DIR", default=None,
              help="Continue the run saved in DIR (step count, optimizer state, data position).")
@click.option("--overwrite", is_flag=True, help="Replace the model already in -o DIR.")
@click.option("--vocab", "vocab_path", metavar="FILE", default=None,
              help="Use this vocab.txt (Google's layout) instead of one counted from the corpus.")
@click.option("--min-char-count", type=click.IntRange(min=1), default=2, show_default=True, metavar="N",
              help="Vocabulary: the characters (and Latin or digit runs) seen at least N times.")
@click.option("--whole-word", metavar="LEXICON", default=None,
              help="Mask whole words of this mintext lexicon (from mintext discover) instead of single characters.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the weights, the data order and the masks.")
@click.option("--dropout", type=FiniteFloatRange(min=0, max=1, max_open=True), default=0.0, show_default=True,
              metavar="RATE", help="Dropout in the encoder (0: short runs learn faster without it).")
@click.option("--no-jit", is_flag=True, help="Do not compile the training step with XLA.")
@input_options
@quiet_option
@click.pass_context
def pretrain(ctx: click.Context, inputs: tuple[str, ...], output: str | None, size: str, layers: int | None,
             hidden: int | None, heads: int | None, seq_len: int, batch_size: int, learning_rate: float, warmup: float,
             steps: int | None, time_limit: str | None, epochs: float | None, save_every: int, keep_checkpoints: bool,
             resume: str | None, overwrite: bool, vocab_path: str | None, min_char_count: int, whole_word: str | None,
             seed: int, dropout: float, no_jit: bool, encoding: str, errors: str, quiet: bool) -> None:
    """Pretrain a BERT masked language model on raw Chinese text: nothing downloaded, no labels.

    The corpus is streamed (files, globs, directories, -, compressed) and
    packed into sequences of one token a character; 15% of the tokens are
    masked afresh at every step (--whole-word: whole words of a discovered
    lexicon). The folder written is Google's format: mintext parse --bert DIR
    and bert4keras load it unchanged. A held-out slice of the corpus is scored
    at every checkpoint into DIR/training.tsv. Checkpoints are written
    atomically: an interrupted run keeps its last complete one.

    \b
    Examples:
      mintext pretrain corpus.txt -o model --time 30m
      mintext pretrain laws.txt.gz news/ -o model --size mini --steps 20000
      mintext discover corpus.txt -o lexicon.tsv
      mintext pretrain corpus.txt -o model --whole-word lexicon.tsv --time 1h
      mintext pretrain corpus.txt --resume model --time 2h
      mintext parse --bert model --window 126 sentences.txt
    """
    from mintext.errors import UsageError
    from mintext.io.sources import resolve_inputs
    from mintext.pretraining.pipeline import PretrainOptions, parse_duration
    from mintext.pretraining.pipeline import pretrain as run_pretrain

    if output is None:
        if resume is None:
            raise UsageError("give -o DIR, the model folder to write (or --resume DIR to continue one)")
        output = resume
    seconds = parse_duration(time_limit) if time_limit is not None else None
    options = PretrainOptions(size=size, layers=layers, hidden=hidden, heads=heads, seq_len=seq_len,
                              batch_size=batch_size, learning_rate=learning_rate, warmup=warmup, steps=steps,
                              time_limit=seconds, epochs=epochs, save_every=save_every, min_char_count=min_char_count,
                              whole_word=whole_word, seed=seed, dropout=dropout, jit_compile=not no_jit,
                              keep_checkpoints=keep_checkpoints)
    options.check()
    given = {name for name in ("size", "layers", "hidden", "heads", "seq_len", "seed", "dropout", "whole_word",
                               "min_char_count")
             if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}
    if time_limit is not None:
        given.add("time_limit")
    resolve_inputs(list(inputs))  # bad paths before anything is built
    for option, path in (("--vocab", vocab_path), ("--whole-word", whole_word)):
        if path is not None and not _readable_file(path):
            raise UsageError(f"{option} {path}: no such file")
    result = run_pretrain(list(inputs), output, options=options, vocab=vocab_path, resume=resume, overwrite=overwrite,
                          encoding=encoding, errors=errors, progress=not quiet, given=given, note=note)
    curve = result.curve
    if len(curve):
        last = curve.iloc[-1]
        note(f"step {int(last['step'])}: held-out loss {last['held_out_loss']:.3f}, accuracy "
             f"{last['held_out_accuracy']:.3f}; model in {result.path}")


def _readable_file(path: str) -> bool:
    import os

    return os.path.isfile(path)
