"""The C allocator tuned for a process that allocates and frees large arrays over and over.

NumPy takes every array from ``malloc``. glibc serves a large request with a
fresh ``mmap`` (from 128 KiB up, a threshold it raises as such blocks are
freed) and gives it back to the system when it is freed; it also returns the
free top of its heap once that passes a trim threshold. Work that makes and
drops arrays of a few MiB in a loop (the candidates of the apriori miners, the
chunks of discovery's passes) then pays a page fault for every 4 KiB page of
every such array, each time: about a quarter of a small apriori run.

:func:`keep_freed_memory` sets both thresholds and the heap's growth step once
(:data:`MMAP_THRESHOLD`, :data:`TRIM_THRESHOLD`, :data:`TOP_PAD`): requests
below 32 MiB come from the heap, freed memory stays there for the next ones,
and the heap grows in steps of 256 MiB of address space (pages are only
resident once touched). Freed memory is reused, not added to, so the peak
moves little (fragmentation can add some: apriori on groceries at ``--memory
2G`` peaked at 1.89 GiB instead of 1.83); the process keeps its peak resident
until it ends, instead of shrinking after it. The ``mintext`` command calls it
at start (worker processes it forks inherit the settings); a script or notebook can call it too. It does
nothing on a C library other than glibc, or when the process was started with
its own settings (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_TOP_PAD_`` or ``GLIBC_TUNABLES``).
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 << 20  # bytes: requests below this come from the heap (glibc's largest allowed value)
TRIM_THRESHOLD = 2**31 - 1  # bytes of free heap top kept before any is returned: the most an int holds, all
TOP_PAD = 256 << 20  # bytes more the heap grows by each time it grows (address space until touched)
ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
               "MALLOC_TOP_PAD_": str(TOP_PAD)}

_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

_applied = False


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds and top pad (see the module docstring) for this process, once.

    Returns whether the thresholds are in force: set by this call or an
    earlier one; False where the C library is not glibc or the process's
    environment already chose its own settings (those stay).
    """
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux") or _chosen_by_environment():
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl and others have no such function)
    except (OSError, AttributeError):
        return False
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD))
    _applied = all([libc.mallopt(parameter, value) == 1 for parameter, value in settings])
    return _applied


def _chosen_by_environment() -> bool:
    return any(name in os.environ for name in ENVIRONMENT) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")
