"""Depth-first mining by rarest item: the same itemsets and counts as brute force, in the documented order,
with groups split again when they pass the memory limit."""

from __future__ import annotations

import numpy as np
from apriori_oracle import brute_force, natural_key, random_baskets
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.association.baskets import Baskets
from mintext.association.itemsets import frequent_itemsets
from mintext.association.stream import stream_itemsets

baskets_strategy = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "7", "10"]), max_size=8), min_size=1, max_size=40
)


def streamed_rows(baskets: list[list[str]], **options) -> list[tuple[tuple[str, ...], int]]:
    data = Baskets.from_iterable(baskets)
    rows = []
    for level in stream_itemsets(data, **options):
        assert level.itemsets.shape[1] >= 1
        rows.extend((tuple(data.items[i] for i in row), count)
                    for row, count in zip(level.itemsets.tolist(), level.counts.tolist(), strict=True))
    return rows


def assert_group_order(rows: list[tuple[tuple[str, ...], int]], counts: dict[str, int]) -> None:
    """Rows come in groups by their rarest item (count ascending, then natural order); a group starts with that
    item alone; items within a row are in natural order."""
    def rank(item: str) -> tuple:
        return (counts[item], natural_key(item))

    groups = [min(itemset, key=rank) for itemset, _ in rows]
    assert [rank(g) for g in groups] == sorted(rank(g) for g in groups)
    for at, (itemset, _) in enumerate(rows):
        assert list(itemset) == sorted(itemset, key=natural_key)
        if at == 0 or groups[at] != groups[at - 1]:
            assert itemset == (groups[at],)


@settings(max_examples=80, deadline=None)
@given(baskets=baskets_strategy, min_count=st.integers(1, 5), max_len=st.one_of(st.none(), st.integers(1, 4)),
       memory=st.sampled_from([1, 2_000, 1 << 30]))
def test_streamed_itemsets_match_brute_force(baskets, min_count, max_len, memory):
    """memory 1 splits every group down to single items; 2,000 bytes splits some; 1 GiB none."""
    min_count = min(min_count, len(baskets))
    rows = streamed_rows(baskets, min_count=min_count, max_len=max_len, memory=memory)
    found = {frozenset(itemset): count for itemset, count in rows}
    assert len(found) == len(rows), "an itemset was written twice"
    assert found == brute_force(baskets, min_count, max_len)
    item_counts = {item: sum(item in set(b) for b in baskets) for b in baskets for item in b}
    assert_group_order(rows, item_counts)


def test_denser_data_with_split_groups_equals_the_level_wise_miner():
    baskets = random_baskets(7, n=300, n_items=14, density=0.7)
    data = Baskets.from_iterable(baskets)
    level_wise = frequent_itemsets(data, min_count=40)
    expected = {tuple(row): count for level in level_wise.levels
                for row, count in zip(level.itemsets.tolist(), level.counts.tolist(), strict=True)}
    for memory in (20_000, 1 << 30):
        blocks = list(stream_itemsets(data, min_count=40, memory=memory))
        got = {tuple(row): count for level in blocks
               for row, count in zip(level.itemsets.tolist(), level.counts.tolist(), strict=True)}
        assert got == expected
        assert sum(len(level) for level in blocks) == len(expected)
        assert all(level.itemsets.dtype == np.int32 for level in blocks)
