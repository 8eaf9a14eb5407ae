"""CoNLL-U reading/writing and UAS scoring (NumPy only), with the GSDSimp baselines as an oracle."""

from __future__ import annotations

import pytest
from conftest import SHARED, needs_shared

from mintext.errors import InputError
from mintext.parse.conllu import format_conllu, read_conllu, validate_heads
from mintext.parse.scoring import left_chain, right_chain, score_dependencies

# comments, a multiword token (3-4) and an empty node (2.1), as UD files have them
SAMPLE = """\
# newdoc id = d1
# sent_id = s1
# text = 我们到了北京。
1\t我们\t我们\tPRON\tPRP\t_\t3\tnsubj\t_\tSpaceAfter=No
2\t到\t到\tVERB\tVV\t_\t0\troot\t_\tSpaceAfter=No
2.1\t去\t去\tVERB\tVV\t_\t_\t_\t0:root\t_
3-4\t了北京\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No
3\t了\t了\tAUX\tAS\t_\t2\taux\t_\tSpaceAfter=No
4\t北京\t北京\tPROPN\tNNP\t_\t2\tobj\t_\tSpaceAfter=No
5\t。\t。\tPUNCT\t.\t_\t2\tpunct\t_\tSpaceAfter=No

# sent_id = s2
1\t好\t好\tADJ\tJJ\t_\t0\troot\t_\t_
"""


def sentences(text: str, name: str = "x.conllu"):
    return list(read_conllu(text.split("\n"), name))


def test_read_words_comments_ranges():
    first, second = sentences(SAMPLE)
    assert first.sent_id == "s1" and first.text == "我们到了北京。"
    assert first.words == ["我们", "到", "了", "北京", "。"]  # syntactic words; the empty node is skipped
    assert first.heads == [3, 0, 2, 2, 2]
    assert first.upos[-1] == "PUNCT"
    assert first.ranges[3][:2] == ["3-4", "了北京"]
    assert first.line == 1
    assert (second.sent_id, second.text, second.words, second.line) == ("s2", None, ["好"], 12)


def test_write_keeps_columns_and_multiword_tokens():
    first = sentences(SAMPLE)[0]
    written = format_conllu(first.words, [2, 0, 2, 2, 4], sent_id="s1", text=first.text, source=first)
    assert written == (
        "# sent_id = s1\n"
        "# text = 我们到了北京。\n"
        "1\t我们\t我们\tPRON\tPRP\t_\t2\tdep\t_\tSpaceAfter=No\n"
        "2\t到\t到\tVERB\tVV\t_\t0\troot\t_\tSpaceAfter=No\n"
        "3-4\t了北京\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n"
        "3\t了\t了\tAUX\tAS\t_\t2\tdep\t_\tSpaceAfter=No\n"
        "4\t北京\t北京\tPROPN\tNNP\t_\t2\tdep\t_\tSpaceAfter=No\n"
        "5\t。\t。\tPUNCT\t.\t_\t4\tdep\t_\tSpaceAfter=No\n"
        "\n"
    )
    again = sentences(written)[0]
    assert again.words == first.words and again.heads == [2, 0, 2, 2, 4] and again.ranges.keys() == {3}


def test_write_plain_and_refuse_non_trees():
    assert format_conllu(["我", "爱"], [2, 0]) == "1\t我\t_\t_\t_\t_\t2\tdep\t_\t_\n2\t爱\t_\t_\t_\t_\t0\troot\t_\t_\n\n"
    with pytest.raises(ValueError, match="2 roots"):
        format_conllu(["我", "爱"], [0, 0])


def test_validate_heads():
    assert validate_heads([2, 0, 2]) is None
    assert validate_heads([0, 0]) == "2 roots"
    assert validate_heads([2, 1, 0]) == "cycle through word 1"
    assert validate_heads([5, 0]) == "head 5 out of range 0..2"
    assert validate_heads([]) == "no words"


@pytest.mark.parametrize(
    "text, message",
    [
        ("1\t我\t_\t_\n", r"^x.conllu, line 1: expected 10 tab-separated columns, found 4"),
        ("1\t我\t_\t_\t_\t_\t0\troot\t_\t_\n3\t你\t_\t_\t_\t_\t1\tdep\t_\t_\n", r"line 2: word ID '3' where 2"),
        ("1\t我\t_\t_\t_\t_\tx\troot\t_\t_\n", r"line 1: HEAD 'x' is not a number"),
        ("# sent_id = a\n\n", r"line 2: sentence without words"),
    ],
)
def test_read_errors_name_file_and_line(text, message):
    with pytest.raises(InputError, match=message):
        sentences(text)


def test_chains():
    assert right_chain(4).tolist() == [2, 3, 4, 0]
    assert left_chain(4).tolist() == [0, 1, 2, 3]
    assert right_chain(0).tolist() == []


def test_uas_by_hand():
    gold = sentences(SAMPLE)
    predicted = sentences(
        format_conllu(gold[0].words, [2, 0, 2, 2, 4], source=gold[0]) + format_conllu(["好"], [0])
    )
    result = score_dependencies(gold, predicted)
    # sentence 1 gold 3 0 2 2 2 vs 2 0 2 2 4: words 2, 3, 4 right; the punctuation word (5) is wrong
    # sentence 2: the root is right. 4 of 6; without punctuation 4 of 5.
    assert (result.words, result.correct, result.words_no_punct, result.correct_no_punct) == (6, 4, 5, 4)
    # right chain 2 3 4 5 0 | 0: only sentence 2's root; left chain 0 1 2 3 4 | 0: word 3 and "好"
    assert (result.right_chain_correct, result.right_chain_correct_no_punct) == (1, 1)
    assert (result.left_chain_correct, result.left_chain_correct_no_punct) == (2, 2)
    assert result.uas == pytest.approx(4 / 6)
    assert str(result).splitlines()[:4] == [
        "              UAS     UAS no punct",
        "predicted     0.6667  0.8000",
        "right chain   0.1667  0.2000",
        "left chain    0.3333  0.4000",
    ]


def test_scoring_errors():
    gold = sentences(SAMPLE)
    with pytest.raises(InputError, match=r"^PRED ends after 1 sentences but GOLD goes on \(sent_id s2"):
        score_dependencies(gold, gold[:1])
    with pytest.raises(InputError, match=r"^GOLD ends after 1 sentences"):
        score_dependencies(gold[:1], gold)
    other = sentences("1\t我\t_\t_\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(InputError, match=r"sentence 1 .* has other words than in GOLD .*--input-format conllu"):
        score_dependencies(gold[:1], other)
    cyclic = sentences("".join(f"{i}\t{w}\t_\t_\t_\t_\t{h}\tdep\t_\t_\n" for i, (w, h) in
                               enumerate(zip(gold[0].words, [2, 1, 0, 3, 3], strict=True), 1)))
    with pytest.raises(InputError, match=r"is not a tree: cycle through word 1"):
        score_dependencies(gold[:1], cyclic)


@needs_shared
def test_gsdsimp_baselines_reproduce_the_published_numbers():
    path = SHARED / "eval" / "ud" / "zh_gsdsimp-ud-test.conllu"
    gold = list(read_conllu(path.read_text(encoding="utf-8").split("\n"), str(path)))
    result = score_dependencies(gold, gold)
    assert (result.sentences, result.uas, result.uas_no_punct) == (500, 1.0, 1.0)
    d = result.as_dict()
    assert round(100 * d["right_chain_uas"], 1) == 26.2
    assert round(100 * d["right_chain_uas_no_punct"], 1) == 28.8
    assert round(100 * d["left_chain_uas"], 1) == 14.9
    assert round(100 * d["left_chain_uas_no_punct"], 1) == 13.7
