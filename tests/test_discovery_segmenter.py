"""Segmenter built from a lexicon (segmenter_for + segment_lines): invariants on mixed text, hand-worked choices."""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintext.discovery.lexicon import segmenter_for
from mintext.discovery.wordmodel import ModelParameters
from mintext.io.chars import HAN, classify_char
from mintext.io.sources import iter_lines

HAN_CHARS = "中国人民的研究生命𠀀𪚥"
ALNUM = "0123456789abcXYZＡｂ１２"  # includes full-width letters and digits
OTHER = "，。！？、—…「」.,-+%/（）"
SPACES = " \t\u3000\u00a0"
ALPHABET = HAN_CHARS + ALNUM + OTHER + SPACES

LEXICON = pd.DataFrame(
    {
        "word": ["中国", "人民", "研究", "生命", "研究生", "中国人", "的", "𠀀𪚥", "人", "abc", "3.14"],
        "freq": [60, 50, 30, 30, 5, 3, 80, 4, 10, 7, 2],
    }
)
SEGMENTER = segmenter_for(LEXICON)

lines_st = st.lists(st.text(alphabet=ALPHABET, max_size=40), min_size=1, max_size=6)


def tokens_of(line: str) -> list[str]:
    return line.split(" ") if line else []


def kind(ch: str) -> str:
    c = classify_char(ch)
    return "han" if c == HAN else "other"


def alnum_runs(line: str) -> list[tuple[int, int]]:
    """(start, end) in the whitespace-free text of each maximal run of letters/digits of ``line``."""
    stripped_index, runs, j = [], [], 0
    for ch in line:
        stripped_index.append(j)
        if not ch.isspace():
            j += 1
    for m in re.finditer(f"[{re.escape(ALNUM)}]+", line):
        runs.append((stripped_index[m.start()], stripped_index[m.start()] + len(m.group())))
    return runs


# --------------------------------------------------------------------------- invariants


@given(lines_st)
@settings(max_examples=80, deadline=None)
def test_segment_lines_invariants(lines):
    out = SEGMENTER.segment_lines(lines)
    assert len(out) == len(lines)
    for line, seg in zip(lines, out, strict=True):
        # the non-space characters are those of the input, in order
        assert seg.replace(" ", "") == "".join(line.split())
        tokens = tokens_of(seg)
        # one space between tokens: none empty, none with whitespace inside
        assert all(t and not any(ch.isspace() for ch in t) for t in tokens)
        # a token never mixes Han and non-Han characters
        assert all(len({kind(ch) for ch in t}) == 1 for t in tokens)
        # runs of digits/letters are never split: no token boundary falls inside one
        boundaries, pos = set(), 0
        for t in tokens:
            pos += len(t)
            boundaries.add(pos)
        for start, end in alnum_runs(line):
            assert not any(start < b < end for b in boundaries), (line, seg)
        # punctuation: a token of marks only is one mark or a run of the same mark; a mark sits in a
        # token with letters/digits only as part of a number (which then holds a digit)
        for t in tokens:
            marks = [ch for ch in t if ch in OTHER]
            if marks and len(marks) == len(t):
                assert len(set(t)) == 1, (line, seg)
            elif marks:
                assert any(ch.isdigit() for ch in t) and not any(kind(ch) == "han" for ch in t), (line, seg)
        # Han words are at most the lexicon's longest word
        assert all(len(t) <= 3 for t in tokens if kind(t[0]) == "han")


@given(lines_st)
@settings(max_examples=40, deadline=None)
def test_segment_lines_deterministic_and_independent_of_batching(lines):
    together = SEGMENTER.segment_lines(lines)
    assert SEGMENTER.segment_lines(lines) == together
    assert [SEGMENTER.segment_lines([line])[0] for line in lines] == together


def test_segment_lines_edge_lines():
    lines = ["", "   ", "\u3000", "中", "，", "a", "𪚥"]
    assert SEGMENTER.segment_lines(lines) == ["", "", "", "中", "，", "a", "𪚥"]
    assert SEGMENTER.segment_lines([]) == []


def test_non_han_tokens_are_kept_whole():
    # numbers keep their decimal point, sign and percent sign; a run of the same mark is one token
    out = SEGMENTER.segment_lines(["价格3.14元，涨了-5%——真的abc123"])[0]
    tokens = out.split(" ")
    assert "3.14" in tokens and "-5%" in tokens and "——" in tokens and "abc123" in tokens
    assert "".join(tokens) == "价格3.14元，涨了-5%——真的abc123"


# --------------------------------------------------------------------------- hand-worked choices


def test_a_clearly_cheaper_word_is_chosen():
    # lexicon 中国 100, 人民 100, 中 1, 国 1, 人 1, 民 1: T = 204, V = 6, beta = 0.2 T = 40.8, d = 1
    # cost(中国) = -log((99 + 46.8 P0) / 244.8) <= -log(99 / 244.8) = 0.91 (same for 人民): path 中国|人民 <= 1.81
    # any word with count <= 1 costs >= -log(46.8 / 244.8) = 1.65 (cached mass 0, P0 <= 1), and every
    # other path of 中国人民 (max word length 2) has at least two such words: >= 3.3
    seg = segmenter_for(pd.DataFrame({"word": ["中国", "人民", "中", "国", "人", "民"], "freq": [100, 100, 1, 1, 1, 1]}))
    assert seg.segment_lines(["中国人民", "人民中国", "中国，人民"]) == ["中国 人民", "人民 中国", "中国 ， 人民"]


def test_the_frequent_reading_of_an_ambiguous_string_wins():
    # 研究生命: 研究|生命 (counts 50, 50) against 研究生|命 (count 2, and 命 never seen)
    # cost(研究) = cost(生命) <= -log(49 / (T + beta)), T = 102, beta = 20.4: <= 0.92 each, 1.83 together;
    # 研究生 (count 2) >= -log((1 + 20.4 + 3) / 122.4) = 1.61, 命 (unseen) >= -log(23.4 / 122.4) = 1.65: >= 3.27
    seg = segmenter_for(pd.DataFrame({"word": ["研究", "生命", "研究生"], "freq": [50, 50, 2]}))
    assert seg.segment_lines(["研究生命"]) == ["研究 生命"]


def test_empty_lexicon_gives_single_characters():
    seg = segmenter_for(pd.DataFrame({"word": pd.Series([], dtype=object), "freq": pd.Series([], dtype=float)}))
    assert seg.segment_lines(["中国人 abc。"]) == ["中 国 人 abc 。"]


def test_non_han_and_mixed_words_of_the_lexicon_are_ignored():
    # only 中国 is a Han word; "abc", "中a" and "3.14" are not used as Han words
    seg = segmenter_for(pd.DataFrame({"word": ["中国", "abc", "中a", "3.14"], "freq": [10, 5, 5, 5]}))
    assert seg.vocabulary.size == 2  # 中, 国
    assert seg.segment_lines(["中a中国"]) == ["中 a 中国"]


def test_max_len_drops_longer_words():
    seg = segmenter_for(pd.DataFrame({"word": ["中国人民"], "freq": [50]}), max_len=2)
    assert all(len(t) <= 2 for t in seg.segment_lines(["中国人民"])[0].split(" "))
    assert segmenter_for(pd.DataFrame({"word": ["中国人民"], "freq": [50]})).segment_lines(["中国人民"]) == ["中国人民"]


def test_unknown_characters_are_segmented():
    # 𠀂 is in no lexicon word: it is spelled by the base distribution as a character of its own
    out = SEGMENTER.segment_lines(["中国𠀂人民"])[0]
    assert out.replace(" ", "") == "中国𠀂人民" and "中国" in out.split(" ")
    assert unicodedata.name("𠀂").startswith("CJK")


def test_an_empty_word_in_a_lexicon_frame_does_not_drop_its_neighbour():
    seg = segmenter_for(pd.DataFrame({"word": ["中国人民", ""], "freq": [50, 1]}))
    assert seg.segment_lines(["中国人民"]) == ["中国人民"]


# --------------------------------------------------------------------------- against the word model

ORACLE_CHARS = "中国人𠀀𪚥"
UNKNOWN = "民𠀂"  # Han characters that no lexicon word contains


def oracle_costs(lexicon: dict[str, int], params: ModelParameters):
    """The cost of any Han string as a word, from the Pitman-Yor formula in plain Python (see wordmodel)."""
    max_len = max(len(w) for w in lexicon)
    chars: dict[str, int] = {}
    for w, f in lexicon.items():  # a character's count: the frequencies of the words it is in
        for ch in w:
            chars[ch] = chars.get(ch, 0) + f
    total = sum(chars.values()) + 1  # the unknown-character id weighs as a character seen once
    s = params.base_smoothing * (len(chars) + 1)  # the unknown-character id counts as a type

    def freq(ch):
        return chars.get(ch, 1) / total  # an unknown character: frequency of one seen once

    kept = [w for w, f in lexicon.items() if f >= params.base_min_count]
    tallies = {t: {} for t in "SBME"}
    for w in kept:
        for tag, ch in ([("S", w)] if len(w) == 1 else [("B", w[0]), ("E", w[-1])] + [("M", c) for c in w[1:-1]]):
            tallies[tag][ch] = tallies[tag].get(ch, 0) + 1

    def pos(tag, ch):
        return (tallies[tag].get(ch, 0) + s * freq(ch)) / (sum(tallies[tag].values()) + s)

    def p0(w):
        p_len = (sum(len(k) == len(w) for k in kept) + 1) / (len(kept) + max_len)
        if len(w) == 1:
            return p_len * pos("S", w)
        return p_len * pos("B", w[0]) * math.prod(pos("M", c) for c in w[1:-1]) * pos("E", w[-1])

    T = sum(lexicon.values())
    V = len(lexicon)
    beta = params.concentration * T
    d = params.discount

    def cost(w):
        return -math.log((max(lexicon.get(w, 0) - d, 0) + (beta + d * V) * p0(w)) / (T + beta))

    return cost, max_len


def minimum_cost(run: str, cost, max_len: int) -> float:
    """The cheapest segmentation of ``run`` (plain dynamic programme over every split)."""
    best = [0.0] + [math.inf] * len(run)
    for end in range(1, len(run) + 1):
        best[end] = min(best[end - L] + cost(run[end - L : end]) for L in range(1, min(max_len, end) + 1))
    return best[-1]


@given(
    st.dictionaries(
        st.text(alphabet=ORACLE_CHARS, min_size=1, max_size=3),
        st.one_of(st.integers(1, 4), st.integers(1, 60)),  # small counts: around the discount
        min_size=1,
        max_size=10,
    ),
    st.lists(st.text(alphabet=ORACLE_CHARS + UNKNOWN, min_size=1, max_size=8), min_size=1, max_size=4),
    st.sampled_from([ModelParameters(), ModelParameters(concentration=0.5, discount=0.5, base_min_count=1, base_smoothing=1.0)]),
)
@settings(max_examples=60, deadline=None)
def test_segmentation_has_the_minimum_cost_of_the_word_model(lexicon, runs, params):
    cost, max_len = oracle_costs(lexicon, params)
    seg = segmenter_for(pd.DataFrame({"word": list(lexicon), "freq": list(lexicon.values())}), params=params)
    out = seg.segment_lines(runs)
    for run, line in zip(runs, out, strict=True):
        words = line.split(" ")
        assert "".join(words) == run and all(len(w) <= max_len for w in words)
        assert sum(cost(w) for w in words) == pytest.approx(minimum_cost(run, cost, max_len), rel=1e-9)
        # the cost matrix holds the formula's cost of every substring (inf past the run's end);
        # characters outside the vocabulary take the id size + 1 (class docstring)
        vocab = seg.vocabulary
        ids = np.array([vocab.id_of(ch) or vocab.size + 1 for ch in run] + [0], dtype=np.uint32)
        matrix = seg.cost_matrix(ids)
        assert matrix.shape == (max_len, len(run) + 1)
        for L in range(1, max_len + 1):
            for i in range(len(run) + 1):
                if i + L <= len(run):
                    assert matrix[L - 1, i] == pytest.approx(cost(run[i : i + L]), rel=1e-9), (run, L, i)
                else:
                    assert matrix[L - 1, i] == math.inf


# --------------------------------------------------------------------------- long lines


def recorded_batches(monkeypatch, segmenter) -> list[int]:
    """Characters of every batch ``segmenter`` segments from now on (the pieces' text, newlines left out)."""
    sizes: list[int] = []
    original = segmenter.segment_batch

    def recording(pieces):
        sizes.append(sum(len(text) for text, _ in pieces))
        return original(pieces)

    monkeypatch.setattr(segmenter, "segment_batch", recording)
    return sizes


def test_segment_text_holds_a_bounded_part_of_one_long_line(monkeypatch):
    # one line of 6,300 characters read in pieces of at most 500 and segmented in batches of 1,200: no
    # batch may hold the whole line (once, a line's pieces all went into one batch, so memory grew with it)
    line = "中国人民的研究生命，3.14研究生abc。" * 300
    whole = "".join(batch.text for batch in SEGMENTER.segment_text(iter_lines([line + "\n"], max_chars=500), batch_chars=10**6))
    sizes = recorded_batches(monkeypatch, SEGMENTER)
    out = "".join(batch.text for batch in SEGMENTER.segment_text(iter_lines([line + "\n"], max_chars=500), batch_chars=1200))
    assert len(sizes) > 1 and max(sizes) <= 1200
    # the same output as in one batch, and as the line segmented whole: still one line
    assert out == whole == SEGMENTER.segment_lines([line])[0] + "\n"


@given(st.lists(st.text(alphabet=ALPHABET, max_size=60), min_size=1, max_size=8), st.integers(1, 80))
@settings(max_examples=60, deadline=None)
def test_segment_text_output_does_not_depend_on_the_batch_size(lines, batch_chars):
    text = "\n".join(lines) + "\n"
    expected = "".join(b.text for b in SEGMENTER.segment_text(iter_lines([text], max_chars=25)))
    assert "".join(b.text for b in SEGMENTER.segment_text(iter_lines([text], max_chars=25), batch_chars=batch_chars)) == expected


han_runs_st = st.text(alphabet=HAN_CHARS, min_size=1, max_size=6)
other_runs_st = st.text(alphabet=ALNUM + OTHER + SPACES, min_size=1, max_size=6)


@given(st.lists(st.tuples(han_runs_st, other_runs_st), min_size=1, max_size=30), st.integers(13, 40))
@settings(max_examples=80, deadline=None)
def test_a_long_line_read_in_pieces_segments_as_the_whole_line(runs, max_chars):
    # Han and other runs of at most 6 characters alternate, so every window of 13 holds a safe cut
    line = "".join(han + other for han, other in runs)
    pieces = list(iter_lines([line + "\n"], max_chars=max_chars))
    assert "".join(b.text for b in SEGMENTER.segment_text(pieces, batch_chars=1)) == SEGMENTER.segment_lines([line])[0] + "\n"


@pytest.mark.parametrize("batch_chars", [1, 10**6])
@pytest.mark.parametrize("tail", ["  ", " " * 40, "\t \u3000 " * 9])
def test_a_long_line_that_ends_in_whitespace_cut_inside_it_ends_as_the_whole_line(batch_chars, tail):
    """Found by the hypothesis test above: the last pieces hold no token, so the separator after the last
    token stood before the newline ('000 \\n'); in one batch or across batches, it must not."""
    line = "中0" * 7 + "中000中0" + "中中中中中中000000" + "中中中中中中000" + tail
    pieces = list(iter_lines([line + "\n", "中国\n"], max_chars=16))
    assert sum(1 for text, _ in pieces if not text.strip()) >= 1  # really cut inside the whitespace
    out = "".join(b.text for b in SEGMENTER.segment_text(pieces, batch_chars=batch_chars))
    assert out == "\n".join(SEGMENTER.segment_lines([line, "中国"])) + "\n"
    assert " \n" not in out


def test_a_han_run_longer_than_a_piece_segments_as_the_whole_line():
    # runs of 3,501 and 2,000 Han characters: cut at multiples of MAX_RUN, where the lattice cuts the run anyway
    run = "".join(LEXICON["word"][:6]) * 250 + "的"
    line = "3.14" + run + "，" + run[:2000]
    pieces = list(iter_lines([line + "\n"], max_chars=1500))
    assert [len(p) for p, _ in pieces] == [4, 1024, 1024, 1454, 1024, 976]
    assert "".join(b.text for b in SEGMENTER.segment_text(pieces, batch_chars=1)) == SEGMENTER.segment_lines([line])[0] + "\n"
