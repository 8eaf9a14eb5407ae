"""Frequent itemsets: exact against a brute-force oracle, in the documented order, on every code path."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from apriori_oracle import brute_force, natural_key, random_baskets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mintext.association.itemsets as itemsets_module
from mintext.association.baskets import Baskets
from mintext.association.itemsets import MemoryLimitError, frequent_itemsets, item_ranks, support_threshold
from mintext.errors import UsageError


def mined(baskets: list[list[str]], **options) -> dict[frozenset, int]:
    result = frequent_itemsets(Baskets.from_iterable(baskets), **options)
    frame = result.to_frame()
    assert len(frame) == len(result)
    found = {frozenset(itemset): count for itemset, count in zip(frame["itemset"], frame["count"], strict=True)}
    assert len(found) == len(frame), "an itemset was reported twice"
    return found


def assert_documented_order(result) -> None:
    """Items of a set in natural order; rows by length, count descending, then items."""
    frame = result.to_frame()
    keys = []
    for itemset, length, count in zip(frame["itemset"], frame["length"], frame["count"], strict=True):
        assert len(itemset) == length
        assert list(itemset) == sorted(itemset, key=natural_key)
        keys.append((length, -count, [natural_key(i) for i in itemset]))
    assert keys == sorted(keys)


baskets_strategy = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "7", "10", "x y"]), max_size=8), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(baskets=baskets_strategy, min_count=st.integers(1, 6), max_len=st.one_of(st.none(), st.integers(1, 4)))
def test_matches_brute_force(baskets, min_count, max_len):
    min_count = min(min_count, len(baskets))
    assert mined(baskets, min_count=min_count, max_len=max_len) == brute_force(baskets, min_count, max_len)


@pytest.fixture(params=["auto", "sparse-pairs", "pruned-small-blocks", "sorted-display"])
def code_path(request, monkeypatch):
    """Run a test on the dense and the sparse pair counting, with pruning and tiny blocks forced, and with
    levels put in display order by sorting their item matrices instead of by bit masks."""
    if request.param == "sparse-pairs":
        monkeypatch.setattr(itemsets_module._Miner, "_pairs_dense", itemsets_module._Miner._pairs_sparse)
    if request.param == "sorted-display":
        monkeypatch.setattr(itemsets_module, "MASKED_ITEMS", 0)
    if request.param == "pruned-small-blocks":
        monkeypatch.setattr(itemsets_module, "PRUNE_WIDTH", 0)
        monkeypatch.setattr(itemsets_module, "BLOCK_BYTES", 1024)
        monkeypatch.setattr(itemsets_module, "CANDIDATE_BYTES", 1024)
        monkeypatch.setattr(itemsets_module, "PAIR_TABLE_CELLS", 7)
    return request.param


@pytest.mark.parametrize("seed", range(4))
def test_code_paths_match_brute_force(code_path, seed):
    baskets = random_baskets(seed, n=150 + 40 * seed, n_items=10, density=0.55)
    min_count = 12 + seed
    assert mined(baskets, min_count=min_count) == brute_force(baskets, min_count)


def test_long_itemsets_are_not_truncated(code_path):
    """Eleven items in 70 of 100 baskets: all 2047 subsets are frequent, the longest has 11 items."""
    core = [f"c{i}" for i in range(11)]
    baskets = [core + [f"n{b}"] for b in range(70)] + [[f"n{b}", "z"] for b in range(30)]
    result = frequent_itemsets(Baskets.from_iterable(baskets), min_count=70)
    assert [len(level) for level in result.levels] == [len(list(itertools.combinations(core, k))) for k in range(1, 12)]
    assert result.levels[-1].counts.tolist() == [70]


def test_items_in_every_basket_are_reported():
    baskets = [["milk", "bread"], ["milk"], ["milk", "eggs", "bread"]]
    assert mined(baskets, min_support=1.0) == {frozenset({"milk"}): 3}
    assert mined(baskets, min_count=2) == {
        frozenset({"milk"}): 3,
        frozenset({"bread"}): 2,
        frozenset({"milk", "bread"}): 2,
    }


def test_order_is_documented_and_independent_of_input_order():
    baskets = random_baskets(7, n=120, n_items=9, density=0.5)
    first = frequent_itemsets(Baskets.from_iterable(baskets), min_count=10)
    shuffled = [list(reversed(b)) for b in reversed(baskets)]
    second = frequent_itemsets(Baskets.from_iterable(shuffled), min_count=10)
    assert_documented_order(first)
    assert first.to_frame().equals(second.to_frame())


@pytest.mark.parametrize(("n_items", "n_baskets"), [(5, 40), (20, 300), (64, 400), (65, 400)])
def test_display_order_by_masks_is_the_sorted_order(monkeypatch, n_items, n_baskets):
    """Levels ordered by bit masks (up to 64 frequent items: every bit used at 64, one sort key or two) are
    the levels ordered by sorting their items, array for array."""
    rng = np.random.default_rng(n_items)
    weights = np.linspace(0.15, 0.9, n_items)  # counts far apart: keys (count, mask) too wide for 64 bits
    names = [str(i) if i % 3 else f"item {i}" for i in range(n_items)]
    baskets = Baskets.from_iterable(
        [[names[i] for i in np.flatnonzero(rng.random(n_items) < weights)] for _ in range(n_baskets)]
    )
    max_len = 3 if n_items > 20 else None
    masked = frequent_itemsets(baskets, min_count=n_baskets // 10, max_len=max_len)
    monkeypatch.setattr(itemsets_module, "MASKED_ITEMS", 0)
    sorted_ = frequent_itemsets(baskets, min_count=n_baskets // 10, max_len=max_len)
    assert len(masked.levels) == len(sorted_.levels) >= 2
    for a, b in zip(masked.levels, sorted_.levels, strict=True):
        assert a.itemsets.dtype == b.itemsets.dtype == np.int32 and a.itemsets.flags.c_contiguous
        assert np.array_equal(a.itemsets, b.itemsets) and np.array_equal(a.counts, b.counts)
    assert_documented_order(masked)


def perfect_extension_baskets(seed: int) -> list[list[str]]:
    """Baskets where "u" is in every basket, "b" always comes with "a", "d" with "c" and "e" with "c" and
    "a" together: perfect extensions at the root, below single items and below a pair."""
    rng = np.random.default_rng(seed)
    baskets = []
    for _ in range(60):
        basket = ["u"] + [name for name in ("a", "c", "f", "g", "h") if rng.random() < 0.6]
        if "a" in basket and rng.random() < 0.7:
            basket.append("b")
        if "c" in basket:
            basket.append("d")
            if "a" in basket:
                basket.append("e")
        baskets.append(basket)
    return baskets


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("max_len", [None, 1, 2, 3, 5])
def test_perfect_extensions_match_brute_force(code_path, seed, max_len):
    baskets = perfect_extension_baskets(seed)
    for min_count in (1, 8, 20):
        assert mined(baskets, min_count=min_count, max_len=max_len) == brute_force(baskets, min_count, max_len)


def test_every_item_in_every_basket():
    """All items are perfect at the root: every subset, with the count of all baskets, and nothing mined."""
    baskets = [["x", "y", "z", "w"]] * 5
    expected = {frozenset(c): 5 for k in range(1, 5) for c in itertools.combinations("xyzw", k)}
    assert mined(baskets, min_count=5) == expected
    result = frequent_itemsets(Baskets.from_iterable(baskets), min_count=1, max_len=2)
    assert [len(level) for level in result.levels] == [4, 6]
    assert_documented_order(result)


def test_natural_item_order():
    names = ["b", "10", "9", "a", "-1", "007", "7", "B"]
    ranks = item_ranks(names)
    assert [names[i] for i in np.argsort(ranks)] == ["-1", "007", "7", "9", "10", "B", "a", "b"]


def test_duplicates_count_once_and_empty_baskets_count_in_the_total():
    result = frequent_itemsets(Baskets.from_iterable([["a", "a", "b"], [], ["a"], []]), min_support=0.5)
    frame = result.to_frame()
    assert frame.to_dict("list") == {"itemset": [("a",)], "length": [1], "count": [2], "support": [0.5]}


def test_no_frequent_itemsets_gives_an_empty_result():
    result = frequent_itemsets(Baskets.from_iterable([["a"], ["b"], ["c"]]), min_count=2)
    assert len(result) == 0
    assert list(result.to_frame().columns) == ["itemset", "length", "count", "support"]


def test_support_threshold_is_exact_at_the_boundary():
    assert support_threshold(10, min_support=0.3) == 3  # 0.3 * 10 is 3.0000000000000004 in floating point
    assert support_threshold(9835, min_support=0.001) == 10
    assert support_threshold(3196, min_support=0.6) == 1918
    assert support_threshold(100, min_support=1e-9) == 1  # an itemset must occur at least once
    assert support_threshold(5, min_count=5) == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_support": 1.5}, "--min-support must be in (0, 1], got 1.5"),
        ({"min_support": 0}, "--min-support must be in (0, 1], got 0"),
        ({"min_count": 0}, "--min-count must be a whole number >= 1, got 0"),
        ({"min_count": 11}, "--min-count 11 is larger than the number of baskets (10)"),
        ({"min_count": 2, "min_support": 0.5}, "not both"),
    ],
)
def test_threshold_errors(options, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace("]", r"\]")):
        support_threshold(10, **options)


def test_memory_limit_is_a_clear_error():
    baskets = Baskets.from_iterable([[f"i{j}" for j in range(16)]] * 3)
    with pytest.raises(MemoryLimitError, match="over the memory limit"):
        frequent_itemsets(baskets, min_count=1, memory=100_000)


PEAK_RSS_SCRIPT = """
import resource, sys
import numpy as np
from mintext.association.baskets import Baskets
from mintext.association.itemsets import MemoryLimitError, frequent_itemsets
kind, memory = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(5)
if kind == "explode":  # count 1 over baskets of 30 of 120 items: billions of itemsets, past any level
    names = [[f"i{j}" for j in rng.choice(120, 30, replace=False)] for _ in range(400)]
elif kind == "explode-masked":  # at most 64 items: the path with perfect extensions
    names = [[f"i{j}" for j in rng.choice(60, 30, replace=False)] for _ in range(400)]
else:  # two baskets of 20,000 items, pairs only: 200 million pairs
    names = [[str(j) for j in range(20_000)]] * 2
baskets = Baskets.from_iterable(names)
del names
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    frequent_itemsets(baskets, min_count=1, max_len=2 if kind == "pairs" else None, memory=memory)
    print("finished", file=sys.stderr)
except MemoryLimitError as error:
    print(error, file=sys.stderr)
print(start * 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


@pytest.mark.parametrize("kind", ["explode", "explode-masked", "pairs"])
def test_peak_memory_stays_near_the_limit(kind):
    """Every large allocation is counted before it is made: the run stops with the memory error while its
    peak RSS has grown by about ``memory`` at most (here 48 MiB, plus a few MiB of blocks and temporaries)."""
    memory = 48 << 20
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT, kind, str(memory)], capture_output=True, text=True, timeout=120,
        check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert "over the memory limit of 48.0 MiB" in done.stderr
    start, peak = map(int, done.stdout.split())
    assert peak - start < memory + (16 << 20), (peak - start) / 2**20


def test_repr_summarises():
    result = frequent_itemsets(Baskets.from_iterable([["a", "b"], ["a"]]), min_count=1)
    assert repr(result) == "FrequentItemsets(3 itemsets in 2 baskets, min count 1; by length: 2, 1)"


def test_counts_match_a_counter_on_pairs_of_a_larger_sparse_input(code_path):
    """Many items, few per basket: the sparse pair path with several width classes."""
    rng = np.random.default_rng(3)
    baskets = [[f"p{j}" for j in rng.choice(300, size=rng.integers(0, 9), replace=False)] for _ in range(3000)]
    result = mined(baskets, min_count=3)
    pairs = Counter(frozenset(p) for b in baskets for p in itertools.combinations(sorted(b), 2))
    expected_pairs = {p: c for p, c in pairs.items() if c >= 3}
    assert {s: c for s, c in result.items() if len(s) == 2} == expected_pairs


@pytest.mark.parametrize("length", [2, 3, 9, 40])
@pytest.mark.parametrize("per_block", [1, 5, 64, 10_000])
def test_upper_pairs_are_triu_indices_in_blocks(length, per_block):
    blocks = list(itemsets_module._upper_pairs(length, per_block))
    left, right = np.triu_indices(length, 1)
    assert np.array_equal(np.concatenate([b[0] for b in blocks]), left)
    assert np.array_equal(np.concatenate([b[1] for b in blocks]), right)
    rows = length - 1  # a block is whole rows of i, at most per_block pairs unless one row is longer
    assert all(len(b[0]) <= max(per_block, rows) for b in blocks)
