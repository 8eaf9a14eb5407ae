"""Special files for output tests: a tiny tmpfs (disk full), a read-only directory, private device nodes.

Mounting and mknod need root; where they fail the test is skipped with the
reason, never passed. Tests never write the real ``/dev/full``, ``/dev/null``
or ``/dev/stdout``: run as root, a regression that renames over its output
would replace the machine's own node (it happened once while checking that
these tests fail on the old code). They get private nodes in ``tmp_path``
instead, the same devices under other names.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """Mount a tmpfs with ``options`` (e.g. ``size=64k`` or ``ro,size=64k``) at ``where``; unmount after."""
    where.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command on this machine")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@contextlib.contextmanager
def read_only_dir(where: Path) -> Iterator[Path]:
    """A directory that takes no new files: chmod 0555 for a normal user, a read-only tmpfs for root."""
    if os.geteuid() != 0:
        where.mkdir(parents=True, exist_ok=True)
        where.chmod(0o555)
        try:
            yield where
        finally:
            where.chmod(0o755)
        return
    with tmpfs(where, "ro,size=64k") as mounted:  # root writes through permission bits, not through ro
        yield mounted


DEVICES = {"null": (1, 3), "full": (1, 7)}  # Linux's memory devices: major 1, minors of /dev/null and /dev/full


def private_device(where: Path, which: str) -> Path:
    """A character device node ``where`` with the numbers of ``/dev/<which>`` (``null`` or ``full``)."""
    major, minor = DEVICES[which]
    try:
        os.mknod(where, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        fd = os.open(where, os.O_WRONLY)  # a nodev mount refuses to open it
    except (OSError, AttributeError) as err:
        pytest.skip(f"cannot make a private /dev/{which} node here ({err})")
    os.close(fd)
    return where


def stdout_link(where: Path) -> Path:
    """A symlink to this process's standard output, as ``/dev/stdout`` is (``/proc/self/fd/1``)."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc/self/fd on this system")
    where.symlink_to("/proc/self/fd/1")
    return where
