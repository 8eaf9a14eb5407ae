"""Closed and maximal itemsets mined directly (LCM): exact against brute force, and the same levels, bytes and
errors as the level-wise route (a second implementation)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from apriori_oracle import brute_force, closed_of, maximal_of, random_baskets
from hypothesis import given, settings
from hypothesis import strategies as st

import mintext
import mintext.association.closure as closure_module
import mintext.association.pipeline as pipeline_module
from mintext.association.baskets import Baskets
from mintext.association.closure import mined_condensed, pays
from mintext.association.condensed import condensed
from mintext.association.itemsets import MemoryLimitError, frequent_itemsets

baskets_strategy = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "7", "10"]), max_size=8), min_size=1, max_size=40
)


def as_dict(found) -> dict[frozenset, int]:
    return {frozenset(found.items[i] for i in row): count
            for level in found.levels for row, count in zip(level.itemsets.tolist(), level.counts.tolist(), strict=True)}


def same_levels(ours, theirs) -> bool:
    """Identical levels: the same item ids, rows in the same order, the same counts."""
    return len(ours.levels) == len(theirs.levels) and all(
        np.array_equal(a.itemsets, b.itemsets) and np.array_equal(a.counts, b.counts)
        for a, b in zip(ours.levels, theirs.levels, strict=True))


@settings(max_examples=150, deadline=None)
@given(baskets=baskets_strategy, min_count=st.integers(1, 6), kind=st.sampled_from(["closed", "maximal"]),
       everywhere=st.booleans())
def test_matches_brute_force(baskets, min_count, kind, everywhere):
    """Random baskets (with ``everywhere``, an item in every basket: the closure of the empty set)."""
    if everywhere:
        baskets = [b + ["z"] for b in baskets]
    min_count = min(min_count, len(baskets))
    oracle = (closed_of if kind == "closed" else maximal_of)(brute_force(baskets, min_count))
    assert as_dict(mined_condensed(Baskets.from_iterable(baskets), min_count=min_count, kind=kind)) == oracle


@pytest.mark.parametrize("pair_words", [1, 64, 1 << 20])
@pytest.mark.parametrize(("seed", "n_items", "density", "min_count"),
                         [(0, 12, 0.7, 20), (1, 20, 0.5, 15), (2, 90, 0.3, 8), (3, 9, 0.95, 30)])
def test_same_levels_as_the_level_wise_route(seed, n_items, density, min_count, pair_words, monkeypatch):
    """Denser data, more than 64 items in one case, chunks split down to single candidates and joined
    (``PAIR_WORDS``): the same sorted levels as condensing every frequent itemset."""
    monkeypatch.setattr(closure_module, "PAIR_WORDS", pair_words)
    data = Baskets.from_iterable(random_baskets(seed, n=300, n_items=n_items, density=density))
    found = frequent_itemsets(data, min_count=min_count)
    for kind in ("closed", "maximal"):
        assert same_levels(mined_condensed(data, min_count=min_count, kind=kind), condensed(found, kind))


def test_all_frequent_items_together_are_the_one_maximal_itemset():
    data = Baskets.from_iterable([["a", "b", "c"]] * 5 + [["a", "b", "c", "d"]] + [["z"]])
    assert as_dict(mined_condensed(data, min_count=5, kind="maximal")) == {frozenset("abc"): 6}
    assert as_dict(mined_condensed(data, min_count=5, kind="closed")) == {frozenset("abc"): 6}
    assert as_dict(mined_condensed(Baskets.from_iterable([["a"], ["a"]]), min_count=1, kind="maximal")) == {
        frozenset("a"): 2}
    assert len(mined_condensed(data, min_count=7, kind="closed")) == 0


@pytest.mark.parametrize("pair_words", [1, 1 << 20])
def test_pair_counts_count_the_baskets_holding_both_items(pair_words, monkeypatch):
    """``_pair_counts`` against a Counter of the item pairs of every basket (one row per block, and all at once;
    more than 64 baskets, so tid bitsets of several words)."""
    monkeypatch.setattr(closure_module, "PAIR_WORDS", pair_words)
    baskets = random_baskets(8, n=150, n_items=9, density=0.6)
    data = Baskets.from_iterable(baskets)
    miner = closure_module._Closures(data, 1, False, 1 << 30)
    names = [data.items[i] for i in miner.item_ids.tolist()]
    pairs = Counter((a, b) for basket in baskets for a in set(basket) for b in set(basket))
    expected = [[pairs[a, b] for b in names] for a in names]
    assert closure_module._pair_counts(miner.bits).tolist() == expected


def test_memory_limit():
    data = Baskets.from_iterable(random_baskets(5, n=200, n_items=14, density=0.8))
    with pytest.raises(MemoryLimitError, match="over the memory limit of 1.0 KiB; raise --min-support"):
        mined_condensed(data, min_count=10, kind="closed", memory=1024)


def test_pays_on_dense_data_only():
    dense = Baskets.from_iterable(random_baskets(6, n=200, n_items=20, density=0.6))
    sparse = Baskets.from_iterable([[f"i{b}", f"i{b + 1}"] for b in range(200)])
    assert pays(dense, 10) and not pays(sparse, 1)
    assert not pays(dense, 10, memory=100)  # the item bitsets would take more than memory / BITSET_SHARE


@pytest.mark.parametrize("kind", ["closed", "maximal"])
def test_itemsets_take_the_closure_route_only_without_rules(kind, monkeypatch):
    """``apriori(itemsets=True)`` mines closed (maximal) itemsets directly where that pays, with the same frame
    as the level-wise route; rules (which need every frequent itemset's count) take the level-wise route."""
    baskets = random_baskets(7, n=200, n_items=15, density=0.6)
    calls = []
    monkeypatch.setattr(pipeline_module, "mined_condensed",
                        lambda *a, **k: calls.append(k) or closure_module.mined_condensed(*a, **k))
    direct = mintext.apriori(baskets, min_count=12, itemsets=True, **{kind: True})
    assert len(calls) == 1
    monkeypatch.setattr(pipeline_module, "pays", lambda *a: False)
    assert direct.equals(mintext.apriori(baskets, min_count=12, itemsets=True, **{kind: True}))
    mintext.apriori(baskets, min_count=12, min_confidence=0.9, **{kind: True})
    assert len(calls) == 1


def test_top_closed_rules_count_every_subset():
    """--top with --closed: rules need every frequent itemset at the chosen threshold, not only the closed ones."""
    baskets = [["a", "b", "c"], ["a", "b"], ["a", "b", "d"], ["c"]]
    rules = mintext.apriori(baskets, top=2, closed=True, min_confidence=0.1)
    assert list(zip(rules["antecedent"], rules["consequent"], rules["count"], strict=True)) == [
        (("b",), ("a",), 3), (("a",), ("b",), 3)]
    assert as_dict_frame(mintext.apriori(baskets, top=2, closed=True, itemsets=True)) == {
        frozenset("ab"): 3, frozenset("c"): 2}


def as_dict_frame(frame) -> dict[frozenset, int]:
    return {frozenset(s): c for s, c in zip(frame["itemset"], frame["count"], strict=True)}
