"""Shared fixtures: a CliRunner helper and the location of ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]


def find_shared() -> Path | None:
    """The shared data folder: $MINTEXT_SHARED, ../shared beside the repo, or /work/shared."""
    candidates = [os.environ.get("MINTEXT_SHARED"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "eval").is_dir():
            return Path(candidate)
    return None


SHARED = find_shared()
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared data not found (set MINTEXT_SHARED)")


@pytest.fixture
def run():
    """Invoke ``mintext ARGS...`` in-process; returns click's Result (stdout/stderr split)."""
    from cli.main import cli

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def write(tmp_path):
    """Write a file under tmp_path: ``write("name.txt", "text" or b"bytes") -> Path``."""

    def make(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        return path

    return make
