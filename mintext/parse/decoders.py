"""Tree decoders on NumPy matrices: Eisner, Chu-Liu/Edmonds, top-down splitting.

Conventions. A sentence has ``n`` words, indexed ``0..n-1`` in the matrices.
Dependency trees are returned as ``heads``: an int array of length ``n`` with
CoNLL-U numbering, ``heads[m] = h + 1`` when word ``h`` heads word ``m`` and
``0`` for the root. ``arcs[h, m]`` is the score of the arc ``h -> m``, and
``root[m]`` the score of ``m`` being the root. Both decoders return the
highest-scoring tree with *exactly one* root word (UD's rule); ties go to the
first candidate in index order, so results are deterministic.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from mintext.parse.conllu import validate_heads

Tree: TypeAlias = "int | tuple[Tree, Tree]"  # a word index, or (left, right)


# --------------------------------------------------------------------------- scores from impacts


def dependency_scores(impacts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arc and root scores from an impact matrix ``F`` (``F[i, j]``: impact of word ``j`` on ``i``).

    A head matters to its dependent: ``arcs[h, m] = F[m, h]``. The root is the
    word that matters most to the others: ``root[h]`` is the mean of
    ``F[m, h]`` over the other words ``m`` (0 for a one-word sentence).
    """
    impacts = np.asarray(impacts, dtype=np.float64)
    n = impacts.shape[0]
    arcs = impacts.T.copy()
    off_diagonal = arcs.sum(axis=1) - np.diag(arcs)
    root = off_diagonal / (n - 1) if n > 1 else np.zeros(n)
    return arcs, root


def tree_score(heads: np.ndarray, arcs: np.ndarray, root: np.ndarray) -> float:
    """Total score of ``heads`` under ``arcs`` and ``root``."""
    return float(sum(root[m] if h == 0 else arcs[h - 1, m] for m, h in enumerate(heads)))


# --------------------------------------------------------------------------- checks


def is_tree(heads: np.ndarray) -> bool:
    """True when ``heads`` is a tree: heads in ``0..n``, no self-loop, exactly one root, no cycle."""
    heads = [int(h) for h in heads]
    return not heads or validate_heads(heads) is None  # a self-loop is a cycle there


def is_projective(heads: np.ndarray) -> bool:
    """True when no two arcs cross (the root arc counts as coming from position 0)."""
    arcs = [(min(h, m + 1), max(h, m + 1)) for m, h in enumerate(heads)]
    for a, b in arcs:
        for c, d in arcs:
            if a < c < b < d:
                return False
    return True


# --------------------------------------------------------------------------- Eisner


def eisner(arcs: np.ndarray, root: np.ndarray) -> np.ndarray:
    """The best projective single-root dependency tree (Eisner's algorithm, O(n^3)).

    ``arcs[h, m]``: score of ``h -> m``; ``root[m]``: score of ``m`` as the
    root. Returns CoNLL-U ``heads`` (see the module docstring).

    Spans are built over the words only; the root word ``r`` then takes a
    complete left span ``0..r`` and a complete right span ``r..n-1``, which
    is what makes the root unique.
    """
    arcs = np.asarray(arcs, dtype=np.float64)
    root = np.asarray(root, dtype=np.float64)
    n = len(root)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # right: head at the left end; left: head at the right end. [i, j] for the span i..j.
    complete_r = np.zeros((n, n))
    complete_l = np.zeros((n, n))
    incomplete_r = np.full((n, n), -np.inf)
    incomplete_l = np.full((n, n), -np.inf)
    split_ir = np.zeros((n, n), dtype=np.int64)
    split_il = np.zeros((n, n), dtype=np.int64)
    split_cr = np.zeros((n, n), dtype=np.int64)
    split_cl = np.zeros((n, n), dtype=np.int64)
    for width in range(1, n):
        i = np.arange(n - width)
        j = i + width
        k = i[:, None] + np.arange(width)[None, :]  # i .. j-1
        joined = complete_r[i[:, None], k] + complete_l[k + 1, j[:, None]]
        best = joined.argmax(axis=1)
        value = joined[np.arange(len(i)), best]
        incomplete_r[i, j] = value + arcs[i, j]
        incomplete_l[i, j] = value + arcs[j, i]
        split_ir[i, j] = split_il[i, j] = i + best
        right = incomplete_r[i[:, None], k + 1] + complete_r[k + 1, j[:, None]]  # k+1 in i+1 .. j
        best = right.argmax(axis=1)
        complete_r[i, j] = right[np.arange(len(i)), best]
        split_cr[i, j] = i + 1 + best
        left = complete_l[i[:, None], k] + incomplete_l[k, j[:, None]]  # k in i .. j-1
        best = left.argmax(axis=1)
        complete_l[i, j] = left[np.arange(len(i)), best]
        split_cl[i, j] = i + best
    totals = root + complete_l[0, :] + complete_r[:, n - 1]
    top = int(np.argmax(totals))
    heads = np.zeros(n, dtype=np.int64)
    stack = [("cl", 0, top), ("cr", top, n - 1)]
    while stack:
        kind, i, j = stack.pop()
        if i == j:
            continue
        if kind == "cr":
            k = split_cr[i, j]
            stack += [("ir", i, k), ("cr", k, j)]
        elif kind == "cl":
            k = split_cl[i, j]
            stack += [("cl", i, k), ("il", k, j)]
        else:
            k = split_ir[i, j]
            if kind == "ir":
                heads[j] = i + 1
            else:
                heads[i] = j + 1
            stack += [("cr", i, k), ("cl", k + 1, j)]
    heads[top] = 0
    return heads


# --------------------------------------------------------------------------- Chu-Liu/Edmonds


def chu_liu_edmonds(arcs: np.ndarray, root: np.ndarray) -> np.ndarray:
    """The best single-root dependency tree, projective or not (Chu-Liu/Edmonds, O(n^3)).

    Same arguments and result as :func:`eisner`. One root is enforced by
    lowering every root score by a constant larger than the spread of any two
    trees' scores, so that a tree with two root arcs can never win.
    """
    arcs = np.asarray(arcs, dtype=np.float64)
    root = np.asarray(root, dtype=np.float64)
    n = len(root)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    values = np.concatenate([arcs[~np.eye(n, dtype=bool)], root])
    penalty = n * (values.max() - values.min()) + 1.0
    graph = np.full((n + 1, n + 1), -np.inf)  # node 0 is the root, word m is node m + 1
    graph[1:, 1:] = arcs
    graph[0, 1:] = root - penalty
    np.fill_diagonal(graph, -np.inf)
    graph[:, 0] = -np.inf
    parents = _max_arborescence(graph)
    return parents[1:].astype(np.int64)


def _max_arborescence(graph: np.ndarray) -> np.ndarray:
    """Parents of the maximum spanning arborescence rooted at node 0 of a dense score matrix."""
    size = graph.shape[0]
    parents = np.full(size, -1)
    parents[1:] = graph[:, 1:].argmax(axis=0)
    cycle = _find_cycle(parents)
    if cycle is None:
        return parents
    in_cycle = np.zeros(size, dtype=bool)
    in_cycle[cycle] = True
    outside = np.flatnonzero(~in_cycle)  # includes 0
    cycle = np.asarray(cycle)
    # contracted graph: the outside nodes (0 stays first), then the cycle as one node
    c = len(outside)
    contracted = np.full((c + 1, c + 1), -np.inf)
    contracted[:c, :c] = graph[np.ix_(outside, outside)]
    # into the cycle: enter at v, breaking v's cycle arc
    entering = graph[np.ix_(outside, cycle)] - graph[parents[cycle], cycle][None, :]
    enter_at = entering.argmax(axis=1)
    contracted[:c, c] = entering[np.arange(c), enter_at]
    # out of the cycle: leave from the best cycle node
    leaving = graph[np.ix_(cycle, outside)]
    leave_from = leaving.argmax(axis=0)
    contracted[c, :c] = leaving[leave_from, np.arange(c)]
    contracted[:, 0] = -np.inf
    np.fill_diagonal(contracted, -np.inf)
    sub = _max_arborescence(contracted)
    result = np.full(size, -1)
    for position in range(1, c):  # outside nodes other than the root
        parent = sub[position]
        node = outside[position]
        result[node] = cycle[leave_from[position]] if parent == c else outside[parent]
    result[cycle] = parents[cycle]
    entry_parent = sub[c]
    entry_node = cycle[enter_at[entry_parent]]
    result[entry_node] = outside[entry_parent]
    return result


def _find_cycle(parents: np.ndarray) -> list[int] | None:
    """One cycle of the parent pointers (node 0 is the root), or ``None``."""
    size = len(parents)
    state = np.zeros(size, dtype=np.int8)  # 0 new, 1 on the current path, 2 done
    state[0] = 2
    for start in range(1, size):
        path = []
        node = start
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if state[node] == 1:
            return path[path.index(node):]
        for visited in path:
            state[visited] = 2
    return None


# --------------------------------------------------------------------------- top-down splitting


def split_score(impacts: np.ndarray, start: int, split: int, end: int) -> float:
    """How good splitting words ``start..end-1`` before ``split`` is (higher is better).

    Mean impact inside the left part plus mean impact inside the right part
    (over ordered pairs of different words; 0 for a one-word part) minus the
    mean impact across the parts (both directions).
    """
    f = np.asarray(impacts, dtype=np.float64)

    def inside(a: int, b: int) -> float:
        if b - a < 2:
            return 0.0
        block = f[a:b, a:b]
        return float((block.sum() - np.trace(block)) / ((b - a) * (b - a - 1)))

    across = (f[start:split, split:end].sum() + f[split:end, start:split].sum()) / (2 * (split - start) * (end - split))
    return inside(start, split) + inside(split, end) - float(across)


def top_down_tree(impacts: np.ndarray) -> Tree | None:
    """A binary tree over the words by recursive top-down splitting of ``impacts``.

    Each span of two or more words is split at the point with the best
    :func:`split_score` (the first such point on a tie) and both parts are
    split in turn. Returns nested pairs of word indices, e.g. ``((0, (1, 2)),
    3)``; a one-word sentence is ``0``; an empty one ``None``.
    """
    f = np.asarray(impacts, dtype=np.float64)
    n = f.shape[0]
    if n == 0:
        return None
    # 2-D prefix sums give each block's sum in O(1)
    prefix = np.zeros((n + 1, n + 1))
    prefix[1:, 1:] = f.cumsum(axis=0).cumsum(axis=1)
    diagonal = np.concatenate([[0.0], np.cumsum(np.diag(f))])

    def block(r0, r1, c0, c1):
        return prefix[r1, c1] - prefix[r0, c1] - prefix[r1, c0] + prefix[r0, c0]

    def inside(a, b):  # mean over ordered pairs of different words; 0 for one word
        pairs = (b - a) * (b - a - 1)
        total = block(a, b, a, b) - (diagonal[b] - diagonal[a])
        return np.divide(total, pairs, out=np.zeros_like(total, dtype=np.float64), where=pairs > 0)

    def best_split(start: int, end: int) -> int:
        k = np.arange(start + 1, end)
        across = (block(start, k, k, end) + block(k, end, start, k)) / (2 * (k - start) * (end - k))
        scores = inside(start, k) + inside(k, end) - across
        return start + 1 + int(np.argmax(scores))

    # iterative post-order: a right-branching tree of thousands of words would exhaust Python's stack
    splits: dict[tuple[int, int], int] = {}
    built: dict[tuple[int, int], Tree] = {}
    stack = [(0, n)]
    while stack:
        start, end = span = stack[-1]
        if end - start == 1:
            built[span] = start
            stack.pop()
        elif span not in splits:
            split = splits[span] = best_split(start, end)
            stack += [(split, end), (start, split)]
        else:
            split = splits.pop(span)
            built[span] = (built.pop((start, split)), built.pop((split, end)))
            stack.pop()
    return built[0, n]
