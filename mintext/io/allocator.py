"""The C allocator tuned for a process that allocates and frees large arrays over and over.

NumPy takes every array from ``malloc``. glibc serves a large request with a
fresh ``mmap`` (from 128 KiB up, a threshold it raises as such blocks are
freed) and gives it back to the system when it is freed; it also returns the
free top of its heap once that passes a trim threshold. Work that makes and
drops arrays of a few MiB in a loop (the candidates of the apriori miners, the
chunks of discovery's passes) then pays a page fault for every 4 KiB page of
every such array, each time: about a quarter of a small apriori run.

:func:`keep_freed_memory` sets both thresholds once (:data:`MMAP_THRESHOLD`,
:data:`TRIM_THRESHOLD`): requests below 32 MiB come from the heap, and up to
128 MiB of freed memory stays there for the next ones. The price is a process
that can hold up to that much freed memory more than it uses. The ``mintext``
command calls it at start; a script or notebook can call it too. It does
nothing on a C library other than glibc, or when the process was started with
its own settings (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or
``GLIBC_TUNABLES``).
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 << 20  # bytes: requests below this come from the heap (glibc's largest allowed value)
TRIM_THRESHOLD = 128 << 20  # bytes of free heap top kept before any is returned to the system
ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}

_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3

_applied = False


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring) for this process, once.

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
    _applied = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied


def _chosen_by_environment() -> bool:
    return any(name in os.environ for name in ENVIRONMENT) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")
