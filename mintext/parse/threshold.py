"""Choosing the merge threshold without labels, and segmenting with it.

Two neighbouring characters belong to one word when the impact between them
(the mean of their impacts on each other) is at least the threshold. A fixed
number does not transfer between models, so ``--threshold auto`` takes it from
the input: the impacts of the input's neighbouring pairs are split into two
clusters, "inside a word" (high) and "between words" (low), by the cut that
minimises the within-cluster sum of squares (Otsu's method, which in one
dimension is the exact optimum of 2-means). The threshold is the midpoint
between the two values on either side of the best cut. The values are sorted
first, so the result does not depend on their order, and the computation is
exact: the same input always gives the same threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def otsu_threshold(values: np.ndarray | Sequence[float]) -> float:
    """The two-cluster threshold of ``values`` (see the module docstring).

    Non-finite values are ignored. With fewer than two distinct values there
    is nothing to split and the result is ``inf`` (no pair is merged).

    >>> otsu_threshold([1.0, 1.2, 0.9, 5.0, 5.5, 4.8])
    3.0
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    x = x[np.isfinite(x)]
    if x.size < 2 or x[0] == x[-1]:
        return float("inf")
    n = x.size
    prefix = np.cumsum(x)
    prefix_sq = np.cumsum(x * x)
    left = np.arange(1, n)  # sizes of the low cluster, cut after x[left - 1]
    right = n - left
    sse_left = prefix_sq[left - 1] - prefix[left - 1] ** 2 / left
    sse_right = (prefix_sq[-1] - prefix_sq[left - 1]) - (prefix[-1] - prefix[left - 1]) ** 2 / right
    total = sse_left + sse_right
    total[x[left - 1] == x[left]] = np.inf  # a cut must separate different values
    cut = int(np.argmin(total)) + 1
    return float((x[cut - 1] + x[cut]) / 2)


def merge_decisions(impacts: np.ndarray, threshold: float, joined: Sequence[bool] | None = None) -> np.ndarray:
    """For each gap between neighbouring atoms: ``True`` to keep them in one word.

    ``impacts[i]`` is the impact between atoms ``i`` and ``i + 1``; a gap is
    kept when ``impacts[i] >= threshold`` and, if ``joined`` is given, when
    ``joined[i]`` (no whitespace between them in the input).
    """
    keep = np.asarray(impacts, dtype=np.float64) >= threshold
    if joined is not None:
        keep &= np.asarray(joined, dtype=bool)
    return keep


def words_from_decisions(atoms: Sequence[str], keep: Sequence[bool]) -> list[str]:
    """Join ``atoms`` into words: ``keep[i]`` glues atom ``i + 1`` to atom ``i``."""
    if not atoms:
        return []
    words = [atoms[0]]
    for atom, glue in zip(atoms[1:], keep, strict=True):
        if glue:
            words[-1] += atom
        else:
            words.append(atom)
    return words
