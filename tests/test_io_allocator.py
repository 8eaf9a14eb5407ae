"""mintext.io.allocator: glibc's thresholds set once, observed through mallinfo2 in fresh interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mintext.io import allocator

# in a fresh interpreter: whether a 16 MiB array is its own mmap block (glibc counts those in hblks), after
# keep_freed_memory() when asked; prints {"applied": bool, "mapped": bool}
PROBE = """
import ctypes, json, sys
import numpy as np
from mintext.io.allocator import keep_freed_memory

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
applied = keep_freed_memory() if sys.argv[1] == "apply" else False
before = libc.mallinfo2().hblks
block = np.ones(2 << 20)  # 16 MiB
mapped = libc.mallinfo2().hblks > before
print(json.dumps({"applied": applied, "mapped": mapped, "again": keep_freed_memory() if applied else None}))
"""


def probe(mode: str, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in allocator.ENVIRONMENT and k != "GLIBC_TUNABLES"}
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                          env={**clean, **env})
    return json.loads(done.stdout)


def glibc_with_mallinfo2() -> bool:
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (ValueError, OSError, AttributeError):
        return False
    if not version or not version.startswith("glibc"):
        return False
    major, minor = (int(part) for part in version.split()[1].split(".")[:2])
    return (major, minor) >= (2, 33)


needs_glibc = pytest.mark.skipif(not glibc_with_mallinfo2(), reason="glibc 2.33 or later (mallinfo2) only")


@needs_glibc
def test_without_it_a_large_array_is_mapped_on_its_own():
    assert probe("plain") == {"applied": False, "mapped": True, "again": None}


@needs_glibc
def test_with_it_a_large_array_comes_from_the_heap_and_a_second_call_changes_nothing():
    assert probe("apply") == {"applied": True, "mapped": False, "again": True}


@needs_glibc
@pytest.mark.parametrize("env", [{"MALLOC_MMAP_THRESHOLD_": "131072"}, {"MALLOC_TRIM_THRESHOLD_": "0"}, {"MALLOC_TOP_PAD_": "0"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072"}])
def test_settings_of_the_environment_are_left_alone(env):
    assert probe("apply", **env) == {"applied": False, "mapped": True, "again": None}


def test_the_command_sets_it_before_any_subcommand_runs():
    """In a fresh interpreter: main() changes the process's signal handling, which must not leak into pytest."""
    script = ("import sys, cli.main\ncalls = []\ncli.main.keep_freed_memory = lambda: calls.append(1)\n"
              "try:\n    cli.main.main(['--version'])\nfinally:\n    sys.stderr.write(f'calls={len(calls)}')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.startswith("mintext"), done.stderr) == (0, True, "calls=1")
