"""`mintext pretrain`: a run end to end, and every bad input of issue 11 as one line with its exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from synthetic import make_corpus

pytestmark = [pytest.mark.bert, pytest.mark.usefixtures("bert_runtime")]
pytest_plugins = ["bert_fixtures"]

REPO = Path(__file__).resolve().parents[1]
MICRO = ["--layers", "1", "--hidden", "16", "--heads", "2", "--seq-len", "16", "--batch-size", "4", "--no-jit", "-q"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw, _ = make_corpus(120, seed=9)
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(raw) + "\n", encoding="utf-8")
    return path


def one_line_error(result, code: int, pattern: str) -> None:
    """Exit ``code`` and exactly one ``Error:`` line on stderr matching ``pattern`` (no traceback)."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert pattern in lines[0], lines[0]


def test_a_run_writes_a_folder_parse_reads(run, corpus, tmp_path):
    out = tmp_path / "model"
    result = run("pretrain", corpus, "-o", out, "--steps", "4", "--save-every", "2", *MICRO)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # -q
    assert (out / "training.tsv").read_text().splitlines()[0].startswith("step\tepoch\ttokens")
    assert len((out / "training.tsv").read_text().splitlines()) == 3
    parsed = run("parse", "--bert", out, "-q", "--window", "14", "-", input="甲乙丙丁\n")
    assert parsed.exit_code == 0, parsed.stderr
    assert parsed.stdout.replace(" ", "") == "甲乙丙丁\n"


def test_an_existing_model_is_not_overwritten_unless_asked(run, corpus, tmp_path):
    out = tmp_path / "model"
    assert run("pretrain", corpus, "-o", out, "--steps", "1", *MICRO).exit_code == 0
    before = (out / "bert_model.ckpt.data-00000-of-00001").read_bytes()
    one_line_error(run("pretrain", corpus, "-o", out, "--steps", "1", *MICRO), 2, "add --overwrite")
    assert (out / "bert_model.ckpt.data-00000-of-00001").read_bytes() == before
    again = run("pretrain", corpus, "-o", out, "--steps", "1", "--seed", "5", "--overwrite", *MICRO)
    assert again.exit_code == 0, again.stderr
    assert (out / "bert_model.ckpt.data-00000-of-00001").read_bytes() != before


def test_an_empty_corpus(run, write, tmp_path):
    one_line_error(run("pretrain", write("empty.txt", ""), "-o", tmp_path / "m", *MICRO), 1, "the corpus is empty")


def test_a_corpus_shorter_than_one_batch(run, write, tmp_path):
    short = write("short.txt", "我爱北京天安门\n")
    one_line_error(run("pretrain", short, "-o", tmp_path / "m", "--min-char-count", "1", *MICRO), 1,
                   "shorter than one batch")


@pytest.mark.parametrize("text", ["，。！？……\n" * 50, "The quick brown fox 123.\n" * 50])
def test_a_corpus_of_only_punctuation_or_latin_text(run, write, tmp_path, text):
    one_line_error(run("pretrain", write("c.txt", text), "-o", tmp_path / "m", *MICRO), 1, "no Han characters")


def test_resume_of_a_folder_that_is_not_a_pretrain_output(run, corpus, tmp_path, tiny_bert):
    one_line_error(run("pretrain", corpus, "--resume", tiny_bert, "-o", tmp_path / "m", *MICRO), 1,
                   "is not a mintext pretrain output")
    one_line_error(run("pretrain", corpus, "--resume", tmp_path / "nothing", *MICRO), 1, "no such folder")


def test_resume_with_another_size(run, corpus, tmp_path):
    out = tmp_path / "model"
    assert run("pretrain", corpus, "-o", out, "--steps", "1", *MICRO).exit_code == 0
    bigger = [("32" if a == "16" and i == MICRO.index("--hidden") + 1 else a) for i, a in enumerate(MICRO)]
    one_line_error(run("pretrain", corpus, "--resume", out, "--steps", "2", *bigger), 2, "was made with another size")


def test_time_zero(run, corpus, tmp_path):
    one_line_error(run("pretrain", corpus, "-o", tmp_path / "m", "--time", "0", *MICRO), 2, "--time must be more than 0")
    one_line_error(run("pretrain", corpus, "-o", tmp_path / "m", "--time", "soon", *MICRO), 2, "not a duration")


def test_a_vocab_file_without_the_special_tokens(run, corpus, write, tmp_path):
    vocab = write("vocab.txt", "[PAD]\n甲\n乙\n")
    one_line_error(run("pretrain", corpus, "-o", tmp_path / "m", "--vocab", vocab, *MICRO), 1,
                   "lacks [UNK], [CLS], [SEP], [MASK]")


def test_output_that_is_a_file_or_missing(run, corpus, write, tmp_path):
    one_line_error(run("pretrain", corpus, "-o", write("f.txt", "x"), *MICRO), 2, "is a file")
    one_line_error(run("pretrain", corpus, *MICRO), 2, "give -o DIR")
    one_line_error(run("pretrain", corpus, "-o", tmp_path / "no" / "m", *MICRO), 2, "does not exist")


def test_disk_full_while_saving_keeps_the_previous_checkpoint(run, corpus, tmp_path, monkeypatch):
    from mintext.pretraining import folder

    out = tmp_path / "model"
    assert run("pretrain", corpus, "-o", out, "--steps", "2", *MICRO).exit_code == 0
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    real = folder._write_files

    def full(directory, *args):
        real(directory, *args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folder, "_write_files", full)
    one_line_error(run("pretrain", corpus, "--resume", out, "--steps", "4", *MICRO), 1,
                   "No space left on device; the previous checkpoint there is intact")
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []


def test_ctrl_c_keeps_the_last_checkpoint_and_exits_130_without_a_word(corpus, tmp_path):
    out = tmp_path / "model"
    command = [sys.executable, "-m", "cli.main", "pretrain", str(corpus), "-o", str(out), "--steps", "1000000",
               "--save-every", "2", *MICRO]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True,  # SIGINT at its default even if pytest ignores it
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 240
        while not (out / "pretrain.json").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no checkpoint in time"
            time.sleep(0.2)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert stdout == b"" and stderr == b"", stderr.decode()
    state = json.loads((out / "pretrain.json").read_text())
    assert state["run"]["step"] >= 2 and state["run"]["step"] % 2 == 0
    rows = (out / "training.tsv").read_text().splitlines()
    assert rows[-1].split("\t")[0] == str(state["run"]["step"])
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []
    from mintext.parse.model import load_encoder

    assert load_encoder(out).num_layers == 1  # the kept checkpoint is whole


def test_an_output_folder_holding_the_corpus_is_refused_before_any_work(run, corpus, tmp_path):
    """-o at the corpus's own folder, even with --overwrite: saving would replace the folder and the corpus with it."""
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "corpus.txt").write_bytes(corpus.read_bytes())
    one_line_error(run("pretrain", texts, "-o", texts, "--overwrite", "--steps", "1", *MICRO), 2,
                   "corpus.txt: saving the model would destroy it")
    assert sorted(os.listdir(texts)) == ["corpus.txt"] and (texts / "corpus.txt").read_bytes() == corpus.read_bytes()


def test_the_size_choices_are_the_library_presets():
    from cli.pretrain import SIZE_CHOICES
    from mintext.pretraining.pipeline import SIZES

    assert SIZE_CHOICES == tuple(SIZES)
