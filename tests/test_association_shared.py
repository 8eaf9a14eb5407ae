"""Exactness on the shared basket data: the reference counts of ../shared/baskets/README.md, and efficient-apriori.

Skipped when the shared data is absent (CI may not have it).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED, needs_shared

from mintext.association.baskets import read_baskets
from mintext.association.closure import mined_condensed, pays
from mintext.association.condensed import condensed
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

# closed and maximal itemsets at the same rows: pyfim 6.28, fim.fpgrowth(target="c" / "m", supp=-count, zmin=1),
# except on mushroom, where pyfim leaves out {85} (item 85 is in every basket: the closure of the empty set, closed,
# count 8,124), as it leaves it out of the frequent itemsets; counted in here (pyfim's closed count + 1)
CONDENSED = [
    ("chess.dat", 0.8, 5_083, 226),
    ("chess.dat", 0.7, 23_892, 891),
    ("chess.dat", 0.6, 98_392, 3_323),
    ("mushroom.dat", 0.3, 426 + 1, 63),
    ("mushroom.dat", 0.2, 1_196 + 1, 158),
    ("mushroom.dat", 0.1, 4_884 + 1, 547),
    ("groceries.csv", 0.002, 4_223, 2_675),
    ("groceries.csv", 0.001, 13_464, 7_794),
    ("groceries.csv", 0.0005, 46_267, 22_725),
    ("retail.dat", 0.002, 2_691, 1_341),
    ("retail.dat", 0.001, 7_572, 3_452),
    ("retail.dat", 0.0005, 19_114, 8_143),
    ("T10I4D100K.dat", 0.005, 1_073, 585),
    ("T10I4D100K.dat", 0.002, 13_107, 1_938),
    ("T10I4D100K.dat", 0.001, 26_806, 4_054),
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


@pytest.mark.parametrize(("name", "support", "closed", "maximal"), CONDENSED, ids=[f"{n}@{s}" for n, s, _, _ in CONDENSED])
def test_closed_and_maximal_counts_equal_pyfim(name, support, closed, maximal):
    found = frequent_itemsets(baskets(name), min_support=support)
    assert (len(condensed(found, "closed")), len(condensed(found, "maximal"))) == (closed, maximal)


@pytest.mark.parametrize(("name", "support", "closed", "maximal"), CONDENSED, ids=[f"{n}@{s}" for n, s, _, _ in CONDENSED])
def test_mined_closed_and_maximal_equal_pyfim_where_chosen(name, support, closed, maximal):
    """The LCM miner where mine() chooses it (the dense rows: chess, mushroom), identical to condensing every
    frequent itemset; the sparse rows keep the level-wise route."""
    data = baskets(name)
    found = frequent_itemsets(data, min_support=support)
    if not pays(data, found.min_count):
        assert not name.startswith(("chess", "mushroom"))
        return
    assert name.startswith(("chess", "mushroom"))
    for kind, expected in (("closed", closed), ("maximal", maximal)):
        ours, theirs = mined_condensed(data, min_count=found.min_count, kind=kind), condensed(found, kind)
        assert len(ours) == expected
        assert all(np.array_equal(a.itemsets, b.itemsets) and np.array_equal(a.counts, b.counts)
                   for a, b in zip(ours.levels, theirs.levels, strict=True))


@pytest.mark.parametrize(("name", "support"), [("chess.dat", 0.7), ("mushroom.dat", 0.2), ("retail.dat", 0.001)])
def test_closed_and_maximal_itemsets_equal_pyfims_live(name, support):
    """The same itemsets and counts as pyfim itself, when it is installed (the bench extra)."""
    fim = pytest.importorskip("fim")
    data = baskets(name)
    found = frequent_itemsets(data, min_support=support)
    transactions = [data.basket(b) for b in range(data.n_baskets)]
    for kind, target in (("closed", "c"), ("maximal", "m")):
        ours = (mined_condensed(data, min_count=found.min_count, kind=kind) if pays(data, found.min_count)
                else condensed(found, kind))
        mine = {frozenset(data.items[i] for i in row): count for level in ours.levels
                for row, count in zip(level.itemsets.tolist(), level.counts.tolist(), strict=True)}
        theirs = {frozenset(s): c for s, c in fim.fpgrowth(transactions, target=target, supp=-found.min_count, zmin=1)}
        if name == "mushroom.dat" and kind == "closed":
            theirs[frozenset({"85"})] = data.n_baskets
        assert mine == theirs
