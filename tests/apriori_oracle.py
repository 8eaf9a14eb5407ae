"""Independent oracles for the apriori tests: brute-force itemset counting, the natural item order, random baskets.

Plain Python on purpose: nothing here shares code with mintext's miner.
"""

from __future__ import annotations

import itertools

import numpy as np


def brute_force(baskets: list[list[str]], min_count: int, max_len: int | None = None) -> dict[frozenset, int]:
    """Every itemset over the items seen, counted against every basket: the oracle."""
    sets = [frozenset(b) for b in baskets]
    items = sorted(set().union(*sets)) if sets else []
    found = {}
    for length in range(1, min(len(items), max_len or len(items)) + 1):
        for candidate in itertools.combinations(items, length):
            count = sum(1 for s in sets if s.issuperset(candidate))
            if count >= min_count:
                found[frozenset(candidate)] = count
    return found


def natural_key(name: str):
    """The documented item order as a sort key: whole numbers by value first (ties by name), then by code point."""
    return (0, int(name), name) if name.lstrip("-").isdigit() else (1, 0, name)


def random_baskets(seed: int, n: int, n_items: int, density: float) -> list[list[str]]:
    """``n`` baskets over items i0, i1 ...; each item has its own probability, at most ``density``."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.2, 1.0, n_items) * density
    return [[f"i{j}" for j in np.flatnonzero(rng.random(n_items) < weights)] for _ in range(n)]


def closed_of(frequent: dict[frozenset, int]) -> dict[frozenset, int]:
    """The closed itemsets among ``frequent``: no other itemset there contains it with the same count."""
    return {x: c for x, c in frequent.items() if not any(x < y and c == d for y, d in frequent.items())}


def maximal_of(frequent: dict[frozenset, int]) -> dict[frozenset, int]:
    """The maximal itemsets among ``frequent``: no other itemset there contains it."""
    return {x: c for x, c in frequent.items() if not any(x < y for y in frequent)}


def top_of(frequent: dict[frozenset, int], n: int, at_most: bool) -> dict[frozenset, int]:
    """The itemsets of the n highest counts, ties at the n-th count included (``at_most``: the lowest threshold
    that keeps at most n of them), by sorting every count."""
    counts = sorted(frequent.values(), reverse=True)
    if len(counts) <= n:
        return dict(frequent)
    cut = counts[n] + 1 if at_most else counts[n - 1]
    return {x: c for x, c in frequent.items() if c >= cut}
