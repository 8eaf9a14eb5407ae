"""`mintext score --conllu GOLD PRED`: UAS with and without punctuation, chain baselines, exact output."""

from __future__ import annotations

import json

from conftest import SHARED, needs_shared

GOLD = """\
# sent_id = s1
# text = 我们到了北京。
1\t我们\t_\tPRON\t_\t_\t3\tnsubj\t_\t_
2\t到\t_\tVERB\t_\t_\t0\troot\t_\t_
3-4\t了北京\t_\t_\t_\t_\t_\t_\t_\t_
3\t了\t_\tAUX\t_\t_\t2\taux\t_\t_
4\t北京\t_\tPROPN\t_\t_\t2\tobj\t_\t_
5\t。\t_\tPUNCT\t_\t_\t2\tpunct\t_\t_

# sent_id = s2
1\t好\t_\tADJ\t_\t_\t0\troot\t_\t_
"""
# heads 2 0 2 2 4 | 0: words 2, 3, 4 and "好" right (4 of 6); without the punctuation word 4 of 5
PRED = GOLD.replace("\t3\tnsubj", "\t2\tnsubj").replace("\t2\tpunct", "\t4\tpunct")


def test_text_table(run, write):
    result = run("score", "--conllu", write("gold.conllu", GOLD), write("pred.conllu", PRED))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "              UAS     UAS no punct\n"
        "predicted     0.6667  0.8000\n"
        "right chain   0.1667  0.2000\n"
        "left chain    0.3333  0.4000\n"
        "sentences     2\n"
        "words         6\n"
        "no punct      5 (gold UPOS not PUNCT)\n"
    )


def test_json_and_tsv(run, write):
    gold, pred = write("gold.conllu", GOLD), write("pred.conllu", PRED)
    record = json.loads(run("score", "--conllu", "--format", "json", gold, pred).stdout)
    assert record == {
        "sentences": 2, "words": 6, "words_no_punct": 5,
        "uas": 4 / 6, "uas_no_punct": 0.8,
        "right_chain_uas": 1 / 6, "right_chain_uas_no_punct": 0.2,
        "left_chain_uas": 2 / 6, "left_chain_uas_no_punct": 0.4,
    }
    tsv = run("score", "--conllu", "--format", "tsv", gold, pred).stdout.splitlines()
    assert tsv[:4] == ["sentences\t2", "words\t6", "words_no_punct\t5", f"uas\t{4 / 6}"]


def test_stdin_and_output_file(run, write, tmp_path):
    target = tmp_path / "scores.json"
    result = run("score", "--conllu", "--format", "json", write("gold.conllu", GOLD), "-", "-o", target,
                 input=GOLD.encode())
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["uas"] == 1.0


def test_errors(run, write):
    gold = write("gold.conllu", GOLD)
    other_words = write("other.conllu", GOLD.replace("北京", "上海"))
    result = run("score", "--conllu", gold, other_words)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: sentence 1 (sent_id s1, line 1 of ") and "--input-format conllu" in result.stderr
    short = write("short.conllu", GOLD.split("\n\n")[0] + "\n")
    result = run("score", "--conllu", gold, short)
    assert result.exit_code == 1 and "ends after 1 sentences but" in result.stderr
    result = run("score", "--conllu", gold, write("bad.conllu", "1\t好\n"))
    assert result.exit_code == 1 and "bad.conllu, line 1: expected 10 tab-separated columns, found 2" in result.stderr
    result = run("score", "--conllu", "--words", write("w.txt", "好\n"), gold, gold)
    assert result.exit_code == 2 and result.stderr == "Error: --words goes with word-segmentation scores, not with --conllu\n"
    assert run("score", "--conllu", gold, write("empty.txt", "")).exit_code == 1


@needs_shared
def test_gsdsimp_chains(run, tmp_path):
    gold = SHARED / "eval" / "ud" / "zh_gsdsimp-ud-test.conllu"
    record = json.loads(run("score", "--conllu", "--format", "json", gold, gold).stdout)
    assert record["uas"] == 1.0 and record["sentences"] == 500
    published = [26.2, 28.8, 14.9, 13.7]
    ours = [record[k] for k in ("right_chain_uas", "right_chain_uas_no_punct", "left_chain_uas", "left_chain_uas_no_punct")]
    assert [round(100 * x, 1) for x in ours] == published


def test_replaced_bytes_are_reported(run, write, tmp_path):
    """--errors replace carries on past bad bytes and says how many, as the word scorer does."""
    bad = tmp_path / "gbk-comment.conllu"  # 你好 in GBK in a comment: 3 invalid UTF-8 sequences (c4 | e3 ba | c3)
    bad.write_bytes(GOLD.replace("# sent_id = s2", "# note = NOTE").encode("utf-8").replace(b"NOTE", "你好".encode("gbk")))
    result = run("score", "--conllu", "--errors", "replace", write("gold.conllu", GOLD), bad)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "mintext: warning: replaced 3 undecodable byte sequences\n"
