"""Tiny random models in Google's checkpoint format, written once per test session.

Test modules import the fixtures they use (``from bert_fixtures import tiny_bert``).
Every model is written by mintext's own checkpoint writer
(:func:`mintext.parse.checkpoint.write_random_model`) with weights drawn from
NumPy, so no two layers share weights; the vocabulary is shaped like Google's
Chinese one (all of U+4E00..U+9FA5, lower case). The BERT has 2 layers,
hidden size 32 and 64 positions, so sentences longer than 62 characters go
through sliding windows; the ALBERT is 2 layers, hidden 32, embeddings 16.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mintext.parse.tfenv import import_bert4keras

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
        "max_position_embeddings": 64}


def _write(root: Path, name: str, model: str, seed: int, **config) -> Path:
    from mintext.parse.checkpoint import chinese_vocabulary, write_random_model

    directory = root / name
    write_random_model(directory, chinese_vocabulary(), model=model, seed=seed, **{**TINY, **config})
    return directory


@pytest.fixture(scope="session")
def bert_runtime() -> None:
    """TensorFlow and bert4keras, imported with mintext's settings; the test is skipped without them."""
    try:  # sets TF_KERAS / TF_USE_LEGACY_KERAS before TensorFlow is first imported
        import_bert4keras()
    except ImportError as err:  # the optional `bert` extra is not installed
        pytest.skip(f"needs TensorFlow and bert4keras (the bert extra): {err}")


@pytest.fixture(scope="session")
def models_root(tmp_path_factory, bert_runtime) -> Path:
    return tmp_path_factory.mktemp("bert-models")


@pytest.fixture(scope="session")
def tiny_bert(models_root) -> Path:
    """Folder of a random 2-layer, hidden-32 BERT: bert_config.json, bert_model.ckpt.*, vocab.txt."""
    return _write(models_root, "tiny-bert", "bert", seed=1)


@pytest.fixture(scope="session")
def tiny_albert(models_root) -> Path:
    """Folder of a random ALBERT (shared layers, embeddings 16): albert_config.json, albert_model.ckpt.*."""
    return _write(models_root, "tiny-albert", "albert", seed=2, embedding_size=16)


@pytest.fixture(scope="session")
def tiny_nezha(models_root) -> Path:
    """Folder of a random NEZHA (BERT names, no position embeddings)."""
    return _write(models_root, "tiny-nezha", "nezha", seed=3)


@pytest.fixture(scope="session")
def bert_encoder(tiny_bert):
    """``tiny_bert`` loaded (last layer), shared by the tests of one session."""
    from mintext.parse.model import load_encoder

    return load_encoder(tiny_bert, "bert")


@pytest.fixture(scope="session")
def albert_encoder(tiny_albert):
    from mintext.parse.model import load_encoder

    return load_encoder(tiny_albert, "albert")


@pytest.fixture
def model_copy(tmp_path):
    """Copy a model folder under tmp_path (to damage it): ``model_copy(src) -> Path``."""

    def copy(source: Path) -> Path:
        target = tmp_path / f"copy-of-{source.name}"
        shutil.copytree(source, target)
        return target

    return copy
