"""Unlabelled attachment score (UAS) of dependency trees, with chain baselines.

UAS is the share of words whose predicted head is the gold head, counted over
all words of all sentences (micro-average). "Without punctuation" leaves out
the words whose *gold* UPOS is ``PUNCT``. The baselines are scored on the
same gold trees, with the root predicted rather than taken from the gold:

- right chain: every word's head is the next word, the last word is the root;
- left chain: every word's head is the previous word, the first word is the root.

On UD Chinese GSDSimp test these give 26.2 / 28.8 (right chain, with / without
punctuation) and 14.9 / 13.7 (left chain), the published reference numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mintext.errors import InputError, UsageError, shown_name
from mintext.parse.conllu import ConlluSentence, read_conllu, validate_heads

if TYPE_CHECKING:
    from mintext.io.sources import DecodeStats

PUNCTUATION_UPOS = "PUNCT"


def right_chain(n: int) -> np.ndarray:
    """Heads of the right-chain tree over ``n`` words (CoNLL-U numbering)."""
    heads = np.arange(2, n + 2)
    if n:
        heads[-1] = 0
    return heads


def left_chain(n: int) -> np.ndarray:
    """Heads of the left-chain tree over ``n`` words (CoNLL-U numbering)."""
    return np.arange(n)


@dataclass(frozen=True)
class AttachmentScores:
    """Counts of one scoring run; rates as properties; ``str()`` gives a table."""

    sentences: int
    words: int
    words_no_punct: int
    correct: int
    correct_no_punct: int
    right_chain_correct: int
    right_chain_correct_no_punct: int
    left_chain_correct: int
    left_chain_correct_no_punct: int

    @staticmethod
    def _rate(correct: int, total: int) -> float:
        return correct / total if total else 0.0

    @property
    def uas(self) -> float:
        return self._rate(self.correct, self.words)

    @property
    def uas_no_punct(self) -> float:
        return self._rate(self.correct_no_punct, self.words_no_punct)

    def as_dict(self) -> dict[str, int | float]:
        """Counts and UAS values (fractions) as a flat dict, for JSON/TSV output."""
        rates = {}
        for prefix, correct, correct_np in (
            ("", self.correct, self.correct_no_punct),
            ("right_chain_", self.right_chain_correct, self.right_chain_correct_no_punct),
            ("left_chain_", self.left_chain_correct, self.left_chain_correct_no_punct),
        ):
            rates[f"{prefix}uas"] = self._rate(correct, self.words)
            rates[f"{prefix}uas_no_punct"] = self._rate(correct_np, self.words_no_punct)
        return {"sentences": self.sentences, "words": self.words, "words_no_punct": self.words_no_punct, **rates}

    def __str__(self) -> str:
        d = self.as_dict()
        rows = [("", "UAS", "UAS no punct")]
        for label, prefix in (("predicted", ""), ("right chain", "right_chain_"), ("left chain", "left_chain_")):
            rows.append((label, f"{d[prefix + 'uas']:.4f}", f"{d[prefix + 'uas_no_punct']:.4f}"))
        table = "\n".join(f"{a:<14}{b:<8}{c}" for a, b, c in rows)
        return (f"{table}\nsentences     {self.sentences}\nwords         {self.words}\n"
                f"no punct      {self.words_no_punct} (gold UPOS not PUNCT)")


def score_dependencies(
    gold: Iterable[ConlluSentence],
    predicted: Iterable[ConlluSentence],
    *,
    gold_name: str = "GOLD",
    predicted_name: str = "PRED",
) -> AttachmentScores:
    """UAS of ``predicted`` against ``gold``, and the chain baselines on ``gold``.

    Sentences are paired in order; each pair must have the same words (FORM).
    Every predicted sentence must be a tree. Raises :class:`InputError` naming
    the sentence otherwise.
    """
    counts = np.zeros(8, dtype=np.int64)
    sentences = 0
    predicted_iter = iter(predicted)
    for gold_sentence in gold:
        predicted_sentence = next(predicted_iter, None)
        if predicted_sentence is None:
            raise InputError(f"{predicted_name} ends after {sentences} sentences but {gold_name} goes on "
                             f"{gold_sentence.describe(gold_name)}")
        sentences += 1
        counts += _sentence_counts(gold_sentence, predicted_sentence, gold_name, predicted_name, sentences)
    extra = next(predicted_iter, None)
    if extra is not None:
        raise InputError(f"{gold_name} ends after {sentences} sentences but {predicted_name} goes on "
                         f"{extra.describe(predicted_name)}")
    return AttachmentScores(sentences, *(int(c) for c in counts))


def _sentence_counts(gold: ConlluSentence, predicted: ConlluSentence, gold_name: str, predicted_name: str,
                     number: int) -> np.ndarray:
    where = f"sentence {number} {predicted.describe(predicted_name)}"
    if gold.words != predicted.words:
        raise InputError(f"{where} has other words than in {gold_name} {gold.describe(gold_name)}: "
                         f"UAS needs the gold words (parse with --input-format conllu)")
    gold_heads = gold.heads
    if any(h is None for h in gold_heads):
        raise InputError(f"{gold_name} {gold.describe(gold_name)} has a word without HEAD; it is not a gold tree")
    predicted_heads = predicted.heads
    if any(h is None for h in predicted_heads):
        raise InputError(f"{where} has a word without HEAD")
    problem = validate_heads(predicted_heads)
    if problem:
        raise InputError(f"{where} is not a tree: {problem}")
    gold_array = np.array(gold_heads)
    scored = np.array([u != PUNCTUATION_UPOS for u in gold.upos])
    n = len(gold_array)
    out = []
    for heads in (np.array(predicted_heads), right_chain(n), left_chain(n)):
        hit = heads == gold_array
        out += [int(hit.sum()), int(hit[scored].sum())]
    return np.array([n, int(scored.sum()), *out])


def score_conllu(
    gold: str, predicted: str, encoding: str = "utf-8", errors: str = "strict", *, stats: DecodeStats | None = None
) -> AttachmentScores:
    """:func:`score_dependencies` of two CoNLL-U files (``-`` for standard input, at most one of them).

    Read as mintext reads text; ``stats`` counts the byte sequences ``errors``
    replaced or dropped.
    """
    from mintext.io.sources import read_lines

    if gold == "-" and predicted == "-":
        raise UsageError("GOLD and PRED cannot both be - (stdin)")
    gold_name = shown_name(gold) if gold != "-" else "<stdin>"
    predicted_name = shown_name(predicted) if predicted != "-" else "<stdin>"
    return score_dependencies(
        read_conllu(read_lines(gold, encoding, errors, stats=stats), gold_name),
        read_conllu(read_lines(predicted, encoding, errors, stats=stats), predicted_name),
        gold_name=gold_name,
        predicted_name=predicted_name,
    )
