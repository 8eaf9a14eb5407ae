"""Scoring a word segmentation against a gold one (SIGHAN Bakeoff style).

Words are compared as character spans: a predicted word is correct when the
gold segmentation has a word with exactly the same start and end. Whitespace
separates words and is not part of the text; the two segmentations of a line
must have the same characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from mintext.errors import InputError


@dataclass(frozen=True)
class SegmentationScores:
    """Counts and rates of one scoring run; ``str()`` gives a readable table."""

    lines: int
    gold_words: int
    predicted_words: int
    correct_words: int
    oov_words: int | None = None       # gold words not in the training word list
    oov_correct: int | None = None

    @property
    def precision(self) -> float:
        return self.correct_words / self.predicted_words if self.predicted_words else 0.0

    @property
    def recall(self) -> float:
        return self.correct_words / self.gold_words if self.gold_words else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def oov_rate(self) -> float | None:
        if self.oov_words is None:
            return None
        return self.oov_words / self.gold_words if self.gold_words else 0.0

    @property
    def oov_recall(self) -> float | None:
        if self.oov_words is None or self.oov_correct is None:
            return None
        return self.oov_correct / self.oov_words if self.oov_words else 0.0

    @property
    def iv_recall(self) -> float | None:
        if self.oov_words is None or self.oov_correct is None:
            return None
        iv_words = self.gold_words - self.oov_words
        return (self.correct_words - self.oov_correct) / iv_words if iv_words else 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        """Counts and rates as a flat dict (for JSON/TSV output)."""
        rates = {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "oov_rate": self.oov_rate,
            "oov_recall": self.oov_recall,
            "iv_recall": self.iv_recall,
        }
        return {**asdict(self), **rates}

    def __str__(self) -> str:
        rows = [(k, v) for k, v in self.as_dict().items() if v is not None]
        return "\n".join(f"{k:<16}{v:.4f}" if isinstance(v, float) else f"{k:<16}{v}" for k, v in rows)


def word_spans(words: Iterable[str]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` character offsets of consecutive words."""
    start = 0
    for word in words:
        end = start + len(word)
        yield start, end
        start = end


def score_segmentation(
    gold_lines: Iterable[str],
    predicted_lines: Iterable[str],
    training_words: set[str] | None = None,
    *,
    gold_name: str = "gold",
    predicted_name: str = "prediction",
) -> SegmentationScores:
    """Score predicted lines (words separated by whitespace) against gold lines.

    ``training_words`` (optional) splits recall into in-vocabulary and
    out-of-vocabulary gold words. Raises :class:`InputError` naming the line
    when the files differ in length or a line differs in its characters.
    """
    gold_iter, predicted_iter = iter(gold_lines), iter(predicted_lines)
    lines = gold_total = predicted_total = correct = oov = oov_correct = 0
    while True:
        gold_line = next(gold_iter, None)
        predicted_line = next(predicted_iter, None)
        if gold_line is None or predicted_line is None:
            if gold_line is not predicted_line:
                shorter = predicted_name if predicted_line is None else gold_name
                raise InputError(
                    f"{shorter} ends at line {lines} but the other file goes on; "
                    "gold and prediction must have one line per sentence, in the same order"
                )
            break
        lines += 1
        gold_words, predicted_words = gold_line.split(), predicted_line.split()
        if "".join(gold_words) != "".join(predicted_words):
            raise InputError(
                f"line {lines} differs in its characters between {gold_name} and {predicted_name}; "
                "a segmentation may only add or remove spaces"
            )
        predicted_spans = set(word_spans(predicted_words))
        gold_total += len(gold_words)
        predicted_total += len(predicted_words)
        for word, span in zip(gold_words, word_spans(gold_words), strict=True):
            hit = span in predicted_spans
            correct += hit
            if training_words is not None and word not in training_words:
                oov += 1
                oov_correct += hit
    if training_words is None:
        return SegmentationScores(lines, gold_total, predicted_total, correct)
    return SegmentationScores(lines, gold_total, predicted_total, correct, oov, oov_correct)
