"""Association rules ``X -> Y`` from frequent itemsets, generated in blocks with numpy.

Every frequent itemset ``Z`` with at least two items is split into a non-empty
antecedent ``X`` and consequent ``Y = Z - X``. Consequents grow one item at a
time and only from rules that passed ``min_confidence``: for a fixed ``Z``,
``confidence = count(Z) / count(X)`` can only fall when ``Y`` grows (``X``
shrinks, so ``count(X)`` grows). The counts of ``X`` and ``Y`` are looked up
by hash among the frequent itemsets (every subset of a frequent itemset is
frequent), so the metrics are exact.

Metrics, with ``s(.)`` the support (count / number of baskets):

- support = s(X u Y); confidence = s(X u Y) / s(X); lift = confidence / s(Y);
- leverage = s(X u Y) - s(X) s(Y);
- conviction = (1 - s(Y)) / (1 - confidence), infinite when confidence is 1;
- zhang = (s(X u Y) - s(X) s(Y)) / max(s(X u Y) (1 - s(X)), s(X) (s(Y) - s(X u Y))),
  not a number when both terms are 0 (X in every basket, or Y with X always);
- jaccard = s(X u Y) / (s(X) + s(Y) - s(X u Y)).

Order: rules come grouped by itemset, in the itemsets' order (length, count
descending, items); within an itemset, by consequent length, then by the
consequent's items. That order needs no global sort, so rules stream out in
blocks of bounded size however many there are.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from math import comb

import numpy as np

from mintext.association.itemsets import FrequentItemsets, odd_item_codes, paused_gc
from mintext.errors import UsageError

METRICS = ("support", "confidence", "lift", "leverage", "conviction", "zhang", "jaccard")
COLUMNS = ("antecedent", "consequent", "count", *METRICS)
BLOCK_RULES = 1 << 18  # rules generated per block, at most
HASH_SEED = 1_000_003


@dataclass(frozen=True, eq=False)
class RuleBlock:
    """Rules from itemsets of one length ``k``, in output order.

    Rule ``i`` splits ``itemsets[i]`` (item ids, in item order): position ``p``
    is in the consequent when bit ``k - 1 - p`` of ``consequent_bits[i]`` is set.
    """

    itemsets: np.ndarray  # (n, k) item ids
    consequent_bits: np.ndarray  # uint64
    count: np.ndarray  # baskets with X u Y
    antecedent_count: np.ndarray
    consequent_count: np.ndarray
    n_baskets: int

    def __len__(self) -> int:
        return len(self.count)

    def take(self, which: np.ndarray | slice) -> RuleBlock:
        """The rules selected by ``which`` (indices, a mask or a slice), in that order."""
        return RuleBlock(
            self.itemsets[which],
            self.consequent_bits[which],
            self.count[which],
            self.antecedent_count[which],
            self.consequent_count[which],
            self.n_baskets,
        )

    def metrics(self) -> dict[str, np.ndarray]:
        """The metrics of every rule (float64 arrays, see the module docstring).

        Each is computed from the integer counts with one division, so that
        exact ratios (1.5, 0.25 ...) come out exact.
        """
        n = float(self.n_baskets)
        both = self.count.astype(np.float64)
        x = self.antecedent_count.astype(np.float64)
        y = self.consequent_count.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            conviction = np.where(both == x, np.inf, (n - y) * x / (n * (x - both)))
            zhang = (n * both - x * y) / np.maximum(both * (n - x), x * (y - both))
        return {
            "support": both / n,
            "confidence": both / x,
            "lift": n * both / (x * y),
            "leverage": (n * both - x * y) / (n * n),
            "conviction": conviction,
            "zhang": zhang,
            "jaccard": both / (x + y - both),
        }

    def sides(self, join: Callable[[np.ndarray], list]) -> tuple[list, list]:
        """Antecedents and consequents, each made by ``join`` from an (n, j) matrix of item ids.

        Rules that split their itemsets the same way are joined together, so
        ``join`` sees few, large matrices.
        """
        k = self.itemsets.shape[1]
        antecedents: list = [None] * len(self)
        consequents: list = [None] * len(self)
        splits, which = np.unique(self.consequent_bits, return_inverse=True)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(splits) + 1))
        for s, bits in enumerate(splits.tolist()):
            rules = order[bounds[s] : bounds[s + 1]]
            in_consequent = [(bits >> (k - 1 - p)) & 1 for p in range(k)]
            rows = self.itemsets[rules]
            left = join(rows[:, [p for p in range(k) if not in_consequent[p]]])
            right = join(rows[:, [p for p in range(k) if in_consequent[p]]])
            for at, a, c in zip(rules.tolist(), left, right, strict=True):
                antecedents[at] = a
                consequents[at] = c
        return antecedents, consequents


class CountIndex:
    """Basket counts of the frequent itemsets, looked up by the itemset's hash.

    The hash of an itemset is the sum (mod 2**64) of random odd 64-bit codes of
    its items, so the hash of ``Z - Y`` is ``hash(Z) - hash(Y)``. Codes are
    redrawn until no two frequent itemsets share a hash; since every subset of
    a frequent itemset is frequent, every lookup then finds its own itemset.
    """

    def __init__(self, found: FrequentItemsets) -> None:
        seed = HASH_SEED
        while True:
            self.item_hash = odd_item_codes(len(found.items), seed)
            hashes = np.concatenate([self.hash(level.itemsets) for level in found.levels] or [np.zeros(0, np.uint64)])
            order = np.argsort(hashes)
            self.hashes = hashes[order]
            if not np.any(self.hashes[1:] == self.hashes[:-1]):
                break
            seed += 1
        counts = [level.counts for level in found.levels]
        self.counts = np.concatenate(counts)[order] if counts else np.zeros(0, np.int64)

    def hash(self, itemsets: np.ndarray) -> np.ndarray:
        return self.item_hash[itemsets].sum(axis=1, dtype=np.uint64)

    def count(self, hashes: np.ndarray) -> np.ndarray:
        """Counts of the itemsets with these hashes (all of which must be frequent itemsets)."""
        at = np.searchsorted(self.hashes, hashes)
        if len(at) and (at.max() >= len(self.hashes) or np.any(self.hashes[at] != hashes)):
            raise AssertionError("a subset of a frequent itemset is missing from the frequent itemsets")
        return self.counts[at]


def association_rules(
    found: FrequentItemsets,
    *,
    min_confidence: float = 0.5,
    min_lift: float | None = None,
    max_consequent: int | None = None,
    antecedent: Sequence[str] = (),
    consequent: Sequence[str] = (),
    base: FrequentItemsets | None = None,
) -> Iterator[RuleBlock]:
    """Rules with ``confidence >= min_confidence`` (and ``lift >= min_lift``), in blocks, in output order.

    Rules split the itemsets of ``base`` (default: all of ``found``; for
    instance only the closed ones, see :mod:`~mintext.association.condensed`),
    their metrics come from the counts in ``found``.
    ``max_consequent`` bounds the number of items on the right-hand side.
    Every item named in ``antecedent`` must be on the left of a rule, every
    item in ``consequent`` on the right. Raises :class:`UsageError` for values
    out of range and for item names that do not occur in the baskets (at
    once, before the first block).
    """
    _check_options(min_confidence, min_lift, max_consequent)
    left, right = rule_item_ids(found.items, antecedent, consequent)
    return _blocks(found, base or found, min_confidence, min_lift, max_consequent or 1 << 30, left, right)


def _blocks(
    found: FrequentItemsets,
    base: FrequentItemsets,
    min_confidence: float,
    min_lift: float | None,
    limit: int,
    left: list[int],
    right: list[int],
) -> Iterator[RuleBlock]:
    index = CountIndex(found)
    for level in base.levels[1:]:
        k = level.itemsets.shape[1]
        if k > 63:
            raise UsageError(f"itemsets of length {k} are too long to split into rules; set --max-len")
        rows = np.arange(len(level))
        for item in (*left, *right):
            rows = rows[np.any(level.itemsets[rows] == item, axis=1)]
        per_row = sum(comb(k, c) for c in range(1, min(k - 1, limit) + 1))
        step = max(1, BLOCK_RULES // per_row)
        for start in range(0, len(rows), step):
            chosen = rows[start : start + step]
            block = _level_rules(
                level.itemsets[chosen], level.counts[chosen], index, found.n_baskets, min_confidence, limit, left, right
            )
            if min_lift is not None and len(block):
                block = block.take(block.metrics()["lift"] >= min_lift)
            if len(block):
                yield block


def _check_options(min_confidence: float, min_lift: float | None, max_consequent: int | None) -> None:
    if not 0 <= min_confidence <= 1:
        raise UsageError(f"--min-confidence must be in [0, 1], got {min_confidence}")
    if min_lift is not None and not min_lift >= 0:
        raise UsageError(f"--min-lift must be >= 0, got {min_lift}")
    if max_consequent is not None and (int(max_consequent) != max_consequent or max_consequent < 1):
        raise UsageError(f"--max-consequent must be a whole number >= 1, got {max_consequent}")


def item_ids(items: list[str], names: Sequence[str] | str, option: str) -> list[int]:
    """The ids of item ``names`` among ``items``; :class:`UsageError` (with the closest name) for an unknown one."""
    if isinstance(names, str):
        names = [names]
    ids = {name: i for i, name in enumerate(items)}
    chosen = []
    for name in names:
        if name not in ids:
            close = difflib.get_close_matches(name, items, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"{option} {name!r}: no such item in the baskets{hint}")
        chosen.append(ids[name])
    return chosen


def rule_item_ids(
    items: list[str], antecedent: Sequence[str] = (), consequent: Sequence[str] = ()
) -> tuple[list[int], list[int]]:
    """The ids of the items required on the left and on the right of rules (see :func:`item_ids`);
    :class:`UsageError` for an unknown name or an item required on both sides."""
    left = item_ids(items, antecedent, "--antecedent")
    right = item_ids(items, consequent, "--consequent")
    if set(left) & set(right):
        raise UsageError("an item cannot be required on both sides of a rule")
    return left, right


def _level_rules(
    itemsets: np.ndarray,
    counts: np.ndarray,
    index: CountIndex,
    n_baskets: int,
    min_confidence: float,
    limit: int,
    left: list[int],
    right: list[int],
) -> RuleBlock:
    """All rules from ``itemsets`` (rows of one length k) that pass ``min_confidence``, in output order."""
    n, k = itemsets.shape
    whole = index.hash(itemsets)
    movable = ~np.isin(itemsets, left)  # items required on the left never move to the right
    # consequents of one item
    row = np.repeat(np.arange(n), k)
    last = np.tile(np.arange(k), n)
    keep = movable.ravel()
    row, last = row[keep], last[keep]
    bits = np.left_shift(np.uint64(1), (k - 1 - last).astype(np.uint64))
    right_hash = index.item_hash[itemsets[row, last]]
    found_rows, found_bits, found_x, found_y = [], [], [], []
    size = 1
    while len(row):
        consequent_count = index.count(right_hash)
        antecedent_count = index.count(whole[row] - right_hash)
        passing = counts[row] / antecedent_count >= min_confidence
        row, last, bits, right_hash = row[passing], last[passing], bits[passing], right_hash[passing]
        found_rows.append(row)
        found_bits.append(bits)
        found_x.append(antecedent_count[passing])
        found_y.append(consequent_count[passing])
        if size >= limit or size + 1 >= k:
            break
        # grow each passing consequent by one later position
        more = k - 1 - last
        row, bits, right_hash, last = (np.repeat(a, more) for a in (row, bits, right_hash, last))
        last = last + 1 + np.arange(len(row)) - np.repeat(np.cumsum(more) - more, more)
        keep = movable[row, last]
        row, bits, right_hash, last = row[keep], bits[keep], right_hash[keep], last[keep]
        bits = bits | np.left_shift(np.uint64(1), (k - 1 - last).astype(np.uint64))
        right_hash = right_hash + index.item_hash[itemsets[row, last]]
        size += 1
    if not found_rows:  # every item is required on the left
        return RuleBlock(itemsets[:0], np.zeros(0, np.uint64), counts[:0], counts[:0], counts[:0], n_baskets)
    row, bits = np.concatenate(found_rows), np.concatenate(found_bits)
    keep = np.ones(len(row), bool)
    for item in right:  # items required on the right
        at = np.argmax(itemsets[row] == item, axis=1)
        keep &= (bits >> (k - 1 - at).astype(np.uint64)) & np.uint64(1) == 1
    # by itemset, then consequent length, then consequent items (more high bits: earlier items)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((~bits[order], np.bitwise_count(bits[order]), row[order]))]
    x, y = np.concatenate(found_x), np.concatenate(found_y)
    return RuleBlock(itemsets[row[order]], bits[order], counts[row[order]], x[order], y[order], n_baskets)


def rules_frame(blocks: Iterator[RuleBlock] | list[RuleBlock], items: list[str]):
    """A DataFrame of rules: antecedent and consequent (tuples of item names), count and the metrics."""
    import pandas as pd

    names = np.array(items, dtype=object)

    def as_tuples(matrix: np.ndarray) -> list:
        return list(zip(*(names[column].tolist() for column in matrix.T), strict=True))

    columns: dict[str, list] = {name: [] for name in COLUMNS}
    for block in blocks:
        with paused_gc():
            left, right = block.sides(as_tuples)
        columns["antecedent"].extend(left)
        columns["consequent"].extend(right)
        columns["count"].append(block.count)
        for name, values in block.metrics().items():
            columns[name].append(values)
    data = {"antecedent": columns["antecedent"], "consequent": columns["consequent"]}
    for name in COLUMNS[2:]:
        parts = columns[name]
        data[name] = np.concatenate(parts) if parts else np.zeros(0, np.int64 if name == "count" else np.float64)
    return pd.DataFrame(data)
