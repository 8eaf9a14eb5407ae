"""The issue's quality number, measured as a user would: discover on the PKU test text, segment, score.

Transductive protocol (../shared/eval/README.md): the raw test text is the
only training data. Skipped when ../shared is not available.
"""

from __future__ import annotations

import json

from tests.conftest import SHARED, needs_shared

F1_TARGET = 0.80


def _score(run, tmp_path, raw, *options):
    segmented = tmp_path / f"{raw.stem}.seg"
    result = run("discover", raw, "-q", "-o", tmp_path / f"{raw.stem}.tsv", "--segment", segmented, *options)
    assert result.exit_code == 0, result.stderr
    cws = SHARED / "eval" / "cws"
    scored = run("score", cws / "pku_test_gold.utf8", segmented, "--words", cws / "pku_training_words.utf8", "--format", "json")
    assert scored.exit_code == 0, scored.stderr
    return json.loads(scored.stdout), segmented.read_bytes()


@needs_shared
def test_pku_transductive_f1_and_gbk_gives_the_same_result(run, tmp_path):
    cws = SHARED / "eval" / "cws"
    utf8, segmented_utf8 = _score(run, tmp_path, cws / "pku_test.utf8")
    assert utf8["f1"] >= F1_TARGET, utf8
    gbk, segmented_gbk = _score(run, tmp_path, cws / "pku_test.txt", "--encoding", "gb18030")
    assert gbk == utf8
    assert segmented_gbk == segmented_utf8
