"""`mintext parse`: every task and format end to end on tiny random models; bad input; determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import SHARED, needs_shared
from test_parse_conllu import SAMPLE as CONLLU  # comments, a multiword token, an empty node

from mintext.parse.conllu import read_conllu, validate_heads
from mintext.parse.decoders import is_projective, top_down_tree
from mintext.parse.impact import impact_matrix
from mintext.parse.pipeline import segment
from mintext.parse.trees import bracketed

pytestmark = [pytest.mark.bert, pytest.mark.usefixtures("bert_runtime")]
pytest_plugins = ["bert_fixtures"]  # tiny_bert, tiny_albert, bert_encoder... (session-scoped)

LINES = [
    "计算机的鼠标有什么比较特殊的用途呢",
    "",
    "我爱 iPhone15，好吗？",
    "𠀀𠀁𠀂",
    "大肠杆菌是人和许多动物肠道中最主要且数量最多的一种细菌",
]
TEXT = "\n".join(LINES) + "\n"
SEGMENTED = "计算机 的 鼠标 有 什么 比较 特殊 的 用途 呢\n我 爱 北京\n好\n"

_LOADED: dict = {}


@pytest.fixture
def cached(monkeypatch):
    """Load each model once for the CLI runs of this module (loading itself is tested end to end below)."""
    import mintext.parse.model as model_module

    real = model_module.load_encoder

    def load(directory, model="bert", layer=None):
        key = (str(directory), model, layer)
        if key not in _LOADED:
            _LOADED[key] = real(directory, model, layer)
        return _LOADED[key]

    monkeypatch.setattr(model_module, "load_encoder", load)


def one_line_error(result, code: int, pattern: str) -> None:
    """Exit ``code``, one ``Error:`` line matching ``pattern`` last on stderr, before it only mintext's notes."""
    assert result.exit_code == code, result.stderr
    lines = result.stderr.splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert all(line.startswith("mintext: ") for line in lines[:-1]), result.stderr
    assert re.search(pattern, lines[-1]), lines[-1]


# --------------------------------------------------------------------------- seg


def test_seg_end_to_end(run, write, tiny_bert):
    """Real loading, no cache: one output line per input line, characters unchanged."""
    result = run("parse", "--bert", tiny_bert, write("in.txt", TEXT))
    assert result.exit_code == 0, result.stderr
    out = result.stdout.split("\n")
    assert out[-1] == "" and len(out) - 1 == len(LINES)
    for line, segmented in zip(LINES, out[:-1], strict=True):
        assert segmented.replace(" ", "") == line.replace(" ", "")
        assert "  " not in segmented
    assert out[1] == ""
    assert out[3] == "𠀀 𠀁 𠀂"  # nothing known: every character its own word
    assert any(word.startswith("iPhone15") for word in out[2].split(" "))  # the space is always a boundary
    assert "warning: 1 sentence without any character in the model's vocabulary (first: sentence 4)" in result.stderr
    assert "threshold " in result.stderr and "(auto: two-cluster split of the impacts of the first 5 sentences)" in result.stderr


def test_seg_output_is_what_the_library_gives(run, write, cached, tiny_bert, bert_encoder):
    result = run("parse", "--bert", tiny_bert, write("in.txt", TEXT), "-q")
    assert result.exit_code == 0
    assert result.stderr.startswith("mintext: warning: 1 sentence without") and result.stderr.count("\n") == 1
    expected = "".join(" ".join(s.words) + "\n" for s in segment(bert_encoder, LINES))
    assert result.stdout == expected


@pytest.mark.parametrize("threshold, expected", [
    ("0", ["计算机的鼠标有什么比较特殊的用途呢", "", "我爱 iPhone15，好吗？", "𠀀 𠀁 𠀂"]),
    ("1e9", ["计 算 机 的 鼠 标 有 什 么 比 较 特 殊 的 用 途 呢", "", "我 爱 iPhone15 ， 好 吗 ？", "𠀀 𠀁 𠀂"]),
])
def test_seg_numeric_threshold(run, write, cached, tiny_bert, threshold, expected):
    result = run("parse", "--bert", tiny_bert, "--threshold", threshold, write("in.txt", TEXT))
    assert result.exit_code == 0
    assert result.stdout.split("\n")[:4] == expected
    assert "auto" not in result.stderr


def test_seg_json_and_threshold_sample(run, write, cached, tiny_bert):
    result = run("parse", "--bert", tiny_bert, "--output-format", "json", "--threshold-sample", "1",
                 write("in.txt", TEXT))
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["sent_id"] for r in records] == ["1", "2", "3", "4", "5"]
    first = records[0]
    assert first["text"] == LINES[0] and "".join(first["words"]) == LINES[0]
    assert len(first["impacts"]) == len(first["atoms"]) - 1 == len(LINES[0]) - 1
    assert {r["threshold"] for r in records} == {first["threshold"]}
    joined = [i >= first["threshold"] for i in first["impacts"]]
    assert len(first["words"]) == 1 + joined.count(False)
    assert "first 1 sentence)" in result.stderr


def test_seg_stdin_and_output_file(run, cached, tiny_bert, tmp_path):
    target = tmp_path / "out.txt"
    result = run("parse", "--bert", tiny_bert, "-", "-o", target, input=TEXT.encode())
    assert result.exit_code == 0 and result.stdout == ""
    assert len(target.read_text(encoding="utf-8").splitlines()) == len(LINES)


def test_same_input_same_bytes(run, write, cached, tiny_bert):
    path = write("in.txt", TEXT * 3)
    first = run("parse", "--bert", tiny_bert, path, "--batch-size", "7")
    second = run("parse", "--bert", tiny_bert, path, "--batch-size", "7")
    assert first.stdout.encode() == second.stdout.encode()


def test_five_thousand_character_line(run, write, cached, tiny_bert):
    """Sliding windows (62 tokens for this model): linear cost, characters unchanged, one line out."""
    rng = np.random.default_rng(0)
    line = "".join(chr(c) for c in rng.integers(0x4E00, 0x9FA5, 5000))
    started = time.perf_counter()
    result = run("parse", "--bert", tiny_bert, "--threshold", "auto", write("long.txt", line + "\n好\n"))
    assert result.exit_code == 0, result.stderr
    out = result.stdout.split("\n")
    assert out[0].replace(" ", "") == line and out[1] == "好"
    assert time.perf_counter() - started < 120
    copies = int(result.stderr.split(" masked copies")[0].split(": ")[-1])
    assert copies < 2.2 * 5000  # about two copies a gap, not 2n - 1 copies of every window


# --------------------------------------------------------------------------- tree


def test_tree_bracketed_from_segmented_input(run, write, cached, tiny_bert, bert_encoder):
    result = run("parse", "--bert", tiny_bert, "--task", "tree", "--segmented", write("w.txt", SEGMENTED))
    assert result.exit_code == 0, result.stderr
    expected = []
    for line in SEGMENTED.splitlines():
        words = line.split()
        expected.append(bracketed(top_down_tree(impact_matrix(bert_encoder, words)), words))
    assert result.stdout.splitlines() == expected
    assert result.stdout.splitlines()[2] == "(好)"
    assert result.stdout.splitlines()[0].replace("(", "").replace(")", "").split() == SEGMENTED.split("\n")[0].split()


def test_tree_from_bert_segmentation_json_and_pretty(run, write, cached, tiny_bert):
    path = write("in.txt", TEXT)
    as_json = run("parse", "--bert", tiny_bert, "--task", "tree", "--output-format", "json", path)
    assert as_json.exit_code == 0
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert records[1]["tree"] is None and records[1]["words"] == []

    def leaves(node):
        return [node] if isinstance(node, str) else leaves(node[0]) + leaves(node[1])

    assert leaves(records[0]["tree"]) == records[0]["words"]
    assert "".join(records[0]["words"]) == LINES[0]
    pretty = run("parse", "--bert", tiny_bert, "--task", "tree", "--output-format", "pretty", path)
    assert pretty.exit_code == 0
    assert pretty.stdout.startswith(f"# 1: {LINES[0]}\n┬─")
    assert "\n# 2: \n\n# 3: " in pretty.stdout


# --------------------------------------------------------------------------- dep


def check_conllu(text: str) -> list:
    sentences = list(read_conllu(text.split("\n"), "out"))
    for s in sentences:
        assert validate_heads(s.heads) is None
        assert [row[0] for row in s.rows] == [str(i) for i in range(1, len(s.rows) + 1)]
        assert [row[7] for row in s.rows].count("root") == 1
    return sentences


@pytest.mark.parametrize("decoder", ["eisner", "cle"])
def test_dep_conllu_validates(run, write, cached, tiny_bert, decoder):
    result = run("parse", "--bert", tiny_bert, "--task", "dep", "--decoder", decoder, write("in.txt", TEXT))
    assert result.exit_code == 0, result.stderr
    sentences = check_conllu(result.stdout)
    assert [s.sent_id for s in sentences] == ["1", "3", "4", "5"]  # the empty line 2 has no sentence
    assert sentences[0].text == LINES[0] and "".join(sentences[0].words) == LINES[0]
    assert "warning: 1 empty sentence left out of the CoNLL-U output (first: sentence 2)" in result.stderr
    if decoder == "eisner":
        assert all(is_projective(s.heads) for s in sentences)


def test_dep_conllu_input_with_multiword_tokens_and_comments(run, write, cached, tiny_bert):
    result = run("parse", "--bert", tiny_bert, "--task", "dep", "--input-format", "conllu", write("g.conllu", CONLLU))
    assert result.exit_code == 0, result.stderr
    first, second = check_conllu(result.stdout)
    assert (first.sent_id, first.text, first.words) == ("s1", "我们到了北京。", ["我们", "到", "了", "北京", "。"])
    assert first.ranges[3][:2] == ["3-4", "了北京"]
    assert [row[3] for row in first.rows] == ["PRON", "VERB", "AUX", "PROPN", "PUNCT"]  # gold columns kept
    assert (second.sent_id, second.words, second.heads) == ("s2", ["好"], [0])
    assert "2.1\t" not in result.stdout


def test_dep_json_and_pretty(run, write, cached, tiny_bert):
    path = write("w.txt", SEGMENTED)
    as_json = run("parse", "--bert", tiny_bert, "--task", "dep", "--segmented", "--output-format", "json", path)
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["words"] for r in records] == [line.split() for line in SEGMENTED.splitlines()]
    assert all(validate_heads(r["heads"]) is None for r in records)
    pretty = run("parse", "--bert", tiny_bert, "--task", "dep", "--segmented", "--output-format", "pretty", path)
    assert pretty.stdout.endswith("# 3: 好\n好 (1)\n\n")
    assert pretty.stdout.count("(root") == 0 and pretty.stdout.count("└── ") >= 2


def test_layer_option(run, write, cached, tiny_bert):
    path = write("in.txt", TEXT)
    last = run("parse", "--bert", tiny_bert, "--output-format", "json", path)
    first = run("parse", "--bert", tiny_bert, "--output-format", "json", "--layer", "1", path)
    assert first.exit_code == 0
    assert json.loads(first.stdout.splitlines()[0])["impacts"] != json.loads(last.stdout.splitlines()[0])["impacts"]


# --------------------------------------------------------------------------- other model types


def test_albert_end_to_end(run, write, tiny_albert):
    path = write("in.txt", TEXT)
    seg = run("parse", "--bert", tiny_albert, "--model", "albert", path)
    assert seg.exit_code == 0, seg.stderr
    assert [line.replace(" ", "") for line in seg.stdout.splitlines()] == [line.replace(" ", "") for line in LINES]
    tree = run("parse", "--bert", tiny_albert, "--model", "albert", "--task", "tree", "--segmented",
               write("w.txt", SEGMENTED))
    assert tree.exit_code == 0 and tree.stdout.splitlines()[2] == "(好)"
    dep = run("parse", "--bert", tiny_albert, "--model", "albert", "--task", "dep", "--input-format", "conllu",
              write("g.conllu", CONLLU))
    assert dep.exit_code == 0
    check_conllu(dep.stdout)


def test_nezha_end_to_end(run, write, tiny_nezha):
    result = run("parse", "--bert", tiny_nezha, "--model", "nezha", "--task", "dep", write("in.txt", TEXT), "-q")
    assert result.exit_code == 0, result.stderr
    check_conllu(result.stdout)


def test_model_choices_and_batch_size_match_the_library():
    import cli.parse
    from mintext.parse.impact import DEFAULT_BATCH_SIZE
    from mintext.parse.model import MODEL_TYPES

    # spelt out in cli/parse.py so that --help stays light
    assert cli.parse.MODEL_CHOICES == MODEL_TYPES
    assert cli.parse.DEFAULT_BATCH_SIZE == DEFAULT_BATCH_SIZE


# --------------------------------------------------------------------------- bad input


def test_missing_model_directory(run, write, tmp_path):
    result = run("parse", "--bert", tmp_path / "nope", write("in.txt", TEXT))
    one_line_error(result, 2, r"^Error: no such directory: .*nope \(--bert wants a folder with bert_config.json")


def test_missing_input_file(run, tiny_bert, tmp_path):
    one_line_error(run("parse", "--bert", tiny_bert, tmp_path / "none.txt"), 2, r"no such file: .*none.txt")


@pytest.mark.parametrize("damage, code, pattern", [
    (lambda d: (d / "bert_model.ckpt.index").unlink(), 1, r"checkpoint index .*bert_model.ckpt.index is missing"),
    (lambda d: [p.unlink() for p in d.glob("bert_model.ckpt.*")], 1, r"has no checkpoint \(bert_model.ckpt.index"),
    (lambda d: (d / "vocab.txt").unlink(), 1, r"has no vocab.txt; use the vocab.txt that came with this checkpoint"),
    (lambda d: (d / "bert_config.json").unlink(), 1, r"has no bert_config.json \(or albert_config\*.json\)"),
    (lambda d: (d / "bert_model.ckpt.index").write_bytes(b"not a checkpoint index" * 10), 1,
     r"cannot read checkpoint .*bert_model.ckpt: .*damaged or truncated: download the model folder again"),
    (lambda d: _truncate(d / "bert_model.ckpt.data-00000-of-00001"), 1,
     r"cannot read the weights in .*bert_model.ckpt: .*damaged or truncated"),
    (lambda d: (d / "bert_config.json").write_text('{"hidden_size": 32, '), 1,
     r"bert_config.json is not valid JSON \(Expecting .* at line 1, column \d+\)"),
    (lambda d: _drop_vocab_lines(d, 100), 1,
     r"vocab.txt has 21047 tokens but the checkpoint's word embeddings have 21147 rows: use the vocab.txt"),
    (lambda d: _edit_config(d, vocab_size=100), 1,
     r"bert_config.json and bert_model.ckpt do not belong together: vocab_size is 100 in the config"),
    (lambda d: _edit_config(d, hidden_size=64, num_attention_heads=4), 1, r"hidden_size is 64 in the config but 32"),
    (lambda d: _edit_config(d, num_hidden_layers=5), 1, r"the config has 5 layers, the checkpoint 2"),
])
def test_damaged_model_folder(run, write, tiny_bert, model_copy, damage, code, pattern):
    directory = model_copy(tiny_bert)
    damage(directory)
    one_line_error(run("parse", "--bert", directory, write("in.txt", TEXT)), code, pattern)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _drop_vocab_lines(directory, count):
    lines = (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (directory / "vocab.txt").write_text("\n".join(lines[:-count]) + "\n", encoding="utf-8")


def _edit_config(directory, **changes):
    path = directory / "bert_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize("fixture, model, pattern", [
    ("tiny_albert", "bert", r"albert_model.ckpt is an ALBERT checkpoint \(one shared layer group\): use --model albert"),
    ("tiny_bert", "albert", r"bert_model.ckpt is a BERT-format checkpoint .*not ALBERT: use --model bert"),
    ("tiny_bert", "nezha", r"has absolute position embeddings, which NEZHA does not use: use --model bert"),
    ("tiny_nezha", "roberta", r"has no position embeddings \(relative positions, as NEZHA\): use --model nezha"),
])
def test_model_of_one_type_loaded_as_another(run, write, request, fixture, model, pattern):
    directory = request.getfixturevalue(fixture)
    one_line_error(run("parse", "--bert", directory, "--model", model, write("in.txt", TEXT)), 1, pattern)


@pytest.mark.parametrize("args, pattern", [
    (["--output-format", "conllu"], r"--output-format conllu does not fit --task seg; use words or json"),
    (["--task", "dep", "--output-format", "bracketed"], r"does not fit --task dep; use conllu or json or pretty"),
    (["--threshold", "high"], r"--threshold must be auto or a number, not 'high'"),
    (["--threshold", "nan"], r"--threshold must be auto or a finite number"),
    (["--segmented"], r"--task seg finds the words itself; --input-format segmented is for --task tree or dep"),
    (["--task", "dep", "--segmented", "--input-format", "conllu"], r"--segmented and --input-format conllu contradict"),
    (["--layer", "3"], r"--layer must be between 1 and 2 for this model \(default: 2, the last\)"),
    (["--window", "100"], r"--window must be between 2 and 62 tokens for this model \(default 62\)"),
])
def test_impossible_requests(run, write, cached, tiny_bert, args, pattern):
    result = run("parse", "--bert", tiny_bert, *args, write("in.txt", TEXT))
    one_line_error(result, 2, pattern)
    assert result.stderr.count("\n") == 1  # refused before the model is loaded, or right after


def test_malformed_conllu(run, write, cached, tiny_bert):
    result = run("parse", "--bert", tiny_bert, "--task", "dep", "--input-format", "conllu",
                 write("bad.conllu", "# sent_id = 1\n1\t我\t_\n"))
    one_line_error(result, 1, r"bad.conllu, line 2: expected 10 tab-separated columns, found 3")


def test_console_stays_clean(tiny_bert, model_copy, tmp_path):
    """In a real process, nothing but mintext's own lines reaches stderr: no TensorFlow logs or tracebacks."""
    path = tmp_path / "in.txt"
    path.write_text(TEXT, encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    command = [sys.executable, "-m", "cli.main", "parse", "--bert", str(tiny_bert), str(path)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr
    assert all(line.startswith("mintext: ") for line in done.stderr.splitlines()), done.stderr
    broken = model_copy(tiny_bert)
    _truncate(broken / "bert_model.ckpt.data-00000-of-00001")
    done = subprocess.run([*command[:5], str(broken), str(path)], capture_output=True, text=True, env=env,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot read the weights in ") and done.stderr.count("\n") == 1, done.stderr


@needs_shared
def test_treebank_sentences_end_to_end(run, write, cached, tiny_bert):
    """GSDSimp sentences with gold words: parsed, valid, and scored next to the chain baselines."""
    text = (SHARED / "eval" / "ud" / "zh_gsdsimp-ud-test.conllu").read_text(encoding="utf-8")
    gold = write("gold.conllu", "\n\n".join(text.split("\n\n")[:40]) + "\n\n")
    predicted = gold.parent / "pred.conllu"
    result = run("parse", "--bert", tiny_bert, "--task", "dep", "--input-format", "conllu", gold, "-o", predicted)
    assert result.exit_code == 0, result.stderr
    sentences = check_conllu(predicted.read_text(encoding="utf-8"))
    expected = list(read_conllu(gold.read_text(encoding="utf-8").split("\n")))
    assert [s.words for s in sentences] == [s.words for s in expected]
    assert [s.sent_id for s in sentences] == [s.sent_id for s in expected]
    assert max(sum(len(w) for w in s.words) for s in expected) > 62  # some need sliding windows
    scores = json.loads(run("score", "--conllu", "--format", "json", gold, predicted).stdout)
    assert scores["sentences"] == 40 and 0 <= scores["uas"] <= 1
    words = sum(len(s.words) for s in expected)
    right = sum(h == (i + 2 if i + 1 < len(s.words) else 0) for s in expected for i, h in enumerate(s.heads))
    assert scores["right_chain_uas"] == right / words
