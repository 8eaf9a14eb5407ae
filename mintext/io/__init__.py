"""Input and output shared by every pipeline.

- :mod:`~mintext.io.sources`: inputs (files, globs, directories, ``-``,
  compressed files), encodings and decoding errors, lines and blocks;
  :class:`Corpus` is a restartable iterable over them.
- :mod:`~mintext.io.atomic`: :func:`atomic_output`, outputs written whole or not at all;
  :func:`check_outputs`, outputs refused before the work (an input, a missing or read-only directory).
- :mod:`~mintext.io.progress`: :func:`progress_bar`, tqdm on stderr when it is a terminal.
- :mod:`~mintext.io.chars`: character classes (Han, Latin, digits, punctuation) and pre-tokenisation.

Nothing here imports a pipeline.
"""

from __future__ import annotations

from mintext.io.atomic import atomic_output, check_outputs
from mintext.io.chars import char_classes, codepoints, han_stream, pretokenize
from mintext.io.progress import progress_bar
from mintext.io.sources import Corpus, DecodeStats, iter_blocks, iter_lines, read_lines, resolve_inputs

__all__ = [
    "Corpus", "DecodeStats", "atomic_output", "char_classes", "check_outputs", "codepoints", "han_stream",
    "iter_blocks", "iter_lines", "pretokenize", "progress_bar", "read_lines", "resolve_inputs",
]
