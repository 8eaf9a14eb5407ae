"""``mintext parse``: perturbed-masking segmentation and parsing with a pretrained BERT.

Nothing heavy is imported at module level (``mintext --help`` loads this
module to list it): NumPy comes with the command, TensorFlow and bert4keras
only when the model is loaded.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import click

from cli.options import (
    cluster,
    input_options,
    note,
    output_option,
    quiet_option,
    scheduler_option,
    warn,
    warn_undecodable,
)

MODEL_CHOICES = ("bert", "albert", "nezha", "roberta")  # = mintext.parse.model.MODEL_TYPES
DEFAULT_BATCH_SIZE = 128  # = mintext.parse.impact.DEFAULT_BATCH_SIZE
FORMATS = {  # task -> output formats, the default first
    "seg": ("words", "json"),
    "tree": ("bracketed", "json", "pretty"),
    "dep": ("conllu", "json", "pretty"),
}


@dataclass
class Record:
    """One input sentence: where it came from and its words when the input gives them."""

    sent_id: str
    text: str
    words: list[str] | None = None
    source: Any = None  # the ConlluSentence it was read from


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               short_help="BERT perturbed-masking segmentation and parsing.")
@click.argument("inputs", nargs=-1, required=True, metavar="PATH...")
@click.option("--bert", "bert_dir", required=True, metavar="DIR",
              help="Model folder: Google's (bert_config.json or albert_config*.json, bert_model.ckpt.*, vocab.txt) "
                   "or Hugging Face's (config.json, model.safetensors or its shards, vocab.txt).")
@click.option("--model", "model_type", type=click.Choice(MODEL_CHOICES), default="bert", show_default=True,
              help="Model type, as bert4keras names it (RoBERTa-wwm checkpoints are BERT format: bert or roberta; "
                   "a Hugging Face folder's model_type must fit it).")
@click.option("--task", type=click.Choice(tuple(FORMATS)), default="seg", show_default=True,
              help="seg: words; tree: binary constituency trees; dep: dependency trees.")
@click.option("--threshold", default="auto", show_default=True, metavar="auto|NUMBER",
              help="seg: neighbours stay in one word when their impact is at least this; auto fits a two-cluster "
                   "split (Otsu) on the impacts of the input.")
@click.option("--threshold-sample", type=click.IntRange(min=1), default=1000, show_default=True, metavar="LINES",
              help="With --threshold auto: fit on the first LINES sentences; their output waits for the fit.")
@click.option("--decoder", type=click.Choice(["eisner", "cle"]), default="eisner", show_default=True,
              help="dep: eisner (best projective tree) or cle (Chu-Liu/Edmonds, non-projective allowed).")
@click.option("--input-format", type=click.Choice(["text", "segmented", "conllu"]), default="text", show_default=True,
              help="text: one sentence a line; segmented: words separated by spaces; conllu: words from the FORM column.")
@click.option("--segmented", is_flag=True, help="Same as --input-format segmented.")
@click.option("--output-format", type=click.Choice(["words", "bracketed", "conllu", "json", "pretty"]), default=None,
              help="seg: words (default) or json; tree: bracketed (default), json or pretty; "
                   "dep: conllu (default), json or pretty.")
@click.option("--layer", type=click.IntRange(min=1), default=None, metavar="N",
              help="Hidden layer to read, 1 = first Transformer layer.  [default: the last]")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT_BATCH_SIZE, show_default=True, metavar="N",
              help="Masked copies per forward pass (fewer for long sentences: at most 128 x N tokens, "
                   "and 128 x 128 x N attention scores a head).")
@click.option("--window", type=click.IntRange(min=2), default=None, metavar="TOKENS",
              help="Longest token window; longer sentences go through overlapping windows.  "
                   "[default: the model's max_position_embeddings - 2]")
@click.option("--distance", type=click.Choice(["euclidean", "cosine"]), default="euclidean", show_default=True,
              help="Distance between hidden vectors that measures an impact.")
@input_options
@output_option
@scheduler_option
@quiet_option
def parse(
    inputs: tuple[str, ...], bert_dir: str, model_type: str, task: str, threshold: str, threshold_sample: int,
    decoder: str, input_format: str, segmented: bool, output_format: str | None, layer: int | None,
    batch_size: int, window: int | None, distance: str, encoding: str, errors: str, output: str,
    scheduler: str | None, quiet: bool,
) -> None:
    """Segment Chinese text into words, or parse it, with a pretrained BERT and no training.

    Perturbed masking: mask a character (or word), mask it together with a
    neighbour, and measure how much the neighbour changed its hidden vector.
    Segmentation joins neighbours with a high impact; tree and dep decode
    trees from the matrix of word-to-word impacts. Many sentences share large
    padded batches; output comes in input order as sentences finish.
    See docs/parse.md for the methods.

    \b
    Examples:
      mintext parse --bert chinese_L-12_H-768_A-12 news.txt > words.txt
      mintext parse --bert DIR --threshold 8 news.txt -o words.txt
      mintext parse --bert DIR --task tree --output-format pretty sentence.txt
      mintext parse --bert DIR --task dep --segmented words.txt > parsed.conllu
      mintext parse --bert DIR --task dep --input-format conllu test.conllu -o pred.conllu
      mintext score --conllu test.conllu pred.conllu
      mintext parse --bert albert_tiny_zh --model albert - < news.txt
      mintext parse --bert chinese_roberta_L-4_H-256 news.txt   # a Hugging Face folder
      mintext parse --bert /shared/bert news.txt -o words.txt --scheduler tcp://host:8786
    """
    from mintext.errors import UsageError
    from mintext.io.atomic import check_outputs
    from mintext.io.sources import DecodeStats, resolve_inputs
    from mintext.parse.pipeline import parse_threshold

    if segmented:
        if input_format == "conllu":
            raise UsageError("--segmented and --input-format conllu contradict each other; give one")
        input_format = "segmented"
    output_format = output_format or FORMATS[task][0]
    if output_format not in FORMATS[task]:
        raise UsageError(f"--output-format {output_format} does not fit --task {task}; use {' or '.join(FORMATS[task])}")
    if task == "seg" and input_format == "segmented":
        raise UsageError("--task seg finds the words itself; --input-format segmented is for --task tree or dep")
    threshold_value = parse_threshold(threshold)
    sources = resolve_inputs(list(inputs))  # bad paths are reported before the slow model load
    check_outputs({"-o": output}, [*inputs, *_model_files(bert_dir)])

    from mintext.parse.impact import check_window
    from mintext.parse.model import check_model_visible, load_encoder

    with cluster(scheduler) as executor:  # an unreachable scheduler is said before the slow model load
        started = time.perf_counter()
        encoder = load_encoder(bert_dir, model_type, layer)  # here for its tokenizer, and to check the folder
        check_window(encoder, window)
        if executor is not None:
            check_model_visible(executor, bert_dir)
        loaded = time.perf_counter()
        note(f"loaded {encoder.model_type} from {bert_dir} ({encoder.num_layers} layers, hidden {encoder.hidden_size}, "
             f"reading layer {encoder.layer}) in {loaded - started:.1f}s")

        stats = DecodeStats()
        run = Run(task, output_format, input_format != "text", quiet, count_tasks=executor is not None)
        records = read_records(sources, input_format, encoding, errors, stats)
        options = {"batch_size": batch_size, "window": window, "distance": distance, "executor": executor}
        if executor is not None:  # the bar counts blocks as the workers finish them
            options["done"] = run.task_finished
        results = run.results(encoder, records, options, threshold_value, threshold_sample, decoder)
        run.write(results, output)

    warn_undecodable(stats, errors)
    run.report(encoder, time.perf_counter() - loaded)


def _model_files(bert_dir: str) -> list[str]:
    """The files directly in the model folder (config, checkpoint, vocabulary): no output may replace them."""
    if not os.path.isdir(bert_dir):
        return []  # load_encoder says what is missing
    return sorted(entry.path for entry in os.scandir(bert_dir) if entry.is_file())


# --------------------------------------------------------------------------- reading


def read_records(sources: list, input_format: str, encoding: str, errors: str, stats) -> Iterator[Record]:
    """The input sentences of every source, in order, with ids (input line numbers, or CoNLL-U sent_id)."""
    from mintext.errors import InputError
    from mintext.io.sources import MAX_LINE_CHARS, iter_blocks, iter_lines
    from mintext.parse.conllu import read_conllu

    def lines(source) -> Iterator[str]:
        for text, ends_line in iter_lines(iter_blocks(source, encoding, errors, stats=stats)):
            if not ends_line:
                raise InputError(f"{source.name}: a line is longer than {MAX_LINE_CHARS:,} characters; "
                                 "split the text into sentences first")
            yield text

    number = 0
    for source in sources:
        if input_format == "conllu":
            for sentence in read_conllu(lines(source), source.name):
                number += 1
                yield Record(sentence.sent_id or str(number), sentence.surface, sentence.words, sentence)
        else:
            for line in lines(source):
                number += 1
                yield Record(str(number), line, line.split() if input_format == "segmented" else None)


# --------------------------------------------------------------------------- running and writing


@dataclass
class Tally:
    """How many sentences had some property, and the first one's id."""

    count: int = 0
    first: str | None = None

    def add(self, sent_id: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = sent_id


class Run:
    """One run of the command: pipes records through the model and formats what comes out."""

    def __init__(self, task: str, output_format: str, words_given: bool, quiet: bool, count_tasks: bool = False) -> None:
        self.task = task
        self.count_tasks = count_tasks  # on a cluster the bar counts finished blocks, not sentences written
        self._bar = None
        self.words_given = words_given  # tree/dep: words from the input, not from BERT segmentation
        self.output_format = output_format
        self.quiet = quiet
        self.sentences = 0
        self.empty = Tally()  # sentences without words
        self.unknown = Tally()  # sentences without a known token
        self.threshold: float | None = None
        self.auto_threshold = False
        self.sample = 0
        self.copies = 0  # masked copies run, read off the results (they may have run on other machines)
        self.passes_before = 0  # the encoder's forward passes when the run began (none here on a cluster)

    def results(self, encoder, records: Iterator[Record], options: dict, threshold, threshold_sample: int,
                decoder: str) -> Iterator[tuple[Record, Any]]:
        """``(record, result)`` pairs in input order; results are Segmentation or ParsedSentence objects."""
        from mintext.parse.pipeline import constituency_trees, dependency_trees, segment

        self.passes_before = encoder.forward_passes
        waiting: deque[Record] = deque()

        def feed(get: Callable[[Record], Any]) -> Iterator[Any]:
            for record in records:
                waiting.append(record)
                yield get(record)

        if self.task == "seg" or not self.words_given:
            self.auto_threshold = threshold == "auto"
            self.sample = threshold_sample
            stream = self._tally_segmentations(segment(encoder, feed(lambda r: r.text), threshold=threshold,
                                                      threshold_sample=threshold_sample, **options))
            if self.task == "seg":
                for segmentation in stream:
                    yield waiting.popleft(), segmentation
                return
            sentences: Iterator[list[str]] = (s.words for s in stream)
        else:
            sentences = feed(lambda r: r.words)
        if self.task == "tree":
            parsed = constituency_trees(encoder, sentences, **options)
        else:
            parsed = dependency_trees(encoder, sentences, decoder=decoder, **options)
        for result in parsed:
            yield waiting.popleft(), result

    def _tally_segmentations(self, stream):
        for segmentation in stream:
            self.threshold = segmentation.threshold
            self.copies += segmentation.impacts.copies
            yield segmentation

    def write(self, results: Iterator[tuple[Record, Any]], output: str) -> None:
        from mintext.io.atomic import atomic_output
        from mintext.io.progress import progress_bar

        formatter = getattr(self, f"_format_{self.task}_{self.output_format}")
        unit = " blocks" if self.count_tasks else " sentences"
        with atomic_output(output) as out, progress_bar(not self.quiet, desc="parse", unit=unit) as bar:
            self._bar = bar
            for record, result in results:
                self.sentences += 1
                if not result.impacts.units:
                    self.empty.add(record.sent_id)
                elif not result.impacts.known:
                    self.unknown.add(record.sent_id)
                if self.task != "seg":  # a segmentation's copies are counted as it is made
                    self.copies += result.impacts.copies
                out.write(formatter(record, result))
                if output == "-":
                    out.flush()
                if not self.count_tasks:
                    bar.update(1)
            self._bar = None

    def task_finished(self) -> None:
        """One block of sentences finished on a worker (called on Dask's thread): the bar moves."""
        bar = self._bar
        if bar is not None:
            bar.update(1)

    def report(self, encoder, seconds: float) -> None:
        if self.unknown.count:
            warn(f"{_count(self.unknown.count, 'sentence')} without any character in the model's vocabulary "
                 f"(first: sentence {self.unknown.first}): not run; each character (or run of letters, digits "
                 "or symbols) is its own word")
        if self.empty.count and self.output_format == "conllu":
            warn(f"{_count(self.empty.count, 'empty sentence')} left out of the CoNLL-U output (first: sentence "
                 f"{self.empty.first}); the sent_ids of the others still count input lines")
        passes = encoder.forward_passes - self.passes_before
        per = self.copies / self.sentences if self.sentences else 0.0
        rate = self.sentences / seconds if seconds > 0 else 0.0
        where = f"in {_count(passes, 'forward pass', 'forward passes')}" if passes or not self.copies else "on the workers"
        note(f"{_count(self.sentences, 'sentence')} in {seconds:.1f}s ({rate:.1f}/s): {self.copies} masked copies "
             f"({per:.1f} a sentence) {where}")
        if self.auto_threshold and self.threshold == float("inf"):
            note("auto threshold: the impacts do not form two groups (fewer than two different values); "
                 "nothing was joined")
        elif self.auto_threshold and self.threshold is not None:
            note(f"threshold {self.threshold:.6g} (auto: two-cluster split of the impacts of the first "
                 f"{_count(min(self.sample, self.sentences), 'sentence')})")

    # ----- formats: one function per (task, format), each returning the text of one sentence

    def _format_seg_words(self, record: Record, result) -> str:
        return " ".join(result.words) + "\n"

    def _format_seg_json(self, record: Record, result) -> str:
        from mintext.parse.trees import json_line

        impacts = [round(float(x), 6) for x in result.impacts.adjacent]
        return json_line({"sent_id": record.sent_id, "text": record.text, "words": result.words,
                          "atoms": result.impacts.units, "impacts": impacts,
                          "threshold": round(result.threshold, 6) if result.threshold != float("inf") else None})

    def _format_tree_bracketed(self, record: Record, result) -> str:
        from mintext.parse.trees import bracketed

        return bracketed(result.tree, result.words) + "\n"

    def _format_tree_json(self, record: Record, result) -> str:
        from mintext.parse.trees import json_line, nested_words

        return json_line({"sent_id": record.sent_id, "text": record.text, "words": result.words,
                          "tree": nested_words(result.tree, result.words)})

    def _format_tree_pretty(self, record: Record, result) -> str:
        from mintext.parse.trees import draw_constituency

        return f"# {record.sent_id}: {record.text}\n{draw_constituency(result.tree, result.words)}\n"

    def _format_dep_conllu(self, record: Record, result) -> str:
        from mintext.parse.conllu import format_conllu

        if not result.words:
            return ""
        return format_conllu(result.words, [int(h) for h in result.heads], sent_id=record.sent_id, text=record.text,
                             source=record.source)

    def _format_dep_json(self, record: Record, result) -> str:
        from mintext.parse.trees import json_line

        return json_line({"sent_id": record.sent_id, "text": record.text, "words": result.words,
                          "heads": [int(h) for h in result.heads]})

    def _format_dep_pretty(self, record: Record, result) -> str:
        from mintext.parse.trees import draw_dependency

        return f"# {record.sent_id}: {record.text}\n{draw_dependency([int(h) for h in result.heads], result.words)}\n"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
