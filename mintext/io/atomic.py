"""Atomic output: write to a temporary file beside the target, rename on success.

An interrupted or failed run never leaves a half-written result: the target is
either untouched or complete. ``-`` (or ``None``) means standard output.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

STDOUT = "-"


@contextmanager
def atomic_output(path: str | os.PathLike | None) -> Iterator[IO[str]]:
    """Yield a UTF-8 text stream (``\\n`` line ends) for ``path``.

    For a file, data goes to ``.<name>.<random>.tmp`` in the same directory,
    which replaces ``path`` only when the block finishes without an exception.
    For ``-``/``None``, data goes to standard output (always UTF-8).
    """
    if path is None or os.fspath(path) == STDOUT:
        yield from _stdout()
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
            yield text
            text.flush()
            text.detach()
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _stdout() -> Iterator[IO[str]]:
    sys.stdout.flush()
    buffer = sys.stdout.buffer
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n", write_through=False)
    try:
        yield text
        text.flush()
    finally:
        text.detach()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
