"""Vectorised Viterbi (mintext.discovery.lattice) against brute force over every segmentation of every run."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.discovery.lattice import (
    Runs,
    best_segmentation,
    best_word_lengths,
    length_spans,
    sorted_by_length,
    word_spans,
)
from mintext.io.chars import MAX_RUN

CROSSING = -1000.0  # cost put on words that leave their run: must never be chosen


def python_runs(ids: list[int], max_run: int) -> list[tuple[int, int]]:
    """(start, length) of maximal runs of non-zero ids, each cut into pieces of max_run."""
    runs, i, n = [], 0, len(ids)
    while i < n:
        if ids[i] == 0:
            i += 1
            continue
        j = i
        while j < n and ids[j] != 0:
            j += 1
        for s in range(i, j, max_run):
            runs.append((s, min(max_run, j - s)))
        i = j
    return runs


def all_segmentations(length: int, max_len: int):
    """Every list of word lengths (each <= max_len) summing to ``length`` (brute force)."""
    for cuts in product((False, True), repeat=max(length - 1, 0)):
        parts, size = [], 1
        for cut in cuts:
            if cut:
                parts.append(size)
                size = 1
            else:
                size += 1
        parts.append(size)
        if max(parts) <= max_len:
            yield parts


def path_cost(costs: np.ndarray, start: int, parts: list[int]) -> float:
    total, pos = 0.0, start
    for length in parts:
        total += costs[length - 1, pos]
        pos += length
    return total


def brute_force_best(costs: np.ndarray, start: int, length: int) -> float:
    return min(path_cost(costs, start, parts) for parts in all_segmentations(length, costs.shape[0]))


@st.composite
def chunks(draw, max_piece=9):
    """ids with runs of 1..9 non-zero ids, one or more zeros between; may start with 0, may end without one."""
    ids: list[int] = []
    if draw(st.booleans()):
        ids.append(0)
    for _ in range(draw(st.integers(0, 6))):
        ids += draw(st.lists(st.integers(1, 50), min_size=1, max_size=max_piece))
        ids += [0] * draw(st.integers(1, 2))
    if ids and ids[-1] == 0 and draw(st.booleans()) and len(ids) > 1:
        ids.pop()  # the end of the array also ends a run
    return np.array(ids, dtype=np.uint32)


@st.composite
def lattices(draw, integer_costs=False):
    ids = draw(chunks())
    max_len = draw(st.integers(1, 4))
    max_run = draw(st.sampled_from([3, 4, 9, 1024]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = ids.size
    if integer_costs:  # costs in {1, 2}: many ties
        costs = rng.integers(1, 3, size=(max_len, n)).astype(np.float64)
    else:
        costs = rng.uniform(0.0, 5.0, size=(max_len, n))
    if max_len > 1:
        costs[1:][rng.random((max_len - 1, n)) < 0.3] = np.inf
    # every word that would leave its (possibly cut) run gets a very attractive cost
    for start, length in python_runs(ids.tolist(), max_run):
        for L in range(2, max_len + 1):
            for i in range(start, start + length):
                if i + L > start + length and i < n:
                    costs[L - 1, i] = CROSSING
    return ids, costs, max_run


def words_of(word_starts: np.ndarray, ids: np.ndarray, max_run: int) -> list[tuple[int, int]]:
    """(start, length) of the words marked, ends at the next start or run (piece) end (oracle)."""
    pieces = python_runs(ids.tolist(), max_run)
    words = []
    for start, length in pieces:
        marks = [i for i in range(start, start + length) if word_starts[i]]
        ends = marks[1:] + [start + length]
        words += [(s, e - s) for s, e in zip(marks, ends, strict=True)]
    return words


# --------------------------------------------------------------------------- Runs


@given(chunks(max_piece=12), st.integers(1, 13))
@settings(max_examples=80, deadline=None)
def test_runs_match_a_python_scan_including_the_max_run_cut(ids, max_run):
    runs = Runs.of(ids, max_run)
    expected = python_runs(ids.tolist(), max_run)
    assert list(zip(runs.starts.tolist(), runs.lengths.tolist(), strict=True)) == expected
    assert len(runs) == len(expected)
    assert runs.starts.dtype == np.int64 and runs.lengths.dtype == np.int64


def test_runs_hand_worked_cut():
    # ids: run of 7 at 1..7, run of 2 at 9..10; max_run 3 cuts the 7 into 3+3+1
    ids = np.array([0, 5, 5, 5, 5, 5, 5, 5, 0, 6, 6])
    runs = Runs.of(ids, 3)
    assert runs.starts.tolist() == [1, 4, 7, 9]
    assert runs.lengths.tolist() == [3, 3, 1, 2]


def test_runs_of_empty_and_all_zero():
    assert len(Runs.of(np.zeros(0, np.uint32))) == 0
    assert len(Runs.of(np.zeros(5, np.uint32))) == 0


# --------------------------------------------------------------------------- best_segmentation


def check_against_brute_force(ids, costs, max_run):
    runs = Runs.of(ids, max_run)
    word_starts, total = best_segmentation(costs, runs)
    pieces = python_runs(ids.tolist(), max_run)
    expected = sum(brute_force_best(costs, s, L) for s, L in pieces)
    assert math.isclose(total, expected, rel_tol=1e-12, abs_tol=1e-9)
    # flags only inside runs, and every (cut) run starts a word
    assert not word_starts[ids == 0].any()
    for s, _ in pieces:
        assert word_starts[s]
    # the path marked has the minimum cost, uses allowed words only
    words = words_of(word_starts, ids, max_run)
    assert all(1 <= L <= costs.shape[0] for _, L in words)
    path = sum(costs[L - 1, s] for s, L in words)
    assert math.isclose(path, expected, rel_tol=1e-12, abs_tol=1e-9)
    assert all(costs[L - 1, s] != CROSSING for s, L in words)


@given(lattices())
@settings(max_examples=100, deadline=None)
def test_best_segmentation_equals_brute_force(case):
    check_against_brute_force(*case)


@given(lattices(integer_costs=True))
@settings(max_examples=60, deadline=None)
def test_best_segmentation_with_ties_returns_a_minimum_path(case):
    check_against_brute_force(*case)


@given(lattices(integer_costs=True))
@settings(max_examples=40, deadline=None)
def test_ties_go_to_the_shortest_last_word_from_the_end_backwards(case):
    # documented tie rule: among minimum paths, the last word is the shortest possible, then the one
    # before it, ...: the minimum of the word lengths read from the end, compared lexicographically
    ids, costs, max_run = case
    word_starts, _ = best_segmentation(costs, Runs.of(ids, max_run))
    expected = np.zeros(ids.size, dtype=bool)
    for start, length in python_runs(ids.tolist(), max_run):
        paths = list(all_segmentations(length, costs.shape[0]))
        best = min(path_cost(costs, start, p) for p in paths)  # integer sums: exact
        chosen = min((p for p in paths if path_cost(costs, start, p) == best), key=lambda p: p[::-1])
        expected[np.cumsum([start] + chosen[:-1])] = True
    assert word_starts.tolist() == expected.tolist()


@given(lattices(integer_costs=True))
@settings(max_examples=60, deadline=None)
def test_best_word_lengths_are_the_words_of_the_best_segmentation(case):
    # at each word start the length of that word (ends at the next start or piece end: the oracle
    # words_of), 0 elsewhere; the same total; ties included (integer costs)
    ids, costs, max_run = case
    runs = Runs.of(ids, max_run)
    word_starts, total = best_segmentation(costs, runs)
    word_lengths, same_total = best_word_lengths(costs, runs)
    assert word_lengths.dtype == np.int8 and same_total == total
    expected = np.zeros(ids.size, dtype=np.int64)
    for start, length in words_of(word_starts, ids, max_run):
        expected[start] = length
    assert word_lengths.tolist() == expected.tolist()
    starts, lengths = length_spans(word_lengths)
    assert list(zip(starts.tolist(), lengths.tolist(), strict=True)) == words_of(word_starts, ids, max_run)


def test_best_segmentation_hand_worked():
    # one run "abc" (ids 1 2 3), K = 3
    # singles cost 1 each (3); "ab" 1.5 + "c" 1 = 2.5; "a" 1 + "bc" 1.2 = 2.2; "abc" 2.5
    inf = np.inf
    costs = np.array([[1.0, 1.0, 1.0, 9.0], [1.5, 1.2, inf, 9.0], [2.5, inf, inf, 9.0]])
    ids = np.array([1, 2, 3, 0])
    word_starts, total = best_segmentation(costs, Runs.of(ids))
    assert word_starts.tolist() == [True, True, False, False]
    assert total == pytest.approx(2.2)
    starts, lengths = word_spans(word_starts, ids)
    assert starts.tolist() == [0, 1] and lengths.tolist() == [1, 2]


def test_best_segmentation_of_no_runs():
    word_starts, total = best_segmentation(np.zeros((2, 3)), Runs.of(np.zeros(3, np.uint32)))
    assert total == 0.0 and not word_starts.any()


def test_best_segmentation_long_run_cut_at_max_run():
    # a run of 10 with max_run 4: pieces 4+4+2; a 2-char word across a piece border is not allowed
    ids = np.ones(10, dtype=np.uint32)
    costs = np.full((2, 10), 1.0)
    costs[1, :] = 1.5  # two singles (2.0) lose to one pair (1.5)
    costs[1, 3] = -50.0  # would cross the 4|4 border
    costs[1, 9] = np.inf  # past the end
    word_starts, total = best_segmentation(costs, Runs.of(ids, 4))
    # each piece of even length is pairs: 2*1.5 + 2*1.5 + 1.5 = 7.5
    assert total == pytest.approx(7.5)
    assert np.flatnonzero(word_starts).tolist() == [0, 2, 4, 6, 8]


def test_best_segmentation_infinite_when_a_run_cannot_be_segmented():
    costs = np.array([[1.0, np.inf, 1.0], [np.inf, np.inf, np.inf]])
    _, total = best_segmentation(costs, Runs.of(np.array([1, 1, 0])))
    assert total == np.inf


def dp_best(costs: np.ndarray, start: int, length: int) -> float:
    """Plain dynamic programme over one run (for runs too long to enumerate)."""
    best = [0.0] + [math.inf] * length
    for t in range(1, length + 1):
        for L in range(1, min(costs.shape[0], t) + 1):
            best[t] = min(best[t], best[t - L] + costs[L - 1, start + t - L])
    return best[length]


@pytest.mark.parametrize("max_run", [1024, 700])
def test_best_segmentation_of_long_runs_equals_dynamic_programming(max_run):
    # runs of many lengths around the bucket and max_run sizes, one of 2500 (cut into pieces)
    rng = np.random.default_rng(max_run)
    lengths = [1, 2, 3, 5, 17, 64, 65, 300, 1023, 1024, 1025, 2500]
    ids = np.concatenate([np.append(np.ones(L, np.uint32), 0) for L in lengths])
    costs = rng.uniform(0.0, 3.0, size=(3, ids.size))
    word_starts, total = best_segmentation(costs, Runs.of(ids, max_run))
    pieces = python_runs(ids.tolist(), max_run)
    assert total == pytest.approx(sum(dp_best(costs, s, L) for s, L in pieces), rel=1e-12)
    words = words_of(word_starts, ids, max_run)
    assert sum(costs[L - 1, s] for s, L in words) == pytest.approx(total, rel=1e-12)


def test_best_segmentation_of_runs_longer_than_MAX_RUN():
    # Runs.of(ids, max_run) with max_run > MAX_RUN: such runs were once skipped (no length bucket)
    ids = np.ones(1100, dtype=np.uint32)
    costs = np.ones((2, 1100))  # singles 1, pairs 1: best is 550 pairs
    word_starts, total = best_segmentation(costs, Runs.of(ids, 2000))
    assert total == 550.0
    assert word_starts[0] and word_starts.sum() >= 550


# --------------------------------------------------------------------------- sorted_by_length


def python_sorted_by_length(ids: np.ndarray, max_run: int = MAX_RUN) -> list[int]:
    """The (cut) runs in a stable order of their lengths, a 0 after each (oracle)."""
    pieces = sorted(python_runs(ids.tolist(), max_run), key=lambda piece: piece[1])
    return [v for start, length in pieces for v in [*ids[start : start + length].tolist(), 0]]


@given(chunks(max_piece=12))
@settings(max_examples=100, deadline=None)
def test_sorted_by_length_matches_python(ids):
    out = sorted_by_length(ids)
    assert out.dtype == ids.dtype
    assert out.tolist() == python_sorted_by_length(ids)


def test_sorted_by_length_cuts_long_runs_into_pieces_each_followed_by_a_0():
    # a run of 2 * MAX_RUN + 5 (no separator at the end): pieces MAX_RUN, MAX_RUN, 5; the 5 goes first
    rng = np.random.default_rng(1)
    ids = np.concatenate([[7, 8, 0], rng.integers(1, 99, 2 * MAX_RUN + 5)]).astype(np.uint32)
    out = sorted_by_length(ids)
    assert out.tolist() == python_sorted_by_length(ids)
    assert out.size == ids.size - 1 + 4 and (out == 0).sum() == 4


# --------------------------------------------------------------------------- word_spans


@given(chunks(), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_word_spans_match_python(ids, seed):
    # the chunk may end inside a run: the end of the array ends it
    rng = np.random.default_rng(seed)
    word_starts = (rng.random(ids.size) < 0.5) & (ids != 0)
    for s, _ in python_runs(ids.tolist(), ids.size + 1):
        word_starts[s] = True
    starts, lengths = word_spans(word_starts, ids)
    expected = words_of(word_starts, ids, ids.size + 1)
    assert list(zip(starts.tolist(), lengths.tolist(), strict=True)) == expected


def test_word_spans_no_words():
    starts, lengths = word_spans(np.zeros(4, bool), np.array([0, 0, 0, 0]))
    assert starts.size == 0 and lengths.size == 0


def test_word_spans_without_any_separator_end_at_the_array_end():
    starts, lengths = word_spans(np.array([True, False, True]), np.array([4, 5, 6]))
    assert starts.tolist() == [0, 2] and lengths.tolist() == [2, 1]


def test_word_spans_last_run_without_separator():
    # the end of the chunk ends the last run, as in Runs.of (this once raised IndexError)
    ids = np.array([3, 0, 4, 5])
    starts, lengths = word_spans(np.array([True, False, True, False]), ids)
    assert starts.tolist() == [0, 2] and lengths.tolist() == [1, 2]
