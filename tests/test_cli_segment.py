"""`mintext segment`: exact output with a hand-built lexicon, formats, exit codes, bad lexicons."""

from __future__ import annotations

import os

import pytest

LEXICON = (
    "# a hand-built lexicon\n"
    "word\tfreq\tlength\tpmi\tleft_entropy\tright_entropy\n"
    "和\t500\t1\t\t\t\n"
    "去\t300\t1\t\t\t\n"
    "孙悟空\t100\t3\t\t\t\n"
    "猪八戒\t80\t3\t\t\t\n"
    "西天\t60\t2\t\t\t\n"
    "取经\t50\t2\t\t\t\n"
    "孙\t5\t1\t\t\t\n"
    "悟\t5\t1\t\t\t\n"
    "空\t5\t1\t\t\t\n"
)
TEXT = "孙悟空和猪八戒去西天取经。\n\n  2001年，增长3.5％！\n"
EXPECTED = "孙悟空 和 猪八戒 去 西天 取经 。\n\n2001 年 ， 增长 3.5％ ！\n"


def test_exact_output(run, write):
    lexicon, text = write("lex.tsv", LEXICON), write("in.txt", TEXT)
    result = run("segment", "--lexicon", lexicon, text, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXPECTED


def test_stdin_by_default_and_output_file(run, write, tmp_path):
    lexicon = write("lex.tsv", LEXICON)
    assert run("segment", "-l", lexicon, "-q", input=TEXT).stdout == EXPECTED
    out = tmp_path / "out.txt"
    result = run("segment", "-l", lexicon, "-o", out, "-q", input=TEXT)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == EXPECTED
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_jieba_format_lexicon(run, write):
    lexicon = write("dict.txt", "和 500\n去 300\n孙悟空 100\n猪八戒 80\n西天 60\n取经 50 n\n")
    result = run("segment", "-l", lexicon, "-q", input="孙悟空和猪八戒去西天取经\n")
    assert result.stdout == "孙悟空 和 猪八戒 去 西天 取经\n"


def test_characters_are_kept_and_lines_align(run, write):
    lexicon = write("lex.tsv", LEXICON)
    text = "𠀀孙悟空ＡＢＣ１２３\r\n臺灣，  和 \nabc-1.5\n"
    result = run("segment", "-l", lexicon, "-q", input=text)
    lines = result.stdout.split("\n")
    assert len(lines) == 4 and lines[-1] == ""
    originals = text.replace("\r\n", "\n").split("\n")[:-1]
    assert [line.replace(" ", "") for line in lines[:-1]] == [o.replace(" ", "") for o in originals]


def test_max_word_length_ignores_longer_words(run, write):
    lexicon = write("lex.tsv", LEXICON)
    result = run("segment", "-l", lexicon, "-k", "2", "-q", input="孙悟空去西天\n")
    assert result.stdout == "孙 悟 空 去 西天\n"


def test_missing_lexicon_option(run):
    result = run("segment", input="天地\n")
    assert result.exit_code == 2
    assert "Missing option '-l' / '--lexicon'" in result.stderr


def test_missing_lexicon_file(run, tmp_path):
    result = run("segment", "-l", tmp_path / "nope.tsv", input="天地\n")
    assert result.exit_code == 2
    assert result.stderr == f"Error: no such file: {tmp_path / 'nope.tsv'}\n"


def test_malformed_lexicon_rows(run, write):
    cases = {
        "word\tfreq\n天地\tmany\n": "line 2: frequency 'many' is not a number",
        "word\tfreq\n天地\n": "line 2: expected a word and a frequency separated by a tab",
        "天地 0\n": "line 1: frequency must be a number above 0 and at most 1e12, got '0'",
        "天地\t3\n玄黄\t1e30\n": "line 2: frequency must be a number above 0 and at most 1e12, got '1e30'",
        "天地\t3\n玄黄\t2\n天地\t1\n": "line 3: '天地' is listed twice (first on line 1)",
        "# only a comment\n": "has no lexicon rows",
        "word\tfreq\tcount\tbanned\n天地\t0\t-1\t0\n": "line 2: count must be a number from 0 to 1e12, got '-1'",
        "word\tfreq\tcount\tbanned\n天地\t0\t3\tyes\n": "line 2: banned must be 0 or 1, got 'yes'",
        "word\tfreq\tcount\tbanned\n天地\t-2\t3\t0\n": "line 2: frequency must be a number from 0 to 1e12, got '-2'",
    }
    for content, message in cases.items():
        lexicon = write("bad.tsv", content)
        result = run("segment", "-l", lexicon, input="天地\n")
        assert result.exit_code == 1, content
        assert result.stderr.startswith(f"Error: {lexicon}") and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1


def test_undecodable_input(run, write):
    lexicon = write("lex.tsv", LEXICON)
    result = run("segment", "-l", lexicon, input="孙悟空\n".encode("gbk"))
    assert result.exit_code == 1
    assert result.stderr == "Error: not UTF-8 at byte 0 (line 1) of <stdin>; try --encoding gb18030\n"
    good = run("segment", "-l", lexicon, "--encoding", "gb18030", "-q", input="孙悟空\n".encode("gbk"))
    assert good.stdout == "孙悟空\n"


def test_gbk_lexicon_suggests_the_lexicon_encoding_option_and_it_works(run, write):
    lexicon = write("gbk.tsv", LEXICON, encoding="gb18030")
    result = run("segment", "-l", lexicon, input="孙悟空\n")
    assert result.exit_code == 1
    # 和 starts line 3, after the 23-byte comment and the 48-byte header row
    assert result.stderr == f"Error: not UTF-8 at byte 71 (line 3) of {lexicon}; try --lexicon-encoding gb18030\n"
    good = run("segment", "-l", lexicon, "--lexicon-encoding", "gb18030", "-q", input="孙悟空\n")
    assert good.exit_code == 0 and good.stdout == run("segment", "-l", write("u8.tsv", LEXICON), "-q", input="孙悟空\n").stdout


@pytest.mark.parametrize("option", ["--lexicon-encoding", "--encoding"])
def test_bytes_to_bytes_codec_for_either_encoding_is_a_usage_error(run, write, option):
    lexicon = write("lex.tsv", LEXICON)
    result = run("segment", "-l", lexicon, option, "rot13", input="孙悟空\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"Error: {option} rot13 is a bytes-to-bytes codec, not a text encoding; "
        "give a text encoding such as utf-8, gb18030, big5, utf-16 or auto\n"
    )


def test_one_line_of_millions_of_characters_is_segmented_in_bounded_batches(run, write, tmp_path, monkeypatch):
    from mintext.discovery.segmenter import BATCH_CHARS, Segmenter
    from mintext.io.sources import MAX_LINE_CHARS

    sentence, segmented = "孙悟空和猪八戒去西天取经。", "孙悟空 和 猪八戒 去 西天 取经 。"
    line = sentence * 200_000  # 2.6 M characters, no newline
    sizes = []
    original = Segmenter.segment_batch

    def recording(self, pieces):
        sizes.append(sum(len(text) for text, _ in pieces))
        return original(self, pieces)

    monkeypatch.setattr(Segmenter, "segment_batch", recording)
    lexicon, text, out = write("lex.tsv", LEXICON), write("in.txt", line), tmp_path / "out.txt"
    result = run("segment", "-l", lexicon, text, "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    # never the whole line at once: a batch holds at most BATCH_CHARS characters or one piece of the line
    assert len(sizes) > 1 and max(sizes) <= max(BATCH_CHARS, MAX_LINE_CHARS)
    # one output line, cut nowhere: exactly the sentence's segmentation, repeated
    assert out.read_text(encoding="utf-8") == " ".join([segmented] * 200_000) + "\n"


def test_lexicon_and_gap_table_reproduce_discover_segment(run, write, tmp_path):
    """discover --segment, then segment -l LEXICON --gaps TABLE on the same corpus: the same bytes."""
    from tests.synthetic import make_corpus

    raw, _ = make_corpus(600, seed=11)
    corpus = write("corpus.txt", "\n".join(raw) + "\n")
    lexicon, gaps, segmented, again = (tmp_path / n for n in ("lex.tsv", "gaps.tsv", "seg.txt", "again.txt"))
    result = run("discover", corpus, "-q", "-k", "4", "-o", lexicon, "--segment", segmented, "--gaps", gaps)
    assert result.exit_code == 0, result.stderr
    result = run("segment", "-q", "-l", lexicon, "--gaps", gaps, corpus, "-o", again)
    assert result.exit_code == 0, result.stderr
    assert again.read_bytes() == segmented.read_bytes()


def test_bad_gap_table_is_one_line(run, write):
    lexicon = write("lex.tsv", LEXICON)
    cases = {
        "bigram\tgap\n": "line 1: expected a gap table header with gap_weight= and gap_threshold=",
        "# gap_weight=2.0 gap_threshold=0.1\nbigram\tgap\n": "line 2: expected the columns bigram gap gap_n",
        "# gap_weight=2.0 gap_threshold=0.1\nbigram\tgap\tgap_n\tends_before\tends_before_n\tstarts_after\tstarts_after_n\n"
        "孙悟\tx\t1\t0\t0\t0\t0\n": "a gap table value is not a number",
        "# gap_weight=2.0 gap_threshold=0.1\nbigram\tgap\tgap_n\tends_before\tends_before_n\tstarts_after\tstarts_after_n\n"
        "孙悟\t0.5\t1\t0\t0\t0\t0\n\n孙\t0.5\t1\n": "line 5: expected the columns bigram gap gap_n",
    }
    for content, message in cases.items():
        gaps = write("gaps.tsv", content)
        result = run("segment", "-l", lexicon, "--gaps", gaps, input="孙悟空\n")
        assert result.exit_code == 1, content
        assert result.stderr.startswith(f"Error: {gaps}") and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
