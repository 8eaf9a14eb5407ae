"""Closed, maximal and top itemsets: exact against brute-force oracles, and the rules built on them."""

from __future__ import annotations

import pytest
from apriori_oracle import brute_force, closed_of, maximal_of, random_baskets, top_of
from hypothesis import given, settings
from hypothesis import strategies as st

import mintext
import mintext.association.condensed as condensed_module
import mintext.association.itemsets as itemsets_module
from mintext.association.baskets import Baskets
from mintext.association.condensed import condensed, top_itemsets
from mintext.association.itemsets import frequent_itemsets
from mintext.errors import UsageError

baskets_strategy = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "7", "10"]), max_size=8), min_size=1, max_size=40
)


def as_dict(found) -> dict[frozenset, int]:
    return {frozenset(found.items[i] for i in row): count
            for level in found.levels for row, count in zip(level.itemsets.tolist(), level.counts.tolist(), strict=True)}


@settings(max_examples=80, deadline=None)
@given(baskets=baskets_strategy, min_count=st.integers(1, 5), max_len=st.one_of(st.none(), st.integers(1, 4)),
       kind=st.sampled_from(["closed", "maximal"]))
def test_closed_and_maximal_match_brute_force(baskets, min_count, max_len, kind):
    min_count = min(min_count, len(baskets))
    found = frequent_itemsets(Baskets.from_iterable(baskets), min_count=min_count, max_len=max_len)
    oracle = (closed_of if kind == "closed" else maximal_of)(brute_force(baskets, min_count, max_len))
    result = condensed(found, kind)
    assert as_dict(result) == oracle
    frame = result.to_frame()  # the documented order is kept: a subsequence of the frequent itemsets
    rows = list(zip(found.to_frame()["itemset"], found.to_frame()["count"], strict=True))
    chosen = set(zip(frame["itemset"], frame["count"], strict=True))
    assert list(zip(frame["itemset"], frame["count"], strict=True)) == [r for r in rows if r in chosen]


@pytest.mark.parametrize("route", ["closure candidates", "subset lookups", "sorted matrices"])
@pytest.mark.parametrize("seed", range(3))
def test_closed_and_maximal_on_denser_random_data(seed, route, monkeypatch):
    """Every route gives the same condensed sets: the masked miner's closure candidates compared pairwise, or
    every itemset's subsets looked up by hash (chosen by cost, forced here), or the unmasked miner's levels."""
    if route == "sorted matrices":
        monkeypatch.setattr(itemsets_module, "MASKED_ITEMS", 0)
    monkeypatch.setattr(condensed_module, "LOOKUP_PAIRS", 0 if route == "subset lookups" else 10**9)
    monkeypatch.setattr(condensed_module, "PAIRS_PER_BLOCK", 50)  # several blocks per group
    baskets = random_baskets(seed, n=120, n_items=11, density=0.6)
    frequent = brute_force(baskets, 10)
    found = frequent_itemsets(Baskets.from_iterable(baskets), min_count=10)
    assert (found.closures is not None) == (route != "sorted matrices")
    assert as_dict(condensed(found, "closed")) == closed_of(frequent)
    assert as_dict(condensed(found, "maximal")) == maximal_of(frequent)


@settings(max_examples=60, deadline=None)
@given(baskets=baskets_strategy, n=st.integers(1, 30), at_most=st.booleans(), closed=st.booleans())
def test_top_matches_sorting_every_count(baskets, n, at_most, closed):
    every = brute_force(baskets, 1)
    if closed:
        every = closed_of(every)
    result = top_itemsets(Baskets.from_iterable(baskets), n, at_most=at_most, closed=closed)
    assert as_dict(result) == top_of(every, n, at_most)
    assert len(result) <= n if at_most else len(result) >= min(n, len(every))


def test_top_keeps_a_support_as_a_floor():
    baskets = [["a", "b"], ["a", "b"], ["a", "c"], ["d"]]
    assert as_dict(top_itemsets(Baskets.from_iterable(baskets), 10, min_count=2)) == {
        frozenset("a"): 3, frozenset("b"): 2, frozenset("ab"): 2}


def test_rules_from_closed_itemsets_are_the_rules_whose_union_is_closed():
    baskets = [b + ["z"] if "i1" in b else b for b in random_baskets(4, n=150, n_items=9, density=0.6)]  # i1 -> z
    every = mintext.apriori(baskets, min_count=15, min_confidence=0.3)
    closed_sets = set(closed_of(brute_force(baskets, 15)))
    expected = every[[frozenset(a) | frozenset(c) in closed_sets
                      for a, c in zip(every["antecedent"], every["consequent"], strict=True)]].reset_index(drop=True)
    got = mintext.apriori(baskets, min_count=15, min_confidence=0.3, closed=True)
    assert 0 < len(got) < len(every)
    assert got.equals(expected)  # same rows, metrics and order: only the rules of non-closed itemsets are gone


@pytest.mark.parametrize(
    "options, message",
    [
        ({"closed": True, "maximal": True}, "give --closed or --maximal, not both"),
        ({"top": 3, "max_itemsets": 3}, "give --top or --max-itemsets, not both"),
        ({"top": 3, "maximal": True}, "with --maximal choose a support"),
        ({"top": 0}, "--top must be a whole number >= 1, got 0"),
    ],
)
def test_selection_errors(options, message):
    with pytest.raises(UsageError, match=message):
        mintext.apriori([["a", "b"]], itemsets=True, **options)
