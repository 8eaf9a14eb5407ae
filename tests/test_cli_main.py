"""The `mintext` group: version, help, lazy loading (no TensorFlow on --help)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mintext import __version__


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"mintext, version {__version__}\n"


def test_help_lists_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for name in ("discover", "segment", "score"):
        assert f"  {name}" in result.stdout


def test_unknown_command_is_usage_error(run):
    result = run("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.stderr


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from cli.main import cli\n"
        f"try:\n    cli.main({args!r}, prog_name='mintext')\n"
        "except SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stderr.split())


def test_help_does_not_import_tensorflow():
    for args in (["--help"], ["discover", "--help"], ["segment", "--help"], ["apriori", "--help"], ["parse", "--help"]):
        loaded = _modules_after(args)
        assert "tensorflow" not in loaded, args
        assert "bert4keras" not in loaded, args


def test_top_help_is_light():
    loaded = _modules_after(["--help"])
    assert "pandas" not in loaded
    assert "numpy" not in loaded


def test_discover_and_segment_run_without_pandas(tmp_path):
    """The commands write and read lexicons as NumPy columns: pandas (~0.4 s to import) stays out of the run."""
    corpus, lexicon, gaps = tmp_path / "corpus.txt", str(tmp_path / "lex.tsv"), str(tmp_path / "gaps.tsv")
    corpus.write_text("中国人民的研究生命中国人民\n" * 50, encoding="utf-8")
    loaded = _modules_after(["discover", str(corpus), "-q", "-o", lexicon, "--segment", str(tmp_path / "seg.txt"),
                             "--gaps", gaps])
    assert "pandas" not in loaded and "numpy" in loaded
    assert (tmp_path / "lex.tsv").read_text(encoding="utf-8").count("\n") > 3
    loaded = _modules_after(["segment", "-q", "-l", lexicon, "--gaps", gaps, str(corpus), "-o", str(tmp_path / "again.txt")])
    assert "pandas" not in loaded
    assert (tmp_path / "again.txt").read_bytes() == (tmp_path / "seg.txt").read_bytes()


def test_every_public_name_of_the_package_resolves():
    import mintext

    for name in mintext.__all__:
        assert getattr(mintext, name) is not None, name


# --------------------------------------------------------------------------- one-line usage errors (issue 9)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["discover"], "Missing argument 'INPUT...'; see 'mintext discover --help'"),
        (["discover", "x.txt", "-k", "9"],
         "Invalid value for '-k' / '--max-word-length': 9 is not in the range 1<=x<=6; see 'mintext discover --help'"),
        (["discover", "x.txt", "--errors", "skip"],
         "Invalid value for '--errors': 'skip' is not one of 'strict', 'replace', 'ignore'; see 'mintext discover --help'"),
        (["discover", "x.txt", "--memory", "1k"],
         "Invalid value for '--memory': '1k' is too small; the minimum is 16M; see 'mintext discover --help'"),
        (["segment"], "Missing option '-l' / '--lexicon'; see 'mintext segment --help'"),
        (["score", "gold.txt"], "Missing argument 'PRED'; see 'mintext score --help'"),
        (["frobnicate"], "No such command 'frobnicate'; see 'mintext --help'"),
        (["--bogus"], "No such option '--bogus'; see 'mintext --help'"),
    ],
)
def test_usage_errors_are_one_line_naming_the_option(run, args, line):
    result = run(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Error: {line}\n"


def test_help_still_works_and_mintext_alone_shows_it(run):
    for args in (["--help"], ["discover", "--help"], ["segment", "-h"]):
        result = run(*args)
        assert result.exit_code == 0 and result.stdout.startswith("Usage: mintext"), args
    alone = run()
    assert alone.exit_code == 2 and alone.stderr.startswith("Usage: mintext [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in alone.stderr


def test_usage_errors_of_the_real_command_are_one_line():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-m", "cli.main", "discover", "-k", "0", "x.txt"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=repo)
    assert done.returncode == 2
    assert done.stderr == "Error: Invalid value for '-k' / '--max-word-length': 0 is not in the range 1<=x<=6; see 'mintext discover --help'\n"


def test_one_line_escapes_line_breaks_controls_and_undecodable_bytes():
    from cli.main import OneLineError
    from mintext.errors import one_line, shown_name

    assert one_line("a\nb\r\tc\x1b[0m\u2028d") == "a\\nb\\r\\tc\\x1b[0m\\u2028d"
    assert one_line("天地 \\ 玄黄") == "天地 \\ 玄黄"
    assert shown_name(b"dir/bad\xffname.txt") == "dir/bad\\xffname.txt"
    assert shown_name(os.fsdecode(b"\xe5\xa4\xa9\xff")) == "天\\xff"
    assert OneLineError("cannot read x\ny", 1).format_message() == "cannot read x\\ny"


def test_notes_and_warnings_stay_one_line():
    import click
    from click.testing import CliRunner

    from cli.main import _configure_logging
    from cli.options import note, warn

    @click.command()
    def speak() -> None:
        note("loaded from /models/two\nlines")
        warn("odd name /tmp/\x1b[31mred")

    _configure_logging()  # what the mintext group does before any subcommand
    result = CliRunner().invoke(speak, [])
    assert result.exit_code == 0
    assert result.stderr == "mintext: loaded from /models/two\\nlines\nmintext: warning: odd name /tmp/\\x1b[31mred\n"
