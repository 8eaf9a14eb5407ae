"""A synthetic "language" with a known lexicon, as an oracle for discovery tests.

Words are random strings of 1-3 characters over a fixed alphabet of Han
characters (some outside the BMP); sentences are Zipf-distributed word
sequences, clauses separated by punctuation. The gold segmentation is known,
so discovery can be scored without any real data.
"""

from __future__ import annotations

import random

ALPHABET = list("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥天地玄黄宇宙洪荒日月盈昃辰宿列张") + ["𠀀", "𪚥", "𠮷"]
PUNCTUATION = "，。；！？"


def make_lexicon(size: int, seed: int) -> list[str]:
    """``size`` distinct words of 1-3 characters (about 20% single characters)."""
    rng = random.Random(seed)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        length = rng.choices([1, 2, 3], weights=[2, 6, 2])[0]
        word = "".join(rng.choice(ALPHABET) for _ in range(length))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def make_corpus(lines: int, seed: int = 0, lexicon_size: int = 120) -> tuple[list[str], list[str]]:
    """``(raw_lines, gold_lines)``: sentences of Zipf-distributed words; gold has words separated by spaces."""
    rng = random.Random(seed)
    lexicon = make_lexicon(lexicon_size, seed)
    weights = [1 / (rank + 1) for rank in range(len(lexicon))]
    raw, gold = [], []
    for _ in range(lines):
        tokens = []
        for _clause in range(rng.randint(1, 3)):
            tokens += rng.choices(lexicon, weights=weights, k=rng.randint(3, 8))
            tokens.append(rng.choice(PUNCTUATION))
        raw.append("".join(tokens))
        gold.append(" ".join(tokens))
    return raw, gold
