"""mintext: unsupervised Chinese NLP on real corpora.

Importing :mod:`mintext` is cheap: the pipelines are loaded on first use, and
TensorFlow is only imported by :mod:`mintext.parse` when a model is built.

>>> import mintext
>>> lexicon = mintext.discover(["corpus.txt"])          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute", resolved lazily (PEP 562)
_LAZY = {
    "discover": "mintext.discovery.pipeline:discover",
    "read_lexicon": "mintext.discovery.lexicon:read_lexicon",
    "segmenter_for": "mintext.discovery.lexicon:segmenter_for",
    "Corpus": "mintext.io.sources:Corpus",
    "score_segmentation": "mintext.discovery.scoring:score_segmentation",
    "apriori": "mintext.association.pipeline:apriori",
    "MintextError": "mintext.errors:MintextError",
    "parse": "mintext.parse",  # a subpackage; TensorFlow is imported only when a model is built
    "pretrain": "mintext.pretraining.pipeline:pretrain",  # TensorFlow only once training starts
    "PretrainOptions": "mintext.pretraining.pipeline:PretrainOptions",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'mintext' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
