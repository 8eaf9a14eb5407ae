"""CodeIndex (open-addressing hash of uint64 codes) against a Python dict."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.ngrams.lookup import CodeIndex

TOP = 2**64 - 2  # the largest code allowed (2**64 - 1 marks empty slots)
MULTIPLIER = 0x9E3779B97F4A7C15


def oracle(codes, queries) -> list[int]:
    where = {int(c): i for i, c in enumerate(codes)}
    return [where.get(int(q), -1) for q in queries]


def check(codes, queries):
    codes = np.array(codes, dtype=np.uint64)
    queries = np.array(queries, dtype=np.uint64)
    found = CodeIndex(codes).find(queries)
    assert found.dtype == np.int64 and found.shape == queries.shape
    assert found.tolist() == oracle(codes.tolist(), queries.tolist())


codes_st = st.one_of(st.integers(0, 40), st.integers(0, TOP), st.integers(TOP - 20, TOP))


@given(st.lists(codes_st, unique=True, max_size=60), st.lists(codes_st, max_size=60))
@settings(max_examples=100, deadline=None)
def test_find_equals_dict(codes, extra):
    # queries: every code (some twice), plus others that may be absent
    queries = codes + codes[::2] + extra
    check(codes, queries)


def test_empty_index_finds_nothing():
    index = CodeIndex(np.zeros(0, dtype=np.uint64))
    assert len(index) == 0
    assert index.find(np.array([0, 1, TOP, 2**64 - 1], dtype=np.uint64)).tolist() == [-1, -1, -1, -1]
    assert index.find(np.zeros(0, dtype=np.uint64)).tolist() == []


def test_codes_near_the_top_and_the_empty_marker_as_query():
    codes = [TOP, TOP - 1, 0, 1, 2**63, 2**63 - 1]
    check(codes, [TOP, TOP - 1, TOP - 2, 2**64 - 1, 0, 1, 2, 2**63, 2**63 + 1, 2**63 - 1])


def test_duplicate_queries_and_two_dimensional_shape():
    codes = np.array([10, 20, 30], dtype=np.uint64)
    queries = np.array([[20, 20, 5], [30, 10, 10]], dtype=np.uint64)
    assert CodeIndex(codes).find(queries).tolist() == [[1, 1, -1], [2, 0, 0]]


def test_large_random_set():
    rng = np.random.default_rng(7)
    codes = np.unique(rng.integers(0, 2**63, size=60_000, dtype=np.uint64) * np.uint64(2))  # even codes
    rng.shuffle(codes)
    present = rng.choice(codes, size=20_000)
    absent = present + np.uint64(1)  # odd: never a code
    queries = np.concatenate([present, absent])
    found = CodeIndex(codes).find(queries)
    position = {c: i for i, c in enumerate(codes.tolist())}
    assert found[: present.size].tolist() == [position[c] for c in present.tolist()]
    assert (found[present.size :] == -1).all()


def test_codes_that_all_hash_to_the_last_slot_wrap_around():
    # 40 codes -> 128 slots (7 bits); pick codes whose hash (top 7 bits of c * M) is 127,
    # so linear probing must run past the end of the table and wrap to slot 0
    inverse = pow(MULTIPLIER, -1, 2**64)
    targets = [(127 << 57) | k for k in range(40)]
    codes = [(t * inverse) % 2**64 for t in targets]
    assert all(((c * MULTIPLIER) % 2**64) >> 57 == 127 for c in codes)
    index = CodeIndex(np.array(codes, dtype=np.uint64))
    assert repr(index) == "CodeIndex(40 codes, 128 slots)"
    others = [((126 << 57) | k) * inverse % 2**64 for k in range(5)]  # collide elsewhere, absent
    check(codes, codes[::-1] + others + [codes[5]] * 3)
