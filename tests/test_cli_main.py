"""The `mintext` group: version, help, lazy loading (no TensorFlow on --help)."""

from __future__ import annotations

import subprocess
import sys

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


def test_every_public_name_of_the_package_resolves():
    import mintext

    for name in mintext.__all__:
        assert getattr(mintext, name) is not None, name
