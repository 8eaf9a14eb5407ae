"""Perturbed-masking segmentation and parsing with a pretrained BERT (algorithms.md, section 3).

>>> from mintext import parse
>>> encoder = parse.load_encoder("chinese_L-12_H-768_A-12")          # doctest: +SKIP
>>> F = parse.impact_matrix(encoder, ["计算机", "的", "鼠标", "有", "什么", "用途"])  # doctest: +SKIP
>>> heads = parse.eisner(*parse.dependency_scores(F))                   # doctest: +SKIP
>>> [s.words for s in parse.segment(encoder, ["计算机的鼠标有什么用途"])]  # doctest: +SKIP

Importing this package does not import TensorFlow or bert4keras: only
:func:`load_encoder` (and :func:`write_checkpoint`) do. The decoders, the
threshold, CoNLL-U and scoring need NumPy only.
"""

from __future__ import annotations

from mintext.parse.checkpoint import random_variables, vocabulary, write_checkpoint, write_random_model
from mintext.parse.conllu import ConlluSentence, format_conllu, read_conllu, validate_heads
from mintext.parse.decoders import (
    chu_liu_edmonds,
    dependency_scores,
    eisner,
    is_projective,
    is_tree,
    split_score,
    top_down_tree,
    tree_score,
)
from mintext.parse.impact import Impacts, adjacent_impacts, impact_matrices, impact_matrix
from mintext.parse.model import MODEL_TYPES, Encoder, load_encoder
from mintext.parse.pipeline import ParsedSentence, Segmentation, constituency_trees, dependency_trees, segment
from mintext.parse.scoring import AttachmentScores, left_chain, right_chain, score_dependencies
from mintext.parse.threshold import otsu_threshold
from mintext.parse.tokens import atom_spans, atoms
from mintext.parse.trees import bracketed, draw_constituency, draw_dependency

__all__ = [
    "MODEL_TYPES",
    "AttachmentScores",
    "ConlluSentence",
    "Encoder",
    "Impacts",
    "ParsedSentence",
    "Segmentation",
    "adjacent_impacts",
    "atom_spans",
    "atoms",
    "bracketed",
    "chu_liu_edmonds",
    "constituency_trees",
    "dependency_scores",
    "dependency_trees",
    "draw_constituency",
    "draw_dependency",
    "eisner",
    "format_conllu",
    "impact_matrices",
    "impact_matrix",
    "is_projective",
    "is_tree",
    "left_chain",
    "load_encoder",
    "otsu_threshold",
    "random_variables",
    "read_conllu",
    "right_chain",
    "score_dependencies",
    "segment",
    "split_score",
    "top_down_tree",
    "tree_score",
    "validate_heads",
    "vocabulary",
    "write_checkpoint",
    "write_random_model",
]
