"""``mintext apriori``: frequent itemsets and association rules from baskets."""

from __future__ import annotations

import time

import click
from click.core import ParameterSource

from cli.options import ByteSize, cluster, input_options, note, output_option, quiet_option, scheduler_option, warn

BASKET_FORMATS = ("basket", "fimi", "long")
OUTPUT_FORMATS = ("csv", "tsv", "jsonl")


def _fraction(low_open: bool):
    """A click callback: a float in (0, 1] (``low_open``) or [0, 1], with mintext's error wording."""

    def check(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
        if value is None:
            return None
        if not (0 < value <= 1 if low_open else 0 <= value <= 1):
            interval = "(0, 1]" if low_open else "[0, 1]"
            raise click.UsageError(f"{param.opts[-1]} must be in {interval}, got {value:g}", ctx)
        return value

    return check


def _separator(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--sep``: ``\\t`` (two characters, as typed in a shell) means a tab."""
    if value is None:
        return None
    value = value.replace("\\t", "\t")
    if not value or any(c in value for c in '"\n\r'):
        raise click.UsageError(f"--sep must be a non-empty string without quotes or line breaks, got {value!r}", ctx)
    return value


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "-s", "--min-support", type=float, callback=_fraction(low_open=True), metavar="FRACTION",
    help="Frequent itemsets are in at least this fraction of the baskets, in (0, 1]  [default: 0.01].",
)
@click.option(
    "-n", "--min-count", type=click.IntRange(min=1), metavar="N",
    help="Frequent itemsets are in at least N baskets (instead of --min-support).",
)
@click.option("-l", "--max-len", type=click.IntRange(min=1), metavar="N", help="Longest itemset to look for.")
@click.option("--itemsets", is_flag=True, help="Write the frequent itemsets instead of rules.")
@click.option(
    "--closed", is_flag=True,
    help="Only closed itemsets (no superset has the same count); rules: only those whose X u Y is closed.",
)
@click.option(
    "--maximal", is_flag=True,
    help="Only maximal itemsets (no superset is frequent); rules: only those whose X u Y is maximal.",
)
@click.option(
    "--stream", is_flag=True,
    help="With --itemsets: mine depth-first and write itemsets as they are found, in memory that does not grow "
    "with their number (grouped by their rarest item; see docs/apriori.md).",
)
@click.option(
    "--top", type=click.IntRange(min=1), metavar="N",
    help="The itemsets of the N highest counts (more on ties), without choosing a support.",
)
@click.option(
    "--max-itemsets", type=click.IntRange(min=1), metavar="N",
    help="The lowest threshold with at most N frequent itemsets, without choosing a support.",
)
@click.option(
    "-c", "--min-confidence", type=float, default=0.5, show_default=True, callback=_fraction(low_open=False),
    metavar="FRACTION", help="Keep rules X -> Y with count(X u Y) / count(X) at least this, in [0, 1].",
)
@click.option("--min-lift", type=click.FloatRange(min=0), metavar="X", help="Keep rules with lift at least X.")
@click.option("--max-consequent", type=click.IntRange(min=1), metavar="N", help="At most N items on the right.")
@click.option(
    "--antecedent", multiple=True, metavar="ITEM", help="Only rules with ITEM on the left (repeat for several items)."
)
@click.option(
    "--consequent", multiple=True, metavar="ITEM", help="Only rules with ITEM on the right (repeat for several items)."
)
@click.option(
    "--format", "basket_format", type=click.Choice(BASKET_FORMATS),
    help="basket: one basket per line, items separated by --sep (default for .csv/.txt); fimi: items separated "
    "by spaces (default for .dat); long: a header, then one 'basket id, item' row per line.",
)
@click.option(
    "--sep", callback=_separator, metavar="TEXT",
    help="Item separator (basket) or column separator (long); '\\t' for a tab  [default: ',', a tab for .tsv].",
)
@click.option("--tid", metavar="COLUMN", help="Basket id column of --format long [default: the first of two].")
@click.option("--item", metavar="COLUMN", help="Item column of --format long [default: the second of two].")
@click.option("--skip-empty", is_flag=True, help="Do not count empty lines as (empty) baskets.")
@click.option(
    "--output-format", type=click.Choice(OUTPUT_FORMATS), default="csv", show_default=True,
    help="csv and tsv have a header line; jsonl writes one JSON object per line.",
)
@click.option(
    "--item-sep", default="|", show_default=True, metavar="TEXT",
    help="Joins the items of an itemset, antecedent or consequent in csv and tsv (an item that contains it "
    "is refused).",
)
@click.option(
    "--memory", type=ByteSize(), default="2G", show_default=True,
    help="Most memory for itemsets, bitsets and working arrays; mining stops with an error beyond it (--stream "
    "splits its work to stay within it).",
)
@input_options
@output_option
@scheduler_option
@quiet_option
def apriori(
    inputs: tuple[str, ...],
    min_support: float | None,
    min_count: int | None,
    max_len: int | None,
    itemsets: bool,
    closed: bool,
    maximal: bool,
    stream: bool,
    top: int | None,
    max_itemsets: int | None,
    min_confidence: float,
    min_lift: float | None,
    max_consequent: int | None,
    antecedent: tuple[str, ...],
    consequent: tuple[str, ...],
    basket_format: str | None,
    sep: str | None,
    tid: str | None,
    item: str | None,
    skip_empty: bool,
    output_format: str,
    item_sep: str,
    memory: int,
    encoding: str,
    errors: str,
    output: str,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Association rules (or, with --itemsets, frequent itemsets) from baskets of items.

    INPUT is one basket per line (CSV, or FIMI .dat files), or a long table of
    (basket id, item) rows; several files, globs, directories, compressed files
    and - for stdin are read as one input.

    Rules X -> Y come with count (baskets holding X and Y), support,
    confidence, lift, leverage, conviction, zhang and jaccard; rows are grouped
    by itemset (length, count descending, items), then by consequent. Itemsets
    are sorted by length, count descending, then items. Items within a set are
    in natural order (numbers by value, then text). See docs/apriori.md.

    \b
    Examples:
      mintext apriori groceries.csv --min-support 0.001
      mintext apriori groceries.csv -s 0.001 --max-consequent 1 --min-lift 2 -o rules.csv
      mintext apriori retail.dat.gz --itemsets -s 0.0005 --output-format jsonl
      mintext apriori orders.csv --format long --tid order_id --item product -n 50
      mintext apriori groceries.csv -s 0.001 --consequent "whole milk" --output-format tsv
      cat baskets.txt | mintext apriori - --itemsets -n 2 -l 3
    """
    import numpy as np

    from mintext.association.baskets import read_baskets
    from mintext.association.cluster_baskets import read_baskets_on
    from mintext.association.itemsets import support_threshold
    from mintext.association.pipeline import check_selection, mine
    from mintext.association.rules import association_rules, rule_item_ids
    from mintext.association.stream import stream_itemsets
    from mintext.association.tables import TableWriter, check_item_sep
    from mintext.io.atomic import atomic_output, check_outputs
    from mintext.io.sources import DecodeStats

    if min_support is not None and min_count is not None:
        raise click.UsageError("give --min-support or --min-count, not both")
    check_selection(closed, maximal, top, max_itemsets)
    _check_itemset_options(itemsets, stream, {"--closed": closed, "--maximal": maximal, "--top": top,
                                              "--max-itemsets": max_itemsets})
    if scheduler is not None and stream:
        raise click.UsageError("--stream mines depth-first in this process; it does not combine with --scheduler")
    if scheduler is not None and (top or max_itemsets):
        raise click.UsageError("--top and --max-itemsets do not run on a cluster; give a support without --scheduler")
    check_outputs({"-o": output}, inputs)
    stats = DecodeStats()
    with cluster(scheduler) as executor:  # an unreachable scheduler is said before the reading
        clock = time.perf_counter()
        read_options = {"format": basket_format, "sep": sep, "tid": tid, "item": item, "encoding": encoding,
                        "errors": errors, "skip_empty": skip_empty, "stats": stats}
        if executor is None:
            baskets = read_baskets(list(inputs), **read_options)
        else:  # the workers read the files and keep the baskets
            baskets = read_baskets_on(executor, list(inputs), progress=not quiet, **read_options)
        if stats.replaced:
            warn(f"{stats.replaced:,} undecodable byte sequence(s) {'replaced' if errors == 'replace' else 'dropped'}")
        rule_item_ids(baskets.items, antecedent, consequent)  # unknown items, or one on both sides, fail before mining
        ranked = top or max_itemsets
        if ranked and min_support is None and min_count is None:
            threshold = 1  # --top and --max-itemsets choose the threshold; a support given is a floor
        else:
            threshold = support_threshold(baskets.n_baskets, min_support, min_count)
        frequent = np.flatnonzero(baskets.item_counts() >= threshold).tolist()
        check_item_sep([baskets.items[i] for i in frequent], item_sep, output_format)
        hint = baskets.space_separated_hint() if basket_format != "fimi" else None
        if hint:
            warn(hint)
        read_s, clock = time.perf_counter() - clock, time.perf_counter()
        with atomic_output(output) as out:  # opened before the mining: it is never half-written
            writer = TableWriter(out, baskets.items, output_format=output_format, item_sep=item_sep)
            if stream:
                blocks = stream_itemsets(baskets, min_count=threshold, max_len=max_len, memory=memory)
                rows = writer.itemset_blocks(blocks, baskets.n_baskets)
                note(
                    f"{baskets.n_baskets:,} baskets, {baskets.n_items:,} items (read in {read_s:.2f} s); "
                    f"wrote {rows:,} frequent itemsets with count >= {threshold:,} as found in "
                    f"{time.perf_counter() - clock:.2f} s"
                )
                return
            found, base = mine(
                baskets, min_count=threshold, max_len=max_len, closed=closed, maximal=maximal, top=top,
                max_itemsets=max_itemsets, rules=not itemsets, memory=memory, progress=not quiet, executor=executor,
            )
            mine_s, clock = time.perf_counter() - clock, time.perf_counter()
            kind = "closed" if closed else "maximal" if maximal else "frequent"
            among = f" (among {len(found):,} frequent)" if base is not found else ""
            note(
                f"{baskets.n_baskets:,} baskets, {baskets.n_items:,} items (read in {read_s:.2f} s); "
                f"{len(base):,} {kind} itemsets{among} with count >= {found.min_count:,} (mined in {mine_s:.2f} s)"
            )
            if itemsets:
                rows = writer.itemsets(base)
            else:
                rows = writer.rules(association_rules(
                    found, min_confidence=min_confidence, min_lift=min_lift, max_consequent=max_consequent,
                    antecedent=antecedent, consequent=consequent, base=base,
                ))
    what = "itemsets" if itemsets else "rules"
    note(f"wrote {rows:,} {what} in {time.perf_counter() - clock:.2f} s")
    if not len(found):
        note("no itemset is frequent: lower --min-support or --min-count")


def _check_itemset_options(itemsets: bool, stream: bool, selections: dict[str, object]) -> None:
    """Usage errors for options that need or exclude --itemsets and --stream (``selections``: --closed,
    --maximal, --top, --max-itemsets as given)."""
    if stream and not itemsets:
        raise click.UsageError("--stream writes itemsets: add --itemsets (rules need every itemset's count at once)")
    given = [option for option, value in selections.items() if value]
    if stream and given:
        raise click.UsageError(f"--stream writes every frequent itemset as found; it does not combine with {given[0]}")
    if itemsets:
        ctx = click.get_current_context()
        rule_options = ("min_confidence", "min_lift", "max_consequent", "antecedent", "consequent")
        given = [
            f"--{name.replace('_', '-')}"
            for name in rule_options
            if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
        ]
        if given:
            raise click.UsageError(f"{', '.join(given)} filter rules; --itemsets writes itemsets")
