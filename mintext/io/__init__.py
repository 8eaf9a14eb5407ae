"""Input and output shared by every pipeline.

- :mod:`~mintext.io.sources`: inputs (files, globs, directories, ``-``,
  compressed files), encodings and decoding errors, lines and blocks;
  :class:`Corpus` is a restartable iterable over them.
- :mod:`~mintext.io.pieces`: :func:`corpus_pieces`, a corpus cut into byte ranges (or whole inputs)
  that other processes decode by themselves, each as the whole decodes there (:func:`piece_blocks`).
- :mod:`~mintext.io.atomic`: :func:`atomic_output`, outputs written whole or not at all;
  :func:`check_outputs`, outputs refused before the work (an input, a missing or read-only directory).
- :mod:`~mintext.io.progress`: :func:`progress_bar`, tqdm on stderr when it is a terminal.
- :mod:`~mintext.io.chars`: character classes (Han, Latin, digits, punctuation) and pre-tokenisation.
- :mod:`~mintext.io.stopping`: signals, exit statuses, closed standard streams, temporary
  directories removed on every way out.
- :mod:`~mintext.io.workers`: :class:`WorkerPool`, worker processes that never hang a run.
- :mod:`~mintext.io.allocator`: :func:`keep_freed_memory`, glibc's ``malloc`` told to keep freed memory
  for the next arrays (the ``mintext`` command calls it at start).

Nothing here imports a pipeline.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module, imported on first use (PEP 562): the command line imports
# mintext.io.stopping at start, which must not cost numpy
_LAZY = {
    "atomic_output": "mintext.io.atomic",
    "check_outputs": "mintext.io.atomic",
    "char_classes": "mintext.io.chars",
    "codepoints": "mintext.io.chars",
    "han_stream": "mintext.io.chars",
    "pretokenize": "mintext.io.chars",
    "progress_bar": "mintext.io.progress",
    "Corpus": "mintext.io.sources",
    "DecodeStats": "mintext.io.sources",
    "iter_blocks": "mintext.io.sources",
    "iter_lines": "mintext.io.sources",
    "read_lines": "mintext.io.sources",
    "resolve_inputs": "mintext.io.sources",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mintext.io' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
