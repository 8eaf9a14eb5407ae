"""Minimal-entropy word discovery: raw text in, a lexicon and a segmentation out (``mintext discover``,
``segment``, ``score``).

Read :mod:`~mintext.discovery.pipeline` first: it runs the stages in order.

- :mod:`~mintext.discovery.options`: :class:`DiscoveryOptions`, defaults and valid ranges.
- :mod:`~mintext.discovery.ngramstats`: counts, branching entropies and solidity over an n-gram table.
- :mod:`~mintext.discovery.gaps`: boundary evidence for every gap between two characters.
- :mod:`~mintext.discovery.threshold`: the initial lexicon (solidity thresholds, backtracking).
- :mod:`~mintext.discovery.wordmodel`: the word model and its code length.
- :mod:`~mintext.discovery.lattice` and :mod:`~mintext.discovery.segmenter`: best segmentation.
- :mod:`~mintext.discovery.passes` and :mod:`~mintext.discovery.refinement`: passes over the
  corpus in a process pool, refinement by code length.
- :mod:`~mintext.discovery.lexicon`: the lexicon file, written and read back.
- :mod:`~mintext.discovery.scoring`: word precision, recall and F1 against a gold segmentation.

Uses :mod:`mintext.ngrams` and :mod:`mintext.io`.
"""

from __future__ import annotations

from mintext.discovery.lexicon import read_lexicon, segmenter_for, write_lexicon
from mintext.discovery.options import DiscoveryOptions
from mintext.discovery.pipeline import discover
from mintext.discovery.scoring import score_segmentation
from mintext.discovery.segmenter import Segmenter

__all__ = ["DiscoveryOptions", "Segmenter", "discover", "read_lexicon", "score_segmentation",
           "segmenter_for", "write_lexicon"]
