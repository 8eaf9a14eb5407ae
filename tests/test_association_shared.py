"""Exactness on the shared basket data: the reference counts of ../shared/baskets/README.md, and efficient-apriori.

Skipped when the shared data is absent (CI may not have it).
"""

from __future__ import annotations

import pytest
from conftest import SHARED, needs_shared

from mintext.association.baskets import read_baskets
from mintext.association.itemsets import frequent_itemsets
from mintext.association.rules import association_rules, rules_frame

pytestmark = needs_shared

# ../shared/baskets/README.md: frequent itemsets (all lengths, singletons included)
REFERENCE = [
    ("chess.dat", 0.8, 8_227),
    ("chess.dat", 0.7, 48_731),
    ("chess.dat", 0.6, 254_944),
    ("mushroom.dat", 0.3, 2_735),
    ("mushroom.dat", 0.2, 53_583),
    ("mushroom.dat", 0.1, 574_431),
    ("groceries.csv", 0.002, 4_223),
    ("groceries.csv", 0.001, 13_492),
    ("groceries.csv", 0.0005, 49_580),
    ("retail.dat", 0.002, 2_691),
    ("retail.dat", 0.001, 7_589),
    ("retail.dat", 0.0005, 19_242),
    ("T10I4D100K.dat", 0.005, 1_073),
    ("T10I4D100K.dat", 0.002, 13_255),
    ("T10I4D100K.dat", 0.001, 27_532),
]

_baskets: dict = {}


def baskets(name: str):
    """Each shared file is read once per test session."""
    if name not in _baskets:
        _baskets[name] = read_baskets(str(SHARED / "baskets" / name))
    return _baskets[name]


@pytest.mark.parametrize(("name", "support", "expected"), REFERENCE, ids=[f"{n}@{s}" for n, s, _ in REFERENCE])
def test_reference_counts(name, support, expected):
    assert len(frequent_itemsets(baskets(name), min_support=support)) == expected


def test_groceries_single_consequent_rules():
    found = frequent_itemsets(baskets("groceries.csv"), min_support=0.001)
    blocks = association_rules(found, min_confidence=0.5, max_consequent=1)
    assert sum(len(block) for block in blocks) == 5_668


def transactions(name: str) -> list[tuple[str, ...]]:
    sep = "," if name.endswith(".csv") else None
    with open(SHARED / "baskets" / name, encoding="utf-8") as lines:
        return [tuple(i.strip() for i in line.split(sep) if i.strip()) for line in lines]


@pytest.mark.parametrize(("name", "support"), [("groceries.csv", 0.002), ("mushroom.dat", 0.3)])
def test_itemsets_match_efficient_apriori(name, support):
    efficient_apriori = pytest.importorskip("efficient_apriori")
    theirs, _ = efficient_apriori.itemsets_from_transactions(transactions(name), min_support=support, max_length=100)
    expected = {frozenset(itemset): count for level in theirs.values() for itemset, count in level.items()}
    frame = frequent_itemsets(baskets(name), min_support=support).to_frame()
    ours = {frozenset(itemset): count for itemset, count in zip(frame["itemset"], frame["count"], strict=True)}
    assert ours == expected


def test_rules_match_efficient_apriori():
    efficient_apriori = pytest.importorskip("efficient_apriori")
    _, theirs = efficient_apriori.apriori(transactions("groceries.csv"), min_support=0.002, min_confidence=0.5,
                                          max_length=100)
    expected = {(frozenset(r.lhs), frozenset(r.rhs)): (r.count_full, r.confidence, r.lift) for r in theirs}
    found = frequent_itemsets(baskets("groceries.csv"), min_support=0.002)
    frame = rules_frame(association_rules(found, min_confidence=0.5), found.items)
    ours = {(frozenset(r.antecedent), frozenset(r.consequent)): (r.count, r.confidence, r.lift)
            for r in frame.itertuples()}
    assert ours.keys() == expected.keys()
    for key, (count, confidence, lift) in expected.items():
        assert ours[key] == (count, pytest.approx(confidence, rel=1e-12), pytest.approx(lift, rel=1e-12))
