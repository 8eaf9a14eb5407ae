"""``mintext discover``: minimal-entropy word discovery."""

from __future__ import annotations

import contextlib
import os
import time

import click

from cli.options import (
    ByteSize,
    FiniteFloatRange,
    cluster,
    input_options,
    note,
    output_option,
    quiet_option,
    scheduler_option,
)

EXPERT = "Expert (the defaults hold from 100 thousand to hundreds of millions of characters)"


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@output_option
@click.option(
    "--format", "fmt", type=click.Choice(["tsv", "jieba"]), default="tsv", show_default=True,
    help="tsv: word, freq, length, pmi, left_entropy, right_entropy, count, banned with a header and a '#' line of "
    "options (the whole word model: segment -l uses it); jieba: 'word freq' lines that jieba loads as a dictionary.",
)
@click.option(
    "--segment", "segment_to", metavar="FILE",
    help="Also write the corpus segmented with the lexicon (one line per input line, words separated by a space).",
)
@click.option(
    "--gaps", "gaps_to", metavar="FILE",
    help="Also write the gap table (the corpus's boundary evidence): with it, segment -l LEXICON --gaps FILE "
    "reproduces --segment byte for byte.",
)
@click.option("--min-freq", type=click.IntRange(min=1), default=1, show_default=True, metavar="N", help="List words seen at least N times.")
@click.option("--min-length", type=click.IntRange(min=1), default=1, show_default=True, metavar="N", help="List words of at least N characters.")
@click.option("--top", type=click.IntRange(min=1), metavar="N", help="List only the N most frequent words.")
@click.option(
    "-k", "--max-word-length", type=click.IntRange(1, 6), default=3, show_default=True, metavar="K",
    help="Longest word to discover, 1..6.",
)
@click.option("--nfkc", is_flag=True, help="Normalise the text with Unicode NFKC first (full-width forms to half-width).")
@input_options
@click.option("--memory", type=ByteSize(), default="2G", show_default=True, help="Memory for n-gram counting before spilling to a temporary directory.")
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 64), default=min(os.cpu_count() or 1, 4), show_default="cores, at most 4",
    metavar="N", help="Processes for refinement and the final pass (used on corpora over 4 million characters).",
)
@scheduler_option
@quiet_option
@click.option("--min-count", type=click.IntRange(min=1), metavar="N", help=f"{EXPERT}: count threshold of the threshold stage [default: 2 up to a million characters, growing with the cube root of the corpus size].")
@click.option("--rounds", type=click.IntRange(0, 50), default=6, show_default=True, metavar="N", help="Expert: most refinement rounds (they stop when the code length stops falling).")
@click.option("--gap-weight", type=FiniteFloatRange(min=0), default=2.0, show_default=True, metavar="X", help="Expert: weight of the boundary evidence of gaps.")
@click.option("--autonomy", type=FiniteFloatRange(0, 1), default=0.5, show_default=True, metavar="X", help="Expert: free-form test: how often the parts of a compound must occur on their own.")
@click.option("--free-share", type=FiniteFloatRange(0, 1), default=0.5, show_default=True, metavar="X", help="Expert: free-form test: share of its occurrences a character must stand alone to count as free.")
@click.option("--sample", type=click.IntRange(min=1000), default=4_000_000, show_default=True, metavar="CHARS", help="Expert: refine on at most this many characters, spread over the corpus.")
def discover(
    inputs: tuple[str, ...], output: str, fmt: str, segment_to: str | None, gaps_to: str | None, min_freq: int, min_length: int,
    top: int | None, max_word_length: int, nfkc: bool, encoding: str, errors: str, memory: int, jobs: int,
    scheduler: str | None, quiet: bool, min_count: int | None, rounds: int, gap_weight: float, autonomy: float, free_share: float, sample: int,
) -> None:
    """Discover the words of a Chinese corpus, with no dictionary and no labels.

    Reads INPUT (files, directories, globs, .gz/.bz2/.xz, or - for stdin) and
    writes a lexicon sorted by frequency. See README "How discovery works".

    \b
    Examples:
      mintext discover corpus.txt | head -20
      mintext discover corpus.txt -o lexicon.tsv --segment segmented.txt
      mintext discover big/ --min-length 2 --top 1000 -o words.tsv
      mintext discover corpus.txt --format jieba -o userdict.txt
      mintext discover old.txt --encoding gb18030 --segment - -q -o lex.tsv | mintext score gold.txt -
    """
    from mintext.discovery.lexicon import header_line, write_lexicon
    from mintext.discovery.pipeline import discover_lexicon as run
    from mintext.errors import shown_name
    from mintext.io.atomic import atomic_output, check_outputs

    if output == "-" and segment_to == "-":
        raise click.UsageError("the lexicon and the segmented corpus cannot both go to stdout; give -o FILE or --segment FILE")
    check_outputs({"-o": output, "--segment": segment_to, "--gaps": gaps_to}, inputs)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        executor = stack.enter_context(cluster(scheduler))
        segmented = stack.enter_context(atomic_output(segment_to)) if segment_to else None
        gaps = stack.enter_context(atomic_output(gaps_to)) if gaps_to else None
        lexicon = run(
            list(inputs), max_word_length=max_word_length, min_count=min_count, rounds=rounds, encoding=encoding,
            errors=errors, nfkc=nfkc, memory=memory, jobs=jobs, segmented=segmented, gaps=gaps, progress=not quiet,
            gap_weight=gap_weight, autonomy=autonomy, free_share=free_share, sample=sample, executor=executor,
        )
        options, freq = lexicon.options, lexicon.columns["freq"]
        whole = min_freq == 1 and min_length == 1 and top is None
        # unfiltered, the lexicon is the whole model, with the words only the model holds (freq 0)
        shown = lexicon if whole else lexicon.rows((freq >= min_freq) & (lexicon.columns["length"] >= min_length))
        if top is not None:
            shown = shown.rows(slice(0, top))
        header = header_line({"mintext": _version(), "discover": " ".join(map(shown_name, inputs)), **options})
        with atomic_output(output) as out:
            write_lexicon(shown, out, fmt, header)
    note(
        f"{options['characters']:,} Han characters, {int((freq > 0).sum()):,} words discovered, "
        f"{int((shown.columns['freq'] > 0).sum()):,} listed "
        f"({time.perf_counter() - started:.1f} s)"
    )


def _version() -> str:
    from mintext import __version__

    return __version__
