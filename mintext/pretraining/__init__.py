"""pretrain: a Chinese character BERT trained from raw text (masked language modelling), in Google's format.

:func:`mintext.pretraining.pipeline.pretrain` reads a corpus the way every mintext
command does (streamed), builds a character vocabulary from it
(:mod:`.vocab`), packs it into token sequences and masks them dynamically
(:mod:`.data`), trains a bert4keras BERT whose masked-language-model head is
computed only at the masked positions (:mod:`.model`), and writes checkpoints
atomically as folders that ``mintext parse --bert`` and bert4keras load
unchanged (:mod:`.folder`). This package may import :mod:`mintext.parse` (its
checkpoint writer and tokenisation); parse never imports it.
"""

from __future__ import annotations
