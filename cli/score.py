"""``mintext score``: compare a segmentation with a gold one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from cli.options import input_options, output_option, warn_undecodable
from mintext.errors import UsageError

if TYPE_CHECKING:
    from mintext.io.sources import DecodeStats


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("gold", metavar="GOLD")
@click.argument("predicted", metavar="PRED")
@click.option(
    "--words", "training_words", metavar="FILE",
    help="Training word list (one word per line): adds the OOV rate, OOV recall and IV recall.",
)
@click.option(
    "--conllu", is_flag=True,
    help="GOLD and PRED are CoNLL-U dependency trees over the same words: UAS with and without punctuation, "
    "and the right- and left-chain baselines on GOLD.",
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "tsv", "json"]), default="text", show_default=True,
    help="text: aligned table; tsv: one metric per line; json: one object.",
)
@input_options
@output_option
def score(
    gold: str, predicted: str, training_words: str | None, conllu: bool, output_format: str,
    encoding: str, errors: str, output: str,
) -> None:
    """Score a word segmentation PRED against GOLD (words separated by spaces).

    Word precision, recall and F1 over character spans, as the SIGHAN Bakeoff
    scorer computes them. The files must have the same lines with the same
    characters; only the spaces may differ.

    \b
    Examples:
      mintext score pku_test_gold.utf8 segmented.txt
      mintext score gold.txt pred.txt --words pku_training_words.utf8
      mintext discover test.txt -q -o lexicon.tsv --segment - | mintext score gold.txt -
      mintext score --conllu zh_gsdsimp-ud-test.conllu parsed.conllu
    """
    from mintext.io.atomic import atomic_output, check_outputs
    from mintext.io.sources import DecodeStats

    if [gold, predicted, training_words].count("-") > 1:
        raise UsageError("only one of GOLD, PRED and --words can be - (stdin)")
    check_outputs({"-o": output}, [p for p in (gold, predicted, training_words) if p is not None])
    stats = DecodeStats()
    if conllu:
        if training_words is not None:
            raise UsageError("--words goes with word-segmentation scores, not with --conllu")
        from mintext.parse.scoring import score_conllu

        result = score_conllu(gold, predicted, encoding, errors, stats=stats)
    else:
        result = _score_words(gold, predicted, training_words, encoding, errors, stats)
    warn_undecodable(stats, errors)

    with atomic_output(output) as out:
        if output_format == "json":
            out.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        elif output_format == "tsv":
            out.write("".join(f"{k}\t{v}\n" for k, v in result.as_dict().items() if v is not None))
        else:
            out.write(f"{result}\n")


def _score_words(gold: str, predicted: str, training_words: str | None, encoding: str, errors: str, stats: DecodeStats):
    from mintext.discovery.scoring import score_segmentation
    from mintext.errors import shown_name
    from mintext.io.sources import read_lines

    vocabulary = None
    if training_words is not None:
        vocabulary = {w for line in read_lines(training_words, encoding, errors, stats=stats) for w in line.split()}
    return score_segmentation(
        read_lines(gold, encoding, errors, stats=stats),
        read_lines(predicted, encoding, errors, stats=stats),
        vocabulary,
        gold_name=shown_name(gold) if gold != "-" else "<stdin>",
        predicted_name=shown_name(predicted) if predicted != "-" else "<stdin>",
    )
