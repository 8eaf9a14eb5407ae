"""`mintext score` and mintext.discovery.scoring: hand-worked examples, exact output, errors."""

from __future__ import annotations

import json

import pytest

from mintext.discovery.scoring import score_segmentation
from mintext.errors import InputError

# Hand-worked: gold 5 words, prediction 4 words.
#   gold: 共同 | 创造 | 美好 | 的 | 新世纪      spans (0,2) (2,4) (4,6) (6,7) (7,10)
#   pred: 共同创造 | 美好 | 的 | 新世纪         spans (0,4) (4,6) (6,7) (7,10)
#   correct: 美好 的 新世纪 = 3 -> P = 3/4, R = 3/5, F = 2*.75*.6/1.35 = 0.6667
GOLD = "共同 创造 美好 的 新世纪\n"
PRED = "共同创造 美好  的 新世纪\n"


def test_hand_worked_example():
    result = score_segmentation([GOLD], [PRED])
    assert (result.gold_words, result.predicted_words, result.correct_words) == (5, 4, 3)
    assert result.precision == pytest.approx(0.75)
    assert result.recall == pytest.approx(0.6)
    assert result.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert result.oov_recall is None


def test_oov_split():
    # OOV gold words: 新世纪 (correct) and 创造 (missed) -> OOV rate 2/5, OOV recall 1/2,
    # IV words 共同 美好 的: 2 of 3 correct.
    result = score_segmentation([GOLD], [PRED], {"共同", "美好", "的"})
    assert result.oov_rate == pytest.approx(0.4)
    assert result.oov_recall == pytest.approx(0.5)
    assert result.iv_recall == pytest.approx(2 / 3)


def test_identical_and_empty_lines():
    result = score_segmentation(["a b", "", "c"], ["a b", "", "c"])
    assert result.f1 == 1.0
    assert result.lines == 3


def test_character_mismatch_names_line():
    with pytest.raises(InputError, match="^line 2 differs in its characters"):
        score_segmentation(["a b", "c d"], ["a b", "c e"])


def test_different_lengths():
    with pytest.raises(InputError, match="^prediction ends at line 1"):
        score_segmentation(["a", "b"], ["a"])


def test_cli_text_output(run, write):
    gold, pred = write("gold.txt", GOLD), write("pred.txt", PRED)
    result = run("score", gold, pred)
    assert result.exit_code == 0
    assert result.stdout == (
        "lines           1\n"
        "gold_words      5\n"
        "predicted_words 4\n"
        "correct_words   3\n"
        "precision       0.7500\n"
        "recall          0.6000\n"
        "f1              0.6667\n"
    )


def test_cli_json_with_words(run, write):
    gold, pred = write("gold.txt", GOLD), write("pred.txt", PRED)
    words = write("words.txt", "共同\n美好\n的\n")
    result = run("score", gold, pred, "--words", words, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["oov_words"] == 2 and data["oov_correct"] == 1
    assert data["f1"] == pytest.approx(2 / 3)


def test_cli_reads_prediction_from_stdin(run, write):
    gold = write("gold.txt", GOLD)
    result = run("score", gold, "-", "--format", "tsv", input=PRED)
    assert result.exit_code == 0
    assert "f1\t0.666" in result.stdout


def test_cli_different_lengths_is_one_line_error(run, write):
    gold, pred = write("gold.txt", "a b\nc\n"), write("pred.txt", "a b\n")
    result = run("score", gold, pred)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {pred} ends at line 1 but the other file goes on; gold and prediction must have one line per sentence, in the same order\n"


def test_cli_mismatched_characters(run, write):
    gold, pred = write("gold.txt", "a b\n"), write("pred.txt", "a c\n")
    result = run("score", gold, pred)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: line 1 differs in its characters")


@pytest.mark.parametrize("args", [["-", "-"], ["-", "-", "--conllu"], ["GOLD", "-", "--words", "-"]])
def test_cli_two_stdins_is_usage_error(run, write, args):
    gold = write("gold.txt", GOLD)
    result = run("score", *[str(gold) if a == "GOLD" else a for a in args], input=PRED)
    assert result.exit_code == 2
    assert result.stderr == "Error: only one of GOLD, PRED and --words can be - (stdin)\n"


def test_cli_missing_file_is_usage_error(run, write, tmp_path):
    gold = write("gold.txt", "a\n")
    result = run("score", gold, tmp_path / "nope.txt")
    assert result.exit_code == 2
    assert result.stderr == f"Error: no such file: {tmp_path / 'nope.txt'}\n"
