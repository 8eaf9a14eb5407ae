"""Character classes and pre-tokenisation."""

from __future__ import annotations

from mintext.io.chars import DIGIT, HAN, PUNCT, han_stream, tokens


def test_tokens_keep_numbers_and_letters_whole():
    assert tokens("2001年新年，增长1.5％的GDP和MP3") == [
        ("2001", DIGIT), ("年新年", HAN), ("，", PUNCT), ("增长", HAN), ("1.5％", DIGIT),
        ("的", HAN), ("GDP", DIGIT), ("和", HAN), ("MP3", DIGIT),
    ]


def test_number_signs_fractions_and_percent():
    assert [t for t, _ in tokens("最低－5℃，3／4，+3.5%")] == ["最低", "－5", "℃", "，", "3／4", "，", "+3.5%"]
    # a dash after a digit or letter is a range or hyphen, not a sign
    assert [t for t, _ in tokens("1-5日，GDP-3")] == ["1", "-", "5", "日", "，", "GDP", "-", "3"]
    assert [t for t, _ in tokens("－－5，5%%")] == ["－", "－5", "，", "5%", "%"]


def test_repeated_mark_is_one_token_and_spaces_separate():
    assert tokens("好——是……！！ 啊 b") == [
        ("好", HAN), ("——", PUNCT), ("是", HAN), ("……", PUNCT), ("！！", PUNCT), ("啊", HAN), ("b", DIGIT),
    ]
    assert tokens("，。") == [("，", PUNCT), ("。", PUNCT)]


def test_full_width_digits_traditional_and_non_bmp():
    assert tokens("２００１年臺灣𠀀𪚥") == [("２００１", DIGIT), ("年臺灣𠀀𪚥", HAN)]
    assert tokens("二○○一年") == [("二○○一年", HAN)]


def test_trailing_joiner_is_punctuation():
    assert tokens("3.") == [("3", DIGIT), (".", PUNCT)]
    assert tokens("1,000,") == [("1,000", DIGIT), (",", PUNCT)]


def test_han_stream_separates_runs_with_single_zero():
    text = "ab中文，，测试𠀀x\n"
    assert han_stream(text).tolist() == [ord("中"), ord("文"), 0, ord("测"), ord("试"), 0x20000, 0]
    assert han_stream("").tolist() == []
    assert han_stream("abc，").tolist() == []
    assert han_stream("中").tolist() == [ord("中"), 0]
