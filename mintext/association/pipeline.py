"""``mintext.apriori``: baskets in, a pandas DataFrame of association rules or frequent itemsets out.

>>> import mintext
>>> rules = mintext.apriori([["milk", "bread"], ["milk", "eggs"], ["milk", "bread", "eggs"]], min_count=2)
>>> rules[["antecedent", "consequent", "count", "confidence"]]
  antecedent consequent  count  confidence
0    (milk,)   (bread,)      2    0.666667
1   (bread,)    (milk,)      2    1.000000
2    (milk,)    (eggs,)      2    0.666667
3    (eggs,)    (milk,)      2    1.000000
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from mintext.association.baskets import Baskets, read_baskets
from mintext.association.closure import mined_condensed, pays
from mintext.association.cluster_baskets import PIECES_PER_WORKER, ClusterBaskets, read_baskets_on
from mintext.association.condensed import condensed, top_itemsets
from mintext.association.distributed import frequent_itemsets_on
from mintext.association.itemsets import DEFAULT_MEMORY, FrequentItemsets, frequent_itemsets, support_threshold
from mintext.association.rules import association_rules, rules_frame
from mintext.cluster.executor import Executor
from mintext.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd


def apriori(
    baskets: Baskets | ClusterBaskets | str | os.PathLike | Sequence[str] | Iterable[Iterable[str]],
    *,
    min_support: float | None = None,
    min_count: int | None = None,
    max_len: int | None = None,
    itemsets: bool = False,
    closed: bool = False,
    maximal: bool = False,
    top: int | None = None,
    max_itemsets: int | None = None,
    min_confidence: float = 0.5,
    min_lift: float | None = None,
    max_consequent: int | None = None,
    antecedent: Sequence[str] | str = (),
    consequent: Sequence[str] | str = (),
    format: str | None = None,
    sep: str | None = None,
    tid: str | None = None,
    item: str | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    skip_empty: bool = False,
    memory: int = DEFAULT_MEMORY,
    progress: bool = False,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Frequent itemsets and association rules, as ``mintext apriori`` computes them.

    ``baskets`` is a path (or a list of paths, globs, ``-``) read like the
    command reads it (``format``, ``sep``, ``tid``, ``item``, ``encoding``,
    ``errors``, ``skip_empty``), a :class:`~mintext.association.baskets.Baskets`, or any
    iterable of baskets, each an iterable of item names.

    Itemsets are frequent when their basket count is at least ``min_count``,
    or their support at least ``min_support`` (default 0.01); ``max_len``
    bounds their length. ``closed`` keeps the closed itemsets (no superset
    has the same count), ``maximal`` the maximal ones (no superset is
    frequent); for rules, those whose ``X u Y`` is such an itemset. ``top``
    keeps the itemsets of the ``top`` highest counts (more on ties) and
    ``max_itemsets`` those at the lowest threshold with at most that many,
    instead of a support (a support given is a floor; see
    :func:`~mintext.association.condensed.top_itemsets`).
    With ``itemsets=True`` the result has the columns
    itemset, length, count, support; otherwise it has the rules with
    ``confidence >= min_confidence`` (and ``lift >= min_lift``), columns
    antecedent, consequent, count, support, confidence, lift, leverage,
    conviction, zhang, jaccard. Itemsets, antecedents and consequents are
    tuples of item names. Rows come in the documented order (see
    ``docs/apriori.md``), the same as the command's. ``executor`` (a cluster,
    :func:`mintext.cluster.dask.connect`) counts the itemsets there (Count
    Distribution, :mod:`mintext.association.distributed`), with the same result.
    """
    if not isinstance(baskets, (Baskets, ClusterBaskets)):
        if executor is not None and (isinstance(baskets, (str, os.PathLike)) or _is_list_of_paths(baskets)):
            baskets = read_baskets_on(
                executor, baskets, format=format, sep=sep, tid=tid, item=item, encoding=encoding, errors=errors,
                skip_empty=skip_empty,
            )
        elif isinstance(baskets, (str, os.PathLike)) or _is_list_of_paths(baskets):
            baskets = read_baskets(
                baskets, format=format, sep=sep, tid=tid, item=item, encoding=encoding, errors=errors,
                skip_empty=skip_empty,
            )
        else:
            baskets = Baskets.from_iterable(baskets, skip_empty=skip_empty)
    found, base = mine(
        baskets, min_support=min_support, min_count=min_count, max_len=max_len, closed=closed, maximal=maximal,
        top=top, max_itemsets=max_itemsets, rules=not itemsets, memory=memory, progress=progress,
        executor=executor,
    )
    if itemsets:
        return base.to_frame()
    blocks = association_rules(
        found,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_consequent=max_consequent,
        antecedent=antecedent,
        consequent=consequent,
        base=base,
    )
    return rules_frame(blocks, found.items)


def mine(
    baskets: Baskets | ClusterBaskets,
    *,
    min_support: float | None = None,
    min_count: int | None = None,
    max_len: int | None = None,
    closed: bool = False,
    maximal: bool = False,
    top: int | None = None,
    max_itemsets: int | None = None,
    rules: bool = True,
    memory: int = DEFAULT_MEMORY,
    progress: bool = False,
    executor: Executor | None = None,
) -> tuple[FrequentItemsets, FrequentItemsets]:
    """The frequent itemsets (``found``, every count the rules need) and the ones asked for (``base``: the same,
    or the closed, maximal or top ones), as :func:`apriori` describes; counted on ``executor`` when given
    (``memory`` then does not apply). Raises :class:`UsageError` for options that exclude each other.

    Without ``rules`` only ``base`` is needed: closed and maximal itemsets are
    then mined directly on dense data (:mod:`~mintext.association.closure`,
    chosen by :func:`~mintext.association.closure.pays`), and ``found`` is
    ``base``.
    """
    check_selection(closed, maximal, top, max_itemsets)
    ranked = top or max_itemsets
    if executor is not None:
        if ranked:
            raise UsageError("--top and --max-itemsets do not run on a cluster; give a support without --scheduler")
        if isinstance(baskets, Baskets):
            baskets = ClusterBaskets.shipped(executor, baskets, PIECES_PER_WORKER * executor.workers)
        found = frequent_itemsets_on(executor, baskets, min_support=min_support, min_count=min_count, max_len=max_len,
                                     progress=progress)
        if closed or maximal:
            return found, condensed(found, "closed" if closed else "maximal")
        return found, found
    if ranked:
        floor = 1 if min_support is None and min_count is None else None
        floor = floor or support_threshold(baskets.n_baskets, min_support, min_count)
        base = top_itemsets(
            baskets, ranked, at_most=max_itemsets is not None, closed=closed, min_count=floor, max_len=max_len,
            memory=memory, progress=progress,
        )
        if not (closed and rules):
            return base, base
        found = frequent_itemsets(baskets, min_count=base.min_count, max_len=max_len, memory=memory,
                                  progress=progress)
        return found, base
    kind = "closed" if closed else "maximal" if maximal else None
    threshold = support_threshold(baskets.n_baskets, min_support, min_count) if baskets.n_baskets else None
    if kind and not rules and max_len is None and threshold is not None and pays(baskets, threshold, memory):
        base = mined_condensed(baskets, min_count=threshold, kind=kind, memory=memory)
        return base, base
    found = frequent_itemsets(
        baskets, min_support=min_support, min_count=min_count, max_len=max_len, memory=memory, progress=progress
    )
    if kind:
        return found, condensed(found, kind)
    return found, found


def check_selection(closed: bool, maximal: bool, top: int | None, max_itemsets: int | None) -> None:
    """Raise :class:`UsageError` for ``closed``, ``maximal``, ``top`` and ``max_itemsets`` that exclude each other."""
    if closed and maximal:
        raise UsageError("give --closed or --maximal, not both (maximal itemsets are closed)")
    if top is not None and max_itemsets is not None:
        raise UsageError("give --top or --max-itemsets, not both")
    if maximal and (top or max_itemsets):
        raise UsageError("--top and --max-itemsets rank itemsets by count; with --maximal choose a support")
    for option, value in (("--top", top), ("--max-itemsets", max_itemsets)):
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
            raise UsageError(f"{option} must be a whole number >= 1, got {value}")


def _is_list_of_paths(value: object) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, (str, os.PathLike)) for v in value)
