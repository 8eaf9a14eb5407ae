"""Association rules: exact against a brute-force oracle, metrics as defined, filters, documented order."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from apriori_oracle import brute_force, natural_key, random_baskets
from hypothesis import given, settings
from hypothesis import strategies as st

import mintext.association.rules as rules_module
from mintext.association.baskets import Baskets
from mintext.association.itemsets import frequent_itemsets
from mintext.association.rules import association_rules, rules_frame
from mintext.errors import UsageError


def oracle_rules(baskets, min_count, min_confidence, max_consequent=None):
    """Every split of every brute-force frequent itemset, with metrics from the textbook formulas."""
    n = len(baskets)
    counts = brute_force(baskets, min_count)
    found = {}
    for whole, count in counts.items():
        for size in range(1, len(whole)):
            if max_consequent is not None and size > max_consequent:
                continue
            for right in itertools.combinations(sorted(whole), size):
                right = frozenset(right)
                left = whole - right
                s_xy, s_x, s_y = count / n, counts[left] / n, counts[right] / n
                confidence = count / counts[left]  # the exact ratio decides (s_xy / s_x may round below it)
                if confidence < min_confidence:
                    continue
                denominator = max(s_xy * (1 - s_x), s_x * (s_y - s_xy))
                found[(left, right)] = {
                    "count": count,
                    "support": s_xy,
                    "confidence": confidence,
                    "lift": confidence / s_y,
                    "leverage": s_xy - s_x * s_y,
                    "conviction": math.inf if count == counts[left] else (1 - s_y) / (1 - confidence),
                    "zhang": (s_xy - s_x * s_y) / denominator if denominator else math.nan,
                    "jaccard": s_xy / (s_x + s_y - s_xy),
                }
    return found


def mined_rules(baskets, min_count, **options):
    found = frequent_itemsets(Baskets.from_iterable(baskets), min_count=min_count)
    frame = rules_frame(association_rules(found, **options), found.items)
    return frame, {(frozenset(r.antecedent), frozenset(r.consequent)): r for r in frame.itertuples()}


def assert_same_rules(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, metrics in expected.items():
        row = got[key]
        assert row.count == metrics["count"]
        for name, value in metrics.items():
            if name != "count":
                assert getattr(row, name) == pytest.approx(value, rel=1e-12, abs=1e-15, nan_ok=True), (key, name)


@settings(max_examples=40, deadline=None)
@given(
    baskets=st.lists(st.lists(st.sampled_from("abcdef"), max_size=6), min_size=2, max_size=30),
    min_count=st.integers(1, 4),
    min_confidence=st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]),
    max_consequent=st.one_of(st.none(), st.integers(1, 3)),
)
def test_matches_brute_force(baskets, min_count, min_confidence, max_consequent):
    min_count = min(min_count, len(baskets))
    _, got = mined_rules(baskets, min_count, min_confidence=min_confidence, max_consequent=max_consequent)
    assert_same_rules(got, oracle_rules(baskets, min_count, min_confidence, max_consequent))


def test_larger_input_in_small_blocks(monkeypatch):
    monkeypatch.setattr(rules_module, "BLOCK_RULES", 5)
    baskets = random_baskets(11, n=200, n_items=9, density=0.9)
    _, got = mined_rules(baskets, 25, min_confidence=0.4)
    assert_same_rules(got, oracle_rules(baskets, 25, 0.4))
    assert len(got) > 100


def test_documented_order():
    """By itemset (length, count descending, items), then consequent length, then consequent items."""
    baskets = random_baskets(5, n=120, n_items=8, density=0.9)
    frame, _ = mined_rules(baskets, 15, min_confidence=0.2)
    counts = brute_force(baskets, 15)
    keys = []
    for left, right in zip(frame["antecedent"], frame["consequent"], strict=True):
        assert list(left) == sorted(left, key=natural_key) and list(right) == sorted(right, key=natural_key)
        whole = sorted(left + right, key=natural_key)
        keys.append((len(whole), -counts[frozenset(whole)], [natural_key(i) for i in whole],
                     len(right), [natural_key(i) for i in right]))
    assert keys == sorted(keys)
    assert len(keys) > 50


def test_filters_by_required_items_and_lift():
    baskets = random_baskets(8, n=150, n_items=7, density=0.9)
    _, everything = mined_rules(baskets, 20, min_confidence=0.3)
    _, left = mined_rules(baskets, 20, min_confidence=0.3, antecedent=["i1", "i2"])
    assert set(left) == {k for k in everything if {"i1", "i2"} <= k[0]} and left
    _, right = mined_rules(baskets, 20, min_confidence=0.3, consequent="i3")
    assert set(right) == {k for k in everything if "i3" in k[1]} and right
    _, both = mined_rules(baskets, 20, min_confidence=0.3, antecedent=["i0"], consequent=["i4"])
    assert set(both) == {k for k in everything if "i0" in k[0] and "i4" in k[1]}
    _, lifted = mined_rules(baskets, 20, min_confidence=0.3, min_lift=1.05)
    assert set(lifted) == {k for k, r in everything.items() if r.lift >= 1.05}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_confidence": 1.5}, r"--min-confidence must be in \[0, 1\], got 1.5"),
        ({"min_lift": -1}, "--min-lift must be >= 0, got -1"),
        ({"max_consequent": 0}, "--max-consequent must be a whole number >= 1, got 0"),
        ({"antecedent": ["bred"]}, "--antecedent 'bred': no such item in the baskets; did you mean 'bread'"),
        ({"antecedent": ["milk"], "consequent": ["milk"]}, "cannot be required on both sides"),
    ],
)
def test_option_errors_are_raised_before_any_rule(options, message):
    found = frequent_itemsets(Baskets.from_iterable([["milk", "bread"]] * 3), min_count=1)
    with pytest.raises(UsageError, match=message):
        association_rules(found, **options)


def test_metrics_by_hand():
    """a in 4 of 5 baskets, b in 3, both in 2."""
    baskets = [["a", "b"], ["a", "b"], ["a"], ["a"], ["b"]]
    found = frequent_itemsets(Baskets.from_iterable(baskets), min_count=1)
    block = next(association_rules(found, min_confidence=0))
    metrics = block.metrics()
    assert block.count.tolist() == [2, 2]
    assert block.antecedent_count.tolist() == [3, 4]  # b -> a first: consequent 'a' sorts before 'b'
    assert metrics["confidence"].tolist() == [2 / 3, 0.5]
    assert metrics["lift"].tolist() == pytest.approx([(2 / 3) / 0.8, 0.5 / 0.6])
    assert metrics["leverage"].tolist() == pytest.approx([0.4 - 0.48, 0.4 - 0.48])
    assert metrics["conviction"].tolist() == pytest.approx([(1 - 0.8) / (1 - 2 / 3), (1 - 0.6) / 0.5])
    assert metrics["jaccard"].tolist() == pytest.approx([0.4, 0.4])
    assert np.isfinite(metrics["zhang"]).all()
