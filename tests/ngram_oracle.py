"""Plain-Python oracles for the n-gram statistics tests, and the one way the tests build an NgramStats.

The oracles work on Han runs as Python strings with ``collections.Counter``:
nothing here shares code with mintext's counting or statistics.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from mintext.discovery.ngramstats import NgramStats
from mintext.io.chars import han_stream
from mintext.ngrams.counting import count_ngrams
from mintext.ngrams.vocabulary import CharVocabulary


def build(text: str, max_order: int) -> NgramStats:
    """mintext's statistics of the Han runs of ``text``, n-grams of orders 1..max_order."""
    vocab = CharVocabulary.from_text(text)
    table = count_ngrams([vocab.to_ids(han_stream(text))], max_order, bits=vocab.bits)
    return NgramStats(table, vocab)


def han_runs(text: str, han: str) -> list[str]:
    """The maximal runs of ``text`` made of the characters of the regex class body ``han``."""
    return [r for r in re.split(f"[^{han}]+", text) if r]


def counts_of(runs: list[str], max_order: int) -> Counter:
    """Counts of every n-gram of orders 1..max_order inside the runs."""
    counts: Counter = Counter()
    for run in runs:
        for n in range(1, max_order + 1):
            counts.update(run[i : i + n] for i in range(len(run) - n + 1))
    return counts


def entropy(events: list) -> float:
    """Shannon entropy (nats) of the empirical distribution of ``events``."""
    t = len(events)
    return -sum(c / t * math.log(c / t) for c in Counter(events).values())


def branching(runs: list[str], x: str) -> tuple[float, float]:
    """(left, right) entropy of x: what precedes / follows each occurrence; each run edge its own event."""
    n, before, after = len(x), [], []
    for r, run in enumerate(runs):
        for i in range(len(run) - n + 1):
            if run[i : i + n] != x:
                continue
            before.append(run[i - 1] if i > 0 else ("start", r, i))
            after.append(run[i + n] if i + n < len(run) else ("end", r, i))
    return entropy(before), entropy(after)


def solidity(counts: Counter, N: int, w: str) -> float:
    """The smallest PMI of ``w`` over its binary splits: min log(N c(w) / (c(a) c(b)))."""
    return min(math.log(N * counts[w] / (counts[w[:k]] * counts[w[k:]])) for k in range(1, len(w)))
