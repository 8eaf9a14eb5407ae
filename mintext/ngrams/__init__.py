"""The n-gram counting engine: characters to ids, ids to sorted code/count tables, within a memory cap.

- :mod:`~mintext.ngrams.hanstream`: :class:`HanStream`, a corpus's Han runs decoded once and
  kept on disk; :func:`count_corpus`, a corpus counted through it.
- :mod:`~mintext.ngrams.vocabulary`: :class:`CharVocabulary` (characters to ids by frequency)
  and the packing of n-grams into integer codes.
- :mod:`~mintext.ngrams.counting`: :func:`count_ngrams` (map in a process pool, merge of
  sorted runs) and :class:`NgramTable`, the result.
- :mod:`~mintext.ngrams.spill`: tables spilled to disk and merged back when memory runs short.
- :mod:`~mintext.ngrams.lookup`: :class:`CodeIndex`, codes to rows.

Uses :mod:`mintext.io` only.
"""

from __future__ import annotations

from mintext.ngrams.counting import NgramTable, count_ngrams
from mintext.ngrams.hanstream import HanStream, count_corpus
from mintext.ngrams.lookup import CodeIndex
from mintext.ngrams.vocabulary import CharVocabulary

__all__ = ["CharVocabulary", "CodeIndex", "HanStream", "NgramTable", "count_corpus", "count_ngrams"]
