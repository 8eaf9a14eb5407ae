"""`mintext discover`: outputs, options, exit codes and every bad input of the issue."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import mintext.discovery.pipeline
from tests.synthetic import make_corpus

RAW, GOLD = make_corpus(800, seed=3)
TEXT = "\n".join(RAW) + "\n"
HEADER = "word\tfreq\tlength\tpmi\tleft_entropy\tright_entropy\tcount\tbanned"


@pytest.fixture
def corpus(write):
    return write("corpus.txt", TEXT)


def rows(output: str) -> list[list[str]]:
    lines = output.splitlines()
    assert lines[0].startswith("# mintext=") and lines[1] == HEADER
    return [line.split("\t") for line in lines[2:]]


def test_writes_a_sorted_lexicon_to_stdout(run, corpus):
    result = run("discover", corpus, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    table = rows(result.stdout)
    assert len(table) > 50
    keys = [(-int(r[1]), r[0]) for r in table]
    assert keys == sorted(keys)
    assert all(int(r[2]) == len(r[0]) for r in table)
    assert f"discover={corpus}" in result.stdout.splitlines()[0]


def test_note_on_stderr_unless_quiet(run, corpus):
    result = run("discover", corpus)
    assert result.exit_code == 0
    assert result.stderr.startswith("mintext: ") and "words discovered" in result.stderr


def test_output_file_and_segmented_corpus(run, corpus, tmp_path):
    lexicon, segmented = tmp_path / "lex.tsv", tmp_path / "seg.txt"
    result = run("discover", corpus, "-o", lexicon, "--segment", segmented, "-q")
    assert result.exit_code == 0 and result.stdout == ""
    lines = segmented.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(RAW)
    assert [line.replace(" ", "") for line in lines[:-1]] == RAW
    table = rows(lexicon.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for line in lines:
        for word in line.split():
            counts[word] = counts.get(word, 0) + 1
    # freq 0: a word only the model holds (banned, or counted in refinement but unused at the end)
    assert all(counts.get(r[0], 0) == int(r[1]) for r in table)
    assert {w for w in counts if w.isalpha()} <= {r[0] for r in table}  # every Han word of the text is listed
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "lex.tsv", "seg.txt"]


def test_segmented_corpus_to_stdout(run, corpus, tmp_path):
    result = run("discover", corpus, "-o", tmp_path / "lex.tsv", "--segment", "-", "-q")
    assert result.exit_code == 0
    assert [line.replace(" ", "") for line in result.stdout.splitlines()] == RAW


def test_both_outputs_on_stdout_is_a_usage_error(run, corpus):
    result = run("discover", corpus, "--segment", "-")
    assert result.exit_code == 2
    assert "cannot both go to stdout" in result.stderr


def test_jieba_format(run, corpus):
    result = run("discover", corpus, "--format", "jieba", "--min-length", "2", "-q")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines and all(len(line.split(" ")) == 2 and line.split(" ")[1].isdigit() for line in lines)
    assert all(len(line.split(" ")[0]) >= 2 for line in lines)


def test_filters(run, corpus):
    everything = rows(run("discover", corpus, "-q").stdout)
    top = rows(run("discover", corpus, "-q", "--top", "5", "--min-length", "2", "--min-freq", "3").stdout)
    expected = [r for r in everything if len(r[0]) >= 2 and int(r[1]) >= 3][:5]
    assert top == expected


def test_deterministic_bytes(run, corpus):
    first = run("discover", corpus, "-q").stdout
    assert run("discover", corpus, "-q", "--memory", "16M", "-j", "2").stdout == first


def test_reads_stdin_gzip_and_directories(run, corpus, write, tmp_path):
    expected = rows(run("discover", corpus, "-q").stdout)
    assert rows(run("discover", "-", "-q", input=TEXT.encode()).stdout) == expected
    packed = write("packed/corpus.txt.gz", gzip.compress(TEXT.encode()))
    assert rows(run("discover", packed, "-q").stdout) == expected
    assert rows(run("discover", packed.parent, "-q").stdout) == expected


def test_max_word_length_option(run, corpus):
    table = rows(run("discover", corpus, "-q", "-k", "2").stdout)
    assert max(len(r[0]) for r in table) == 2
    result = run("discover", corpus, "-k", "9")
    assert result.exit_code == 2 and "not in the range 1<=x<=6" in result.stderr


# --------------------------------------------------------------------------- bad input


def test_not_utf8(run, write):
    path = write("bad.txt", "天地玄黄\n".encode() + b"\xff\xfe")
    result = run("discover", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: not UTF-8 at byte 13 (line 2) of {path}; try ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_gbk_read_as_utf8_suggests_gb18030_and_works_with_it(run, write):
    path = write("gbk.txt", TEXT, encoding="gb18030")
    result = run("discover", path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: not UTF-8 at byte 0 (line 1) of {path}; try --encoding gb18030\n"
    good = run("discover", path, "--encoding", "gb18030", "-q")
    assert good.exit_code == 0 and len(rows(good.stdout)) > 50


def test_errors_replace_counts_on_stderr(run, write):
    path = write("bad.txt", "天地玄黄\n".encode() + b"\xff\n")
    result = run("discover", path, "--errors", "replace")
    assert result.exit_code == 0
    assert "replaced 1 undecodable byte sequences" in result.stderr


@pytest.mark.parametrize("content", ["", "，。！？“”\n（）……\n", "123 abc\n\n"])
def test_empty_or_han_free_input_gives_an_empty_lexicon(run, write, content):
    path = write("empty.txt", content)
    result = run("discover", path)
    assert result.exit_code == 0
    assert rows(result.stdout) == []
    assert "0 Han characters" in result.stderr


def test_binary_file(run, write):
    path = write("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run("discover", path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path} looks binary (NUL byte at byte 8); mintext reads text (use --encoding utf-16 if it is UTF-16)\n"


def test_nonexistent_path(run, tmp_path):
    result = run("discover", tmp_path / "nope.txt")
    assert result.exit_code == 2
    assert result.stderr == f"Error: no such file: {tmp_path / 'nope.txt'}\n"


def test_directory_without_text_files(run, tmp_path, write):
    write("pics/a.png", b"x")
    result = run("discover", tmp_path / "pics")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: directory {tmp_path / 'pics'} has no text files")


def test_ten_megabyte_line(run, write, tmp_path, monkeypatch):
    from mintext.discovery.segmenter import BATCH_CHARS, Segmenter
    from mintext.io.sources import MAX_LINE_CHARS

    sizes = []
    original = Segmenter.segment_batch

    def recording(self, pieces):
        sizes.append(sum(len(text) for text, _ in pieces))
        return original(self, pieces)

    monkeypatch.setattr(Segmenter, "segment_batch", recording)
    line = ("天地玄黄宇宙洪荒日月盈昃辰宿列张" * 700_000)[: 10_000_000 // 3]
    path = write("long.txt", line + "\n")
    segmented = tmp_path / "seg.txt"
    result = run("discover", path, "-q", "--segment", segmented, "-o", tmp_path / "lex.tsv")
    assert result.exit_code == 0, result.stderr
    out = segmented.read_text(encoding="utf-8")
    assert out.count("\n") == 1 and out.replace(" ", "").rstrip("\n") == line
    # the line (one Han run of 3.3 M characters) is segmented a bounded part at a time, and cut
    # only where the lattice cuts long runs anyway (every MAX_RUN characters), never inside a word
    assert len(sizes) > 1 and max(sizes) <= max(BATCH_CHARS, MAX_LINE_CHARS)


def test_interrupted_run_leaves_no_output(run, corpus, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mintext.discovery.pipeline, "lexicon_table", interrupt)
    result = run("discover", corpus, "-o", tmp_path / "lex.tsv", "--segment", tmp_path / "seg.txt")
    assert result.exit_code == 130 and result.stderr == ""
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt"]


def test_nfkc_maps_compatibility_ideographs_and_full_width_forms(run, write):
    # U+F90A, U+F914, U+F92D are compatibility forms of 金 樂 來; ，！ are full-width , !
    compatible = {"金": "\uf90a", "樂": "\uf914", "來": "\uf92d"}
    text = "".join(("金樂來，天地！玄黄金樂。来宇宙洪荒。" if k % 3 else "天地玄黄，金樂來！") for k in range(300)) + "\n"
    plain = write("plain.txt", text)
    odd = text
    for unified, form in compatible.items():
        odd = odd.replace(unified, form)
    other = write("compat.txt", odd)
    expected = rows(run("discover", plain, "-q").stdout)
    assert rows(run("discover", other, "-q", "--nfkc").stdout) == expected
    assert rows(run("discover", other, "-q").stdout) != expected


def test_longest_word_limited_by_the_alphabet_is_announced(run, write):
    # 1,100 distinct characters take 11 bits each: a 64-bit word code holds at most 5 of them
    alphabet = [chr(0x4E00 + k) for k in range(1100)]
    text = "".join("".join(alphabet[(7 * k + j) % 1100] for j in range(8)) + "，" for k in range(2000)) + "\n"
    result = run("discover", write("wide.txt", text), "-k", "6")
    assert result.exit_code == 0
    assert "warning: words are at most 5 characters long here (1100 distinct characters take 11 bits each)" in result.stderr
    assert max(len(r[0]) for r in rows(result.stdout)) <= 5


# --------------------------------------------------------------------------- issue 9: encodings, names, messages

REPO = Path(__file__).resolve().parents[1]


def mintext_process(*args: str | bytes, cwd: str | os.PathLike = REPO, user: int | None = None) -> subprocess.CompletedProcess:
    """Run the real ``mintext`` (argv as bytes where given), optionally as another user (root only)."""
    command = [sys.executable, "-m", "cli.main", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(command, cwd=cwd, capture_output=True, env=env, timeout=300)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_with_the_suggested_option_or_auto_gives_the_utf8_lexicon(run, corpus, write, codec):
    wide = write("wide.txt", TEXT.encode(codec))
    expected = rows(run("discover", corpus, "-q").stdout)
    for encoding in ("utf-16", "auto"):
        result = run("discover", wide, "-q", "--encoding", encoding)
        assert result.exit_code == 0, result.stderr
        assert rows(result.stdout) == expected


@pytest.mark.parametrize("codec", ["rot13", "base64", "hex"])
def test_bytes_to_bytes_codecs_are_usage_errors(run, corpus, codec):
    result = run("discover", corpus, "--encoding", codec)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"Error: --encoding {codec} is a bytes-to-bytes codec, not a text encoding; "
        "give a text encoding such as utf-8, gb18030, big5, utf-16 or auto\n"
    )


def test_file_name_that_is_not_utf8_is_written_escaped_in_the_header(tmp_path):
    name = b"corpus-\xff\xfe.txt"
    (tmp_path / os.fsdecode(name)).write_text(TEXT, encoding="utf-8")
    done = mintext_process("discover", name, "-q", "-o", b"lex-\xff.tsv", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode(errors="replace")
    header = (tmp_path / os.fsdecode(b"lex-\xff.tsv")).read_text(encoding="utf-8").splitlines()[0]
    assert " discover=corpus-\\xff\\xfe.txt " in header
    to_stdout = mintext_process("discover", name, "-q", cwd=tmp_path)
    assert to_stdout.returncode == 0 and to_stdout.stdout.decode("utf-8").splitlines()[0] == header


def test_errors_with_file_names_stay_one_line(run, write, tmp_path):
    path = write("two\nlines.txt", "天地".encode("gbk") + b"\n")
    result = run("discover", path)
    shown = str(path).replace("\n", "\\n")
    assert result.exit_code == 1
    assert result.stderr == f"Error: not UTF-8 at byte 0 (line 1) of {shown}; try --encoding gb18030\n"
    result = run("discover", tmp_path / "no\nsuch\r.txt")
    assert result.exit_code == 2 and result.stderr == f"Error: no such file: {tmp_path}/no\\nsuch\\r.txt\n"


def test_symlink_loop_is_reported_as_one(run, tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    result = run("discover", tmp_path / "a.txt")
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot read {tmp_path / 'a.txt'}: it is a symlink loop (a chain of symlinks that never reaches a file)\n"


@pytest.fixture
def shared_tmp():
    """A temporary directory other users can enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="mintext-perm-"))
    path.chmod(0o755)
    yield path
    for below in path.rglob("*"):
        below.chmod(0o755) if below.is_dir() else None
    shutil.rmtree(path)


def test_file_under_an_unreadable_directory_is_permission_denied(shared_tmp):
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: root reads every file")
    user = 65534 if os.geteuid() == 0 else None  # root reads everything: run as nobody
    if user is not None and mintext_process("--version", user=user).returncode != 0:
        pytest.skip("nobody cannot run this checkout (it lies in a folder only its owner may enter, e.g. mktemp -d)")
    (shared_tmp / "locked").mkdir()
    (shared_tmp / "locked" / "c.txt").write_text(TEXT, encoding="utf-8")
    (shared_tmp / "open").mkdir()
    (shared_tmp / "open" / "a.txt").write_text(TEXT, encoding="utf-8")
    (shared_tmp / "open" / "sub").mkdir()
    (shared_tmp / "open" / "sub" / "b.txt").write_text(TEXT, encoding="utf-8")
    (shared_tmp / "locked").chmod(0)
    (shared_tmp / "open" / "sub").chmod(0)
    done = mintext_process("discover", "locked/c.txt", "-q", cwd=shared_tmp, user=user)
    assert done.returncode == 1, done.stderr
    assert done.stderr.decode() == (
        "Error: cannot read locked/c.txt: permission denied "
        "(on the file or on a directory above it; check them with ls -ld)\n"
    )
    done = mintext_process("discover", "open", "-q", cwd=shared_tmp, user=user)  # a directory it walks
    assert done.returncode == 1 and done.stderr.decode() == "Error: cannot list the directory open/sub: permission denied\n"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--gap-weight", "nan", "nan is not a finite number in the range x>=0"),
        ("--gap-weight", "inf", "inf is not a finite number in the range x>=0"),
        ("--gap-weight", "-1", "-1.0 is not in the range x>=0"),
        ("--autonomy", "nan", "nan is not a finite number in the range 0<=x<=1"),
        ("--free-share", "inf", "inf is not in the range 0<=x<=1"),
    ],
)
def test_non_finite_float_options_are_refused_with_their_range(run, corpus, option, value, message):
    result = run("discover", corpus, option, value)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Error: Invalid value for '{option}': {message}; see 'mintext discover --help'\n"


def test_errors_ignore_says_dropped(run, write):
    path = write("bad.txt", "天地玄黄\n".encode() + b"\xff\n" + "宇宙\n".encode())
    result = run("discover", path, "--errors", "ignore", "-q")
    assert result.exit_code == 0
    assert result.stderr == "mintext: warning: dropped 1 undecodable byte sequences\n"
    result = run("discover", path, "--errors", "replace", "-q")
    assert result.stderr == "mintext: warning: replaced 1 undecodable byte sequences\n"


def test_header_records_encoding_and_errors(run, write):
    path = write("gbk.txt", TEXT, encoding="gb18030")
    header = run("discover", path, "-q", "--encoding", "gb18030", "--errors", "replace").stdout.splitlines()[0]
    assert " encoding=gb18030 errors=replace " in header


def test_header_of_an_empty_corpus_has_a_count_threshold(run, write):
    header = run("discover", write("empty.txt", ""), "-q").stdout.splitlines()[0]
    fields = dict(item.split("=", 1) for item in header[2:].split(" "))
    assert fields["min_count"] == "2" and fields["rounds"] == "0" and fields["characters"] == "0"
    assert "None" not in header
    header = run("discover", write("empty.txt", ""), "-q", "--min-count", "7").stdout.splitlines()[0]
    assert " min_count=7 " in header
