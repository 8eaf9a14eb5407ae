"""Keep the memory NumPy frees for its next arrays, instead of giving it back to the system at once.

The passes of word discovery make and drop arrays of tens of megabytes per
chunk, many times over. glibc's ``malloc`` serves such blocks with ``mmap``
(above a threshold that starts at 128 KiB and adapts only up to 32 MiB) and
unmaps them when freed, or trims the top of the heap, so every new array
page-faults its memory in again, page by page: on the 25 M-character bench
corpus that was more than 2 s of system time. :func:`keep_freed_memory` asks
``malloc`` to serve blocks up to 32 MiB (the most it allows) from the heap, to
keep what is freed there and to grow the heap in large steps; the peak of memory in use does not change (freed
memory is reused, not added to).
"""

from __future__ import annotations

import ctypes
import sys

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20  # the largest glibc accepts on 64-bit systems
TRIM_THRESHOLD = 2**31 - 1  # the most an int holds: keep any free memory at the top of the heap
TOP_PAD = 256 << 20  # grow the heap by this much more each time (address space only, until touched)


def keep_freed_memory() -> bool:
    """On Linux with glibc, set ``malloc``'s mmap and trim thresholds and top pad as described above (for this
    process and the ones it forks); returns whether they were set (False elsewhere: nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mmap_ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    trim_ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    pad_ok = mallopt(M_TOP_PAD, TOP_PAD) == 1
    return mmap_ok and trim_ok and pad_ok
