"""mintext.io.allocator: freed NumPy memory is reused instead of page-faulted in again (Linux, glibc)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# ten 3.2 MB arrays made and freed twenty times: glibc's defaults trim the freed top of the heap each
# time, so every round faults its 32 MB in again (about 7800 faults); kept, they are reused
ROUNDS = """
import sys, resource, numpy as np
from mintext.io.allocator import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):
    arrays = [np.ones(400_000) for _ in range(10)]
    del arrays
before = faults()
for _ in range(20):
    arrays = [np.ones(400_000) for _ in range(10)]
    del arrays
print(faults() - before)
"""


def page_faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_freed_arrays_are_reused_without_page_faults():
    default, kept = page_faults("default"), page_faults("kept")
    assert default > 20 * 32e6 / 4096 / 2  # the rounds fault their memory in again by default
    assert kept < default / 20

