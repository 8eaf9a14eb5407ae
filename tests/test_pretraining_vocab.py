"""The pretraining vocabulary: the fast atom cut against parse's tokenizer, counting, Google's layout, vocab files."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from mintext.errors import InputError
from mintext.parse.checkpoint import write_vocab
from mintext.parse.tokens import atoms
from mintext.pretraining.vocab import (
    atom_regex,
    count_atoms,
    read_vocabulary,
    vocabulary_from_counts,
)

PIECES = ["我", "爱", "北京", "，", "。", " ", "\t", "iPhone15", "abc", "２００１", "○", "𠀀", "\x00", "\ufffd", "\u200b",
          "-", "e-mail", "Ünïcödé", "\u3000", "《", "》", "x", "7", "％"]


def test_the_regex_cuts_atoms_exactly_as_the_parse_tokenizer():
    rng = random.Random(3)
    findall = atom_regex().findall
    for _ in range(2000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        assert findall(text) == atoms(text), repr(text)


def test_counts_are_those_of_a_counter_over_lower_cased_atoms():
    lines = ["我爱北京，北京爱我。", "iPhone15 和 IPHONE15", "", "ABC abc"]
    expected = Counter(a for line in lines for a in atoms(line.lower()))
    assert count_atoms(lines) == expected


def test_vocabulary_is_googles_layout_most_frequent_first_and_cut_at_the_minimum_count():
    counts = Counter({"的": 5, "了": 5, "我": 3, "x": 2, "罕": 1})
    vocab = vocabulary_from_counts(counts, min_count=2)
    tokens = list(vocab.tokens)
    assert tokens[0] == "[PAD]"
    assert tokens[1:100] == [f"[unused{i}]" for i in range(1, 100)]
    assert tokens[100:104] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert tokens[104:] == ["了", "的", "我", "x"]  # count 5 (ties by code point: 了 U+4E86 < 的 U+7684), 3, 2
    assert vocab.first_real_id == 104


def test_no_frequent_atom_is_an_input_error():
    with pytest.raises(InputError, match="--min-char-count"):
        vocabulary_from_counts(Counter({"我": 1}), min_count=2)


def test_encode_lower_cases_and_maps_unknown_atoms_to_unk():
    vocab = vocabulary_from_counts(Counter({"我": 2, "iphone15": 2}), min_count=1)
    ids = vocab.encode("我 iPhone15 他")
    assert ids == [vocab.ids["我"], vocab.ids["iphone15"], vocab.unk_id]


def test_a_vocab_file_round_trips(tmp_path):
    vocab = vocabulary_from_counts(Counter({"我": 2, "你": 3}), min_count=1)
    path = tmp_path / "vocab.txt"
    write_vocab(str(path), vocab.tokens)
    again = read_vocabulary(str(path))
    assert again.tokens == vocab.tokens and again.lowercase


@pytest.mark.parametrize("missing", ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
def test_a_vocab_file_without_a_special_token_is_refused(tmp_path, missing):
    tokens = [t for t in vocabulary_from_counts(Counter({"我": 2}), 1).tokens if t != missing]
    path = tmp_path / "vocab.txt"
    path.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    with pytest.raises(InputError, match=r"lacks .*\[" + missing[1:-1]):
        read_vocabulary(str(path))
