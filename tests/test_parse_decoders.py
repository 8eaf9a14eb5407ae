"""Decoders and the threshold against brute force (NumPy only, no TensorFlow)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from mintext.parse.decoders import (
    _max_arborescence,
    chu_liu_edmonds,
    dependency_scores,
    eisner,
    is_projective,
    is_tree,
    split_score,
    top_down_tree,
    tree_score,
)
from mintext.parse.threshold import merge_decisions, otsu_threshold, words_from_decisions


@cache
def all_trees(n: int, projective: bool) -> np.ndarray:
    """Every single-root dependency tree over n words (CoNLL-U heads), by enumerating all head arrays."""
    heads = np.stack(np.unravel_index(np.arange((n + 1) ** n), (n + 1,) * n), axis=1).astype(np.int64)
    positions = np.arange(1, n + 1)
    ok = (heads != positions).all(axis=1) & ((heads == 0).sum(axis=1) == 1)
    heads = heads[ok]
    node = np.tile(positions, (len(heads), 1))  # follow heads n times: a tree reaches 0 from every word
    rows = np.arange(len(heads))[:, None]
    for _ in range(n):
        node = np.where(node > 0, heads[rows, np.maximum(node, 1) - 1], 0)
    heads = heads[(node == 0).all(axis=1)]
    if projective:
        lo = np.minimum(heads, positions)
        hi = np.maximum(heads, positions)
        crossing = np.zeros(len(heads), dtype=bool)
        for i in range(n):
            for j in range(n):
                crossing |= (lo[:, i] < lo[:, j]) & (lo[:, j] < hi[:, i]) & (hi[:, i] < hi[:, j])
        heads = heads[~crossing]
    return heads


def best_by_brute_force(arcs: np.ndarray, root: np.ndarray, projective: bool) -> tuple[np.ndarray, float]:
    n = len(root)
    trees = all_trees(n, projective)
    table = np.vstack([root, arcs])  # table[h, m]: score of head h (0 = root) for word m
    totals = table[trees, np.arange(n)].sum(axis=1)
    best = int(np.argmax(totals))
    return trees[best], float(totals[best])


def random_scores(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n, n)), rng.normal(size=n)


def test_tree_counts_match_known_formulas():
    # single-root trees over n labelled words: n^(n-1) (Cayley); projective ones: 1, 2, 7, 30, 143 (Eisner's count)
    assert [len(all_trees(n, False)) for n in range(1, 6)] == [n ** (n - 1) for n in range(1, 6)]
    assert [len(all_trees(n, True)) for n in range(1, 6)] == [1, 2, 7, 30, 143]


@pytest.mark.parametrize("n", range(1, 8))
def test_eisner_finds_the_best_projective_tree(n):
    rng = np.random.default_rng(100 + n)
    for _ in range(12 if n < 7 else 4):
        arcs, root = random_scores(rng, n)
        heads = eisner(arcs, root)
        expected, best = best_by_brute_force(arcs, root, projective=True)
        assert is_tree(heads) and is_projective(heads)
        assert tree_score(heads, arcs, root) == pytest.approx(best, abs=1e-9)
        assert heads.tolist() == expected.tolist()


@pytest.mark.parametrize("n", range(1, 8))
def test_chu_liu_edmonds_finds_the_best_tree(n):
    rng = np.random.default_rng(200 + n)
    for _ in range(12 if n < 7 else 3):
        arcs, root = random_scores(rng, n)
        heads = chu_liu_edmonds(arcs, root)
        expected, best = best_by_brute_force(arcs, root, projective=False)
        assert is_tree(heads)
        assert tree_score(heads, arcs, root) == pytest.approx(best, abs=1e-9)
        assert heads.tolist() == expected.tolist()


def test_eisner_never_beats_chu_liu_edmonds():
    rng = np.random.default_rng(3)
    for n in (10, 25, 40):
        arcs, root = random_scores(rng, n)
        projective = tree_score(eisner(arcs, root), arcs, root)
        free = tree_score(chu_liu_edmonds(arcs, root), arcs, root)
        assert projective <= free + 1e-9


def test_one_root_even_when_root_scores_dominate():
    arcs = np.full((4, 4), -5.0)
    root = np.full(4, 10.0)  # every word would rather be a root
    for decode in (eisner, chu_liu_edmonds):
        heads = decode(arcs, root)
        assert is_tree(heads) and list(heads).count(0) == 1


def test_arborescence_core_matches_networkx():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(4)
    for size in (5, 12, 30):
        graph = rng.normal(size=(size, size))
        np.fill_diagonal(graph, -np.inf)
        graph[:, 0] = -np.inf
        parents = _max_arborescence(graph)
        g = nx.DiGraph()
        for h in range(size):
            for m in range(1, size):
                if h != m:
                    g.add_edge(h, m, weight=graph[h, m])
        tree = nx.maximum_spanning_arborescence(g)
        expected = sum(graph[h, m] for h, m in tree.edges)
        ours = sum(graph[parents[m], m] for m in range(1, size))
        assert ours == pytest.approx(expected, abs=1e-9)
        assert sorted(tree.edges) == sorted((int(parents[m]), m) for m in range(1, size))


def test_empty_and_single_word():
    for decode in (eisner, chu_liu_edmonds):
        assert decode(np.zeros((0, 0)), np.zeros(0)).tolist() == []
        assert decode(np.zeros((1, 1)), np.zeros(1)).tolist() == [0]


def test_dependency_scores_convention():
    impacts = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 4.0], [5.0, 6.0, 0.0]])
    arcs, root = dependency_scores(impacts)
    assert arcs[0, 1] == impacts[1, 0]  # head 0 -> dependent 1 scores the impact of word 0 on word 1
    assert arcs[2, 0] == impacts[0, 2]
    assert root.tolist() == [(3.0 + 5.0) / 2, (1.0 + 6.0) / 2, (2.0 + 4.0) / 2]
    assert dependency_scores(np.zeros((1, 1)))[1].tolist() == [0.0]


def test_is_tree_and_is_projective():
    assert is_tree([2, 0, 2])
    assert not is_tree([2, 0, 0])  # two roots
    assert not is_tree([2, 1, 0])  # cycle 1 <-> 2
    assert not is_tree([1, 0])  # self loop
    assert not is_tree([4, 0, 2])  # out of range
    assert is_projective([2, 0, 2])
    assert not is_projective([3, 4, 0, 3])  # 1 <- 3 crosses 2 <- 4


# --------------------------------------------------------------------------- top-down splitting


def reference_tree(f: np.ndarray, start: int, end: int):
    """The definition, literally: best split by split_score (first on a tie), recurse."""
    if end - start == 1:
        return start
    scores = [split_score(f, start, k, end) for k in range(start + 1, end)]
    k = start + 1 + int(np.argmax(scores))
    return (reference_tree(f, start, k), reference_tree(f, k, end))


def test_split_score_by_hand():
    f = np.array([[0, 4, 1, 1], [2, 0, 1, 1], [1, 1, 0, 6], [1, 1, 8, 0]], dtype=float)
    # split before word 2: inside left (4 + 2) / 2 = 3, inside right (6 + 8) / 2 = 7, across 8 ones / 8 = 1
    assert split_score(f, 0, 2, 4) == pytest.approx(3 + 7 - 1)
    # split before word 1: left is one word (0), right mean of 6 entries (1+1+1+6+1+8)/6 = 3, across (4+1+1+2+1+1)/6
    assert split_score(f, 0, 1, 4) == pytest.approx(0 + 18 / 6 - 10 / 6)
    assert top_down_tree(f) == ((0, 1), (2, 3))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_top_down_matches_its_definition(n):
    rng = np.random.default_rng(n)
    for _ in range(10):
        f = rng.random((n, n))
        np.fill_diagonal(f, 0)
        assert top_down_tree(f) == reference_tree(f, 0, n)


def test_top_down_long_sentence_and_empty():
    n = 2000
    f = np.zeros((n, n))
    f[np.arange(n - 1), np.arange(1, n)] = np.linspace(1, 2, n - 1)  # deep, lopsided tree
    tree = top_down_tree(f)
    leaves, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, int):
            leaves.append(node)
        else:
            stack += [node[1], node[0]]
    assert leaves == list(range(n))
    assert top_down_tree(np.zeros((0, 0))) is None
    assert top_down_tree(np.zeros((1, 1))) == 0


# --------------------------------------------------------------------------- threshold


def brute_force_otsu(values) -> float:
    x = np.sort(np.asarray(values, dtype=float))
    best, best_cut = np.inf, None
    for cut in range(1, len(x)):
        if x[cut - 1] == x[cut]:
            continue
        low, high = x[:cut], x[cut:]
        sse = ((low - low.mean()) ** 2).sum() + ((high - high.mean()) ** 2).sum()
        if sse < best - 1e-12:
            best, best_cut = sse, cut
    return (x[best_cut - 1] + x[best_cut]) / 2


def test_otsu_matches_brute_force_and_ignores_order():
    rng = np.random.default_rng(5)
    for size in (2, 3, 10, 57, 300):
        values = np.concatenate([rng.normal(1, 0.3, size), rng.normal(4, 0.5, size // 2 + 1)])
        assert otsu_threshold(values) == pytest.approx(brute_force_otsu(values))
        assert otsu_threshold(rng.permutation(values)) == otsu_threshold(values)


def test_otsu_edge_cases():
    assert otsu_threshold([]) == float("inf")
    assert otsu_threshold([2.0]) == float("inf")
    assert otsu_threshold([2.0, 2.0, 2.0]) == float("inf")
    assert otsu_threshold([1.0, 1.0, 3.0, np.nan]) == 2.0
    assert otsu_threshold([1.0, 1.0, 1.0, 5.0]) == 3.0  # duplicates stay on one side


def test_merging_with_threshold_and_spaces():
    keep = merge_decisions(np.array([5.0, 1.0, 6.0]), 4.0, joined=[True, True, False])
    assert keep.tolist() == [True, False, False]
    assert words_from_decisions(["计", "算", "机", "好"], keep) == ["计算", "机", "好"]
    assert words_from_decisions([], []) == []
