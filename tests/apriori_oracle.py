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
