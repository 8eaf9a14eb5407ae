"""Every command's outputs: never over an input, checked before the work, one line when they cannot be written,
written in place into FIFOs and devices (real ones: in a subprocess)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.special_files import private_device, read_only_dir, stdout_link, tmpfs
from tests.synthetic import make_corpus

REPO = Path(__file__).resolve().parents[1]
TEXT = "\n".join(make_corpus(150, seed=5)[0]) + "\n"
LEXICON = "word\tfreq\tlength\tpmi\tleft_entropy\tright_entropy\n孙悟空\t100\t3\t\t\t\n和\t50\t1\t\t\t\n猪八戒\t80\t3\t\t\t\n"
SENTENCE = "孙悟空和猪八戒\n"
BASKETS = "milk,bread\nmilk,eggs\nbread,eggs,milk\n"
UNDECODABLE = "孙悟空".encode("gb18030") + b"\n"  # not UTF-8: reading it would fail with exit 1


def refused(result, code: int, pattern: str) -> str:
    """Exit ``code`` with exactly one ``Error:`` line on stderr matching ``pattern``; returns that line."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    assert re.search(pattern, result.stderr), result.stderr
    return result.stderr


def leftovers(*directories: Path) -> list[str]:
    return [n for d in directories for n in os.listdir(d) if n.endswith(".tmp")]


@pytest.fixture
def files(write, tmp_path):
    """An input of each kind, and a model folder (its files only: refusals come before loading it)."""
    bert = tmp_path / "bert"
    bert.mkdir()
    for name in ("vocab.txt", "bert_config.json", "bert_model.ckpt.index"):
        (bert / name).write_text("model file\n")
    return {
        "text": write("corpus.txt", TEXT),
        "lexicon": write("lex.tsv", LEXICON),
        "sentence": write("in.txt", SENTENCE),
        "gold": write("gold.txt", "孙悟空 和 猪八戒\n"),
        "pred": write("pred.txt", "孙悟空 和猪八戒\n"),
        "words": write("words.txt", "孙悟空\n"),
        "baskets": write("baskets.csv", BASKETS),
        "bert": bert,
    }


def command(name: str, f: dict[str, Path], *, input_path: Path | None = None) -> list[str]:
    """A run of ``name`` on the fixture files (``input_path`` instead of its main input), without its output."""
    main = {"discover": "text", "segment": "sentence", "score": "pred", "apriori": "baskets", "parse": "sentence"}
    given = str(input_path or f[main[name]])
    return {
        "discover": ["discover", given, "-q"],
        "segment": ["segment", "-l", str(f["lexicon"]), given, "-q"],
        "score": ["score", str(f["gold"]), given],
        "apriori": ["apriori", given, "-q"],
        "parse": ["parse", "--bert", str(f["bert"]), given, "-q"],
    }[name]


COMMANDS = ["discover", "segment", "score", "apriori", "parse"]


# --------------------------------------------------------------------------- never an output over an input


@pytest.mark.parametrize("name", COMMANDS)
def test_output_over_the_main_input_is_refused(run, files, name):
    main = {"discover": "text", "segment": "sentence", "score": "pred", "apriori": "baskets", "parse": "sentence"}
    path = files[main[name]]
    before = path.read_bytes()
    result = run(*command(name, files), "-o", path)
    refused(result, 2, rf"-o {re.escape(str(path))} and the input {re.escape(str(path))} are the same file")
    assert path.read_bytes() == before and leftovers(path.parent) == []


@pytest.mark.parametrize(
    ("name", "extra", "victim"),
    [
        ("discover", ["-o", "{tmp}/lex.out"], "--segment"),  # --segment X over the input X
        ("segment", [], "lexicon"),
        ("score", [], "gold"),
        ("score", ["--words", "{words}"], "words"),
        ("parse", [], "bert/vocab.txt"),  # a file of the model folder
    ],
)
def test_output_over_any_other_input_is_refused(run, files, tmp_path, name, extra, victim):
    args = [a.format(tmp=tmp_path, words=files["words"]) for a in extra]
    if victim == "--segment":
        target, option = files["text"], "--segment"
    else:
        target, option = (tmp_path / victim if "/" in victim else files[victim]), "-o"
    before = target.read_bytes()
    result = run(*command(name, files), *args, option, target)
    refused(result, 2, rf"^Error: {option} {re.escape(str(target))} and the input .* are the same file")
    assert target.read_bytes() == before and leftovers(tmp_path) == []


def test_hard_link_symlink_directory_and_glob_inputs_count(run, files, tmp_path):
    corpus = tmp_path / "books"
    corpus.mkdir()
    book = corpus / "book.txt"
    book.write_text(TEXT, encoding="utf-8")
    (tmp_path / "hard.txt").hardlink_to(book)
    (tmp_path / "soft.txt").symlink_to(book)
    for inputs, output in [
        ([book], tmp_path / "hard.txt"),
        ([book], tmp_path / "soft.txt"),
        ([corpus], book),
        ([str(tmp_path / "*" / "*.txt")], book),
        ([files["text"], corpus], tmp_path / "hard.txt"),
    ]:
        refused(run("discover", *inputs, "-q", "-o", output), 2, r"are the same file")
    assert book.read_text(encoding="utf-8") == TEXT and (tmp_path / "soft.txt").resolve() == book.resolve()


def test_two_outputs_in_one_file_are_refused(run, files, tmp_path):
    out = tmp_path / "both.txt"
    result = run("discover", files["text"], "-q", "-o", out, "--segment", out)
    refused(result, 2, rf"-o {re.escape(str(out))} and --segment {re.escape(str(out))} are the same file")
    assert not out.exists() and leftovers(tmp_path) == []


def test_stdin_redirected_from_the_output_is_refused(files, tmp_path):
    path = files["sentence"]
    with open(path, "rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "cli.main", "segment", "-l", str(files["lexicon"]), "-o", str(path)],
                              stdin=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(r"Error: -o .*in.txt and the input <stdin> are the same file.*\n", done.stderr), done.stderr
    assert path.read_text(encoding="utf-8") == SENTENCE


# --------------------------------------------------------------------------- outputs checked before the work


@pytest.mark.parametrize("name", COMMANDS)
def test_unwritable_output_is_refused_before_reading_the_input(run, files, write, tmp_path, name):
    """The input would fail to decode (exit 1), and parse's model would fail to load: the output error comes first."""
    bad = write("bad.txt", UNDECODABLE if name != "apriori" else b"milk," + UNDECODABLE)
    files["bert"] = tmp_path / "no-model"
    missing = tmp_path / "missing" / "out.txt"
    result = run(*command(name, files, input_path=bad), "-o", missing)
    refused(result, 2, rf"^Error: cannot write -o {re.escape(str(missing))}: directory .*missing does not exist; create it first$")


@pytest.mark.parametrize("option", ["-o", "--segment"])
def test_directory_not_a_directory_and_read_only(run, files, tmp_path, option):
    args = ["discover", files["text"], "-q"] + (["-o", str(tmp_path / "new.tsv")] if option == "--segment" else [])
    refused(run(*args, option, tmp_path), 2, rf"cannot write {option} {re.escape(str(tmp_path))}: it is a directory")
    under_file = files["text"] / "out.txt"
    refused(run(*args, option, under_file), 2, rf"cannot write {option} .*corpus.txt/out.txt: .*corpus.txt is not a directory")
    with read_only_dir(tmp_path / "ro") as ro:
        refused(run(*args, option, ro / "out.txt"), 2, rf"cannot write {option} .*ro/out.txt: directory .*ro does not take new files")
        assert os.listdir(ro) == []
    assert not (tmp_path / "new.tsv").exists()  # refused before discovery wrote anything


# --------------------------------------------------------------------------- writing: symlinks, mode, disk full


def test_symlink_output_writes_its_target_and_keeps_its_mode(run, files, tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    result = run("segment", "-l", files["lexicon"], files["sentence"], "-q", "-o", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "孙悟空 和 猪八戒\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and leftovers(tmp_path) == []


def test_disk_full_is_one_line_with_no_partial_file(run, files, write, tmp_path):
    big = write("big.txt", SENTENCE * 20_000)  # 440 KB of text into a 64 KiB filesystem
    with tmpfs(tmp_path / "small", "size=64k") as small:
        for out, option in [(small / "seg.txt", "-o"), (small / "lex.tsv", "--segment")]:
            if option == "-o":
                result = run("segment", "-l", files["lexicon"], big, "-q", "-o", out)
            else:
                result = run("discover", big, "-q", "-o", small / "unused.tsv", "--segment", out)
            refused(result, 1, rf"^Error: cannot write {re.escape(str(out))}: No space left on device; free some space "
                               rf"or write it elsewhere \(no {re.escape(str(out))} was written\)$")
            assert os.listdir(small) == []


def mintext(*args: object, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *map(str, args)], cwd=REPO, text=True, **kwargs)


def test_dev_full_in_a_real_process(files, tmp_path):
    (tmp_path / "dev").mkdir()
    full = private_device(tmp_path / "dev" / "full", "full")
    process = mintext("segment", "-l", files["lexicon"], files["sentence"], "-q", "-o", full,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and out == ""
    assert re.fullmatch(rf"Error: cannot write {re.escape(str(full))}: No space left on device; .*\n", err), err
    assert stat.S_ISCHR(os.lstat(full).st_mode) and os.listdir(tmp_path / "dev") == ["full"]


def test_dev_null_in_a_real_process(files, tmp_path):
    (tmp_path / "dev").mkdir()
    null = private_device(tmp_path / "dev" / "null", "null")
    process = mintext("discover", files["text"], "-q", "-o", null, "--segment", null, stderr=subprocess.PIPE)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.listdir(tmp_path / "dev") == ["null"]


def test_dev_stdout_in_a_real_process(files, tmp_path):
    link = stdout_link(tmp_path / "stdout")
    process = mintext("score", files["gold"], files["pred"], "--format", "tsv", "-o", link,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "\nprecision\t0.5\n" in out and link.is_symlink()


def drain_fifo(process: subprocess.Popen, fd: int, timeout: float = 120) -> bytes:
    """Read a FIFO (opened non-blocking) until ``process`` has exited and no data is left; kill it past ``timeout``."""
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        exited = process.poll() is not None
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            data = None
        if data:
            chunks.append(data)
            continue
        if exited:
            return b"".join(chunks)
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("mintext writing into a FIFO did not finish")
        time.sleep(0.01)


def test_fifo_in_a_real_process(run, files, tmp_path):
    expected = run("discover", files["text"], "-q", "-o", tmp_path / "lex.tsv", "--segment", "-").stdout
    fifo = tmp_path / "segmented"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader from the start: the writer never waits in open
    try:
        process = mintext("discover", files["text"], "-q", "-o", tmp_path / "lex2.tsv", "--segment", fifo,
                          stderr=subprocess.PIPE)
        received = drain_fifo(process, reader)
    finally:
        os.close(reader)
    assert process.returncode == 0, process.stderr.read()
    assert received.decode("utf-8") == expected and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert (tmp_path / "lex2.tsv").read_bytes() == (tmp_path / "lex.tsv").read_bytes()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- standard output


def test_stdout_on_a_full_device_is_one_line(files, tmp_path):
    (tmp_path / "dev").mkdir()
    full = private_device(tmp_path / "dev" / "full", "full")
    with open(full, "w") as stdout:
        process = mintext("discover", files["text"], "-q", stdout=stdout, stderr=subprocess.PIPE)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err == ("Error: cannot write <stdout>: No space left on device; free some space or write it elsewhere "
                   "(what was written so far stays written)\n")  # and no 'Exception ignored' from Python's exit flush


def test_closed_stdout_is_refused_before_the_work(files):
    process = mintext("discover", files["text"], "-q", stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err == "Error: -o -: standard output is closed; give -o FILE or open it (not >&-)\n"


def test_file_name_that_is_not_utf8_is_escaped_in_the_output(run, tmp_path):
    name = os.fsdecode(b"na\xefve.txt")
    try:
        (tmp_path / name).write_text(TEXT, encoding="utf-8")
    except (OSError, UnicodeEncodeError) as err:
        pytest.skip(f"this filesystem takes no such name ({err})")
    result = run("discover", tmp_path / name, "-q", "-o", tmp_path / "lex.tsv")
    assert result.exit_code == 0, result.stderr
    header = (tmp_path / "lex.tsv").read_bytes().decode("utf-8").splitlines()[0]  # valid UTF-8 throughout
    assert f"discover={tmp_path}/na\\xefve.txt " in header  # escaped as mintext shows names (errors.shown_name)
