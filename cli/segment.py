"""``mintext segment``: segment text with a lexicon."""

from __future__ import annotations

import click

from cli.options import checked_encoding, input_options, output_option, quiet_option, warn_undecodable


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "-l", "--lexicon", "lexicon_path", required=True, metavar="FILE",
    help="Lexicon: mintext discover's TSV, or 'word freq' lines (a jieba dictionary).",
)
@click.option(
    "--lexicon-encoding", default="utf-8", show_default=True, metavar="NAME", callback=checked_encoding,
    help="Encoding of the lexicon file.",
)
@click.option(
    "-k", "--max-word-length", type=click.IntRange(1, 6), metavar="K",
    help="Ignore lexicon words longer than K characters [default: the longest word, up to 6].",
)
@click.option(
    "--gaps", "gaps_path", metavar="FILE",
    help="Gap table written by discover --gaps: adds the discovery corpus's boundary evidence, as discover --segment does.",
)
@output_option
@input_options
@quiet_option
def segment(
    inputs: tuple[str, ...], lexicon_path: str, lexicon_encoding: str, max_word_length: int | None, gaps_path: str | None,
    output: str, encoding: str, errors: str, quiet: bool,
) -> None:
    """Segment text into words with a lexicon (maximum-probability unigram paths).

    Reads INPUT (files, directories, globs, compressed files; stdin if none or
    -) and writes one line per input line: its tokens separated by one space,
    the other characters unchanged. Runs of digits/letters and punctuation
    marks are tokens of their own. A word missing from the lexicon can still
    be found when it is cheaper than single characters under the lexicon's
    spelling model.

    \b
    Examples:
      mintext segment --lexicon lexicon.tsv corpus.txt > segmented.txt
      echo 孙悟空和猪八戒 | mintext segment -l xiyouji.tsv
      mintext segment -l userdict.txt -o out.txt news/*.txt.gz
    """
    from mintext.discovery.gaps import GapTable
    from mintext.discovery.lexicon import read_lexicon_columns, segmenter_for
    from mintext.errors import shown_name
    from mintext.io.atomic import atomic_output, check_outputs
    from mintext.io.progress import progress_bar
    from mintext.io.sources import Corpus

    inputs = inputs or ("-",)
    check_outputs({"-o": output}, [*inputs, lexicon_path, *([gaps_path] if gaps_path else [])])
    lexicon = read_lexicon_columns(lexicon_path, lexicon_encoding, encoding_option="--lexicon-encoding")
    gaps = GapTable.read(gaps_path, shown_name(gaps_path)) if gaps_path else None
    segmenter = segmenter_for(lexicon, max_len=max_word_length or 6, gaps=gaps)
    corpus = Corpus(list(inputs), encoding, errors)
    with atomic_output(output) as out, progress_bar(not quiet, desc="segmenting", unit="char", unit_scale=True) as bar:
        for batch in segmenter.segment_text(corpus.line_pieces(restartable=False)):  # stdin read once, not spooled
            out.write(batch.text)
            out.flush()
            bar.update(len(batch.text))
    warn_undecodable(corpus.stats, errors)

