"""The three tasks end to end: segmentation, constituency trees, dependency trees.

Each function takes a loaded :class:`~mintext.parse.model.Encoder` and an
iterable of sentences, and yields one result per sentence in input order as
soon as it is ready (the model work is batched across sentences by
:mod:`mintext.parse.impact`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice

import numpy as np

from mintext.errors import UsageError
from mintext.parse.decoders import Tree, chu_liu_edmonds, dependency_scores, eisner, top_down_tree
from mintext.parse.impact import Impacts, TokenEncoder, adjacent_impacts, impact_matrices
from mintext.parse.threshold import merge_decisions, otsu_threshold, words_from_decisions
from mintext.parse.tokens import atom_spans, joined_after

DECODERS = {"eisner": eisner, "cle": chu_liu_edmonds}
DEFAULT_THRESHOLD_SAMPLE = 1000


@dataclass
class Segmentation:
    """One text cut into words: ``impacts.adjacent[i]`` is the impact between atoms ``i`` and ``i + 1``."""

    text: str
    words: list[str]
    impacts: Impacts
    threshold: float


@dataclass
class ParsedSentence:
    """Words with their impact matrix and a constituency ``tree`` or dependency ``heads``."""

    words: list[str]
    impacts: Impacts
    tree: Tree | None = None
    heads: np.ndarray | None = None


def parse_threshold(value: str | float) -> str | float:
    """``"auto"`` or a finite number, from a command-line string; :class:`UsageError` otherwise."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"--threshold must be auto or a number, not {value!r}") from None
    if not np.isfinite(number):
        raise UsageError(f"--threshold must be auto or a finite number, not {value!r}")
    return number


def segment(
    encoder: TokenEncoder,
    texts: Iterable[str],
    *,
    threshold: str | float = "auto",
    threshold_sample: int = DEFAULT_THRESHOLD_SAMPLE,
    **options,
) -> Iterator[Segmentation]:
    """Cut each text into words where the impact between neighbouring atoms is below the threshold.

    ``threshold="auto"`` fits it with :func:`~mintext.parse.threshold.otsu_threshold`
    on the impacts of the first ``threshold_sample`` texts (all of them when
    there are fewer); those texts' results wait for the fit, later ones
    stream. Gaps with whitespace in the text are always word boundaries and
    are left out of the fit, as are texts without any known token. Other
    ``options`` go to :func:`~mintext.parse.impact.adjacent_impacts`.
    """
    threshold = parse_threshold(threshold)
    if threshold_sample < 1:
        raise UsageError(f"the threshold sample must be at least 1 line, not {threshold_sample}")
    consumed: deque[str] = deque()

    def feed() -> Iterator[str]:
        for text in texts:
            consumed.append(text)
            yield text

    results = ((consumed.popleft(), impacts) for impacts in adjacent_impacts(encoder, feed(), **options))
    if threshold == "auto":
        head = list(islice(results, threshold_sample))
        threshold = fit_threshold(head)
        results = chain(head, results)
    for text, impacts in results:
        yield Segmentation(text, _cut(text, impacts, threshold), impacts, threshold)


def fit_threshold(sample: Sequence[tuple[str, Impacts]]) -> float:
    """The automatic threshold over ``(text, impacts)`` pairs (whitespace gaps and unknown texts left out)."""
    pool = [impacts.adjacent[_joined(text)] for text, impacts in sample if impacts.known and len(impacts.adjacent)]
    return otsu_threshold(np.concatenate(pool) if pool else np.zeros(0))


def _joined(text: str) -> np.ndarray:
    return np.array(joined_after(text, atom_spans(text)), dtype=bool)


def _cut(text: str, impacts: Impacts, threshold: float) -> list[str]:
    if not impacts.known:  # nothing was measured: every atom stays a word
        return list(impacts.units)
    keep = merge_decisions(impacts.adjacent, threshold, _joined(text))
    return words_from_decisions(impacts.units, keep)


def constituency_trees(encoder: TokenEncoder, sentences: Iterable[Sequence[str]], **options) -> Iterator[ParsedSentence]:
    """Binary trees by top-down splitting of each sentence's word-level impact matrix."""
    for impacts in impact_matrices(encoder, sentences, **options):
        yield ParsedSentence(list(impacts.units), impacts, tree=top_down_tree(impacts.matrix))


def dependency_trees(
    encoder: TokenEncoder, sentences: Iterable[Sequence[str]], *, decoder: str = "eisner", **options
) -> Iterator[ParsedSentence]:
    """Dependency trees decoded from each sentence's impact matrix (root predicted).

    ``decoder``: ``eisner`` (best projective tree) or ``cle`` (Chu-Liu/Edmonds,
    best tree). Scores come from :func:`~mintext.parse.decoders.dependency_scores`.
    """
    if decoder not in DECODERS:
        raise UsageError(f"--decoder must be one of {', '.join(DECODERS)}, not {decoder!r}")
    decode = DECODERS[decoder]
    for impacts in impact_matrices(encoder, sentences, **options):
        heads = decode(*dependency_scores(impacts.matrix))
        yield ParsedSentence(list(impacts.units), impacts, heads=heads)
