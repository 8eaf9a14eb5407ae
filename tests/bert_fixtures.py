"""Tiny random models in Google's checkpoint format, written once per test session.

Test modules import the fixtures they use (``from bert_fixtures import tiny_bert``).
Every model is written by mintext's own checkpoint writer
(:func:`mintext.parse.checkpoint.write_random_model`) with weights drawn from
NumPy, so no two layers share weights; the vocabulary is shaped like Google's
Chinese one (all of U+4E00..U+9FA5, lower case). The BERT has 2 layers,
hidden size 32 and 64 positions, so sentences longer than 62 characters go
through sliding windows; the ALBERT is 2 layers, hidden 32, embeddings 16.

The same weights are also written as Hugging Face folders (``config.json``,
``model.safetensors`` or shards, ``vocab.txt``) by :func:`write_hf_folder`, with
the tensor names spelt as transformers spells them (:func:`hf_name`).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from mintext.parse.tfenv import import_bert4keras, import_tensorflow

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


# --------------------------------------------------------------------------- Hugging Face folders


def hf_name(google: str, model: str) -> tuple[str, bool]:
    """Hugging Face's name for a Google checkpoint variable, and whether the value is transposed.

    Spelt out here as transformers' TF-to-PyTorch converters (``load_tf_weights_in_bert``
    and ``..._albert``) spell it, independently of mintext's own table: ``/`` becomes
    ``.``, ``layer_N`` ``layer.N``, ``kernel`` a transposed ``weight`` (PyTorch's
    Linear is ``[out, in]``), ``gamma``/``beta`` ``weight``/``bias``, an embedding
    table ``NAME.weight``; ALBERT's ``group_0/inner_group_0`` becomes
    ``albert_layer_groups.0.albert_layers.0`` with its own part names.
    """
    base = "albert" if model == "albert" else "bert"
    name = google
    heads = [("cls/predictions/output_bias", "cls/predictions/bias"),
             ("cls/seq_relationship/output_weights", "cls/seq_relationship/weight"),
             ("cls/seq_relationship/output_bias", "cls/seq_relationship/bias")]
    if model == "albert":
        group = "bert/encoder/transformer/group_0/inner_group_0/"
        parts = [("attention_1/self/", "attention/"), ("attention_1/output/dense", "attention/dense"),
                 ("ffn_1/intermediate/output/dense", "ffn_output"), ("ffn_1/intermediate/dense", "ffn"),
                 ("LayerNorm_1", "full_layer_layer_norm"), ("LayerNorm/", "attention/LayerNorm/")]
        if name.startswith(group):
            rest = name[len(group):]
            for old, new in parts:
                if rest.startswith(old):
                    rest = new + rest[len(old):]
                    break
            name = "albert/encoder/albert_layer_groups/0/albert_layers/0/" + rest
        heads = [("cls/predictions/output_bias", "predictions/bias"), ("cls/predictions/transform/", "predictions/"),
                 ("cls/seq_relationship/output_weights", "sop_classifier/classifier/weight"),
                 ("cls/seq_relationship/output_bias", "sop_classifier/classifier/bias"),
                 ("bert/pooler/dense", "albert/pooler")]
    for old, new in heads:
        if name.startswith(old):
            name = new + name[len(old):]
    if name.startswith("bert/"):
        name = f"{base}/" + name[len("bert/"):]
    name = re.sub(r"/layer_(\d+)/", r"/layer/\1/", name)
    transpose = name.endswith("/kernel")
    name = re.sub(r"/(kernel|gamma)$", "/weight", re.sub(r"/beta$", "/bias", name))
    if re.search(r"/(word|position|token_type)_embeddings$", name):
        name += "/weight"
    return name.replace("/", "."), transpose


def hf_config(google_config: dict, model_type: str, **changes) -> dict:
    """A Hugging Face ``config.json`` for a Google config, as transformers writes one."""
    architecture = {"bert": "BertForPreTraining", "roberta": "RobertaForMaskedLM", "albert": "AlbertForPreTraining"}
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
            "type_vocab_size", "initializer_range"]
    config = {"architectures": [architecture[model_type]], "model_type": model_type,
              **{key: google_config[key] for key in keys}, "layer_norm_eps": 1e-12, "pad_token_id": 0,
              "position_embedding_type": "absolute", "transformers_version": "4.40.0"}
    if model_type == "albert":
        config.update(embedding_size=google_config["embedding_size"], num_hidden_groups=1, inner_group_num=1)
    return {**config, **changes}


def write_hf_folder(target: Path, google: Path, model: str, *, full: bool = True, shards: int = 1,
                    gamma_beta: bool = False, roberta: bool = False) -> Path:
    """Write the weights of the Google folder ``google`` as a Hugging Face folder at ``target``.

    ``full``: as ``BertForPreTraining`` saves (``bert.`` prefix, MLM and NSP/SOP
    heads with the tied decoder, the ``position_ids`` buffer); else as
    ``BertModel`` does (no prefix, the pooler, no heads). ``shards > 1``: a
    sharded checkpoint with ``model.safetensors.index.json``. ``gamma_beta``:
    LayerNorms named ``gamma``/``beta``, as in older files. ``roberta``:
    ``model_type`` roberta with a ``roberta.`` prefix and two rows before
    position 0 (``pad_token_id`` 1).
    """
    from safetensors.numpy import save_file

    tf = import_tensorflow()
    checkpoint = str(next(google.glob("*.index")).with_suffix(""))
    google_config = json.loads(next(google.glob("*config*.json")).read_text(encoding="utf-8"))
    tensors: dict[str, np.ndarray] = {}
    for variable, _ in tf.train.list_variables(checkpoint):
        name, transpose = hf_name(variable, model)
        value = tf.train.load_variable(checkpoint, variable)
        tensors[name] = np.ascontiguousarray(value.T if transpose else value)
    model_type = "roberta" if roberta else model
    changes = {}
    base = "albert." if model == "albert" else "bert."
    if roberta:
        tensors = {("roberta." + k[len("bert."):] if k.startswith("bert.") else k): v for k, v in tensors.items()}
        tensors = {("lm_head." + k[len("cls.predictions."):] if k.startswith("cls.predictions.") else k): v
                   for k, v in tensors.items() if not k.startswith("cls.seq_relationship.")}
        table = tensors["roberta.embeddings.position_embeddings.weight"]
        extra = np.random.default_rng(7).normal(0.0, 1.0, (2, table.shape[1])).astype(np.float32)
        tensors["roberta.embeddings.position_embeddings.weight"] = np.concatenate([extra, table])
        changes = {"pad_token_id": 1, "max_position_embeddings": table.shape[0] + 2}
        base = "roberta."
    embeddings = tensors[f"{base}embeddings.word_embeddings.weight"]
    if full:
        decoder = "lm_head." if roberta else "predictions." if model == "albert" else "cls.predictions."
        tensors[f"{decoder}decoder.weight"] = embeddings.copy()  # tied to the word embeddings
        tensors[f"{decoder}decoder.bias"] = tensors[f"{decoder}bias"].copy()
        tensors[f"{base}embeddings.position_ids"] = np.arange(google_config["max_position_embeddings"] +
                                                              (2 if roberta else 0), dtype=np.int64)[None]
    else:
        tensors = {k[len(base):]: v for k, v in tensors.items() if k.startswith(base)}
    if gamma_beta:
        tensors = {re.sub(r"(LayerNorm|layer_norm)\.weight$", r"\1.gamma",
                          re.sub(r"(LayerNorm|layer_norm)\.bias$", r"\1.beta", k)): v for k, v in tensors.items()}
    target.mkdir(parents=True, exist_ok=True)
    (target / "config.json").write_text(json.dumps(hf_config(google_config, model_type, **changes), indent=2),
                                        encoding="utf-8")
    shutil.copyfile(google / "vocab.txt", target / "vocab.txt")
    names = sorted(tensors)
    if shards == 1:
        save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
        return target
    weight_map = {}
    for i in range(shards):
        shard = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = names[i::shards]
        save_file({name: tensors[name] for name in part}, str(target / shard), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, shard))
    index = {"metadata": {"total_size": int(sum(v.nbytes for v in tensors.values()))}, "weight_map": weight_map}
    (target / "model.safetensors.index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def safetensors_runtime() -> None:
    """The safetensors package (the hf extra); the test is skipped without it."""
    pytest.importorskip("safetensors", reason="needs safetensors (the hf extra)")


@pytest.fixture(scope="session")
def tiny_bert_hf(models_root, tiny_bert, safetensors_runtime) -> Path:
    """``tiny_bert``'s weights as a Hugging Face folder: BertForPreTraining's names and heads, model.safetensors."""
    return write_hf_folder(models_root / "tiny-bert-hf", tiny_bert, "bert")


@pytest.fixture(scope="session")
def tiny_bert_hf_sharded(models_root, tiny_bert, safetensors_runtime) -> Path:
    """``tiny_bert``'s weights as BertModel saves them (no prefix, no heads), in 3 shards, LayerNorm gamma/beta."""
    return write_hf_folder(models_root / "tiny-bert-hf-sharded", tiny_bert, "bert", full=False, shards=3,
                           gamma_beta=True)


@pytest.fixture(scope="session")
def tiny_albert_hf(models_root, tiny_albert, safetensors_runtime) -> Path:
    return write_hf_folder(models_root / "tiny-albert-hf", tiny_albert, "albert")


@pytest.fixture(scope="session")
def tiny_albert_hf_sharded(models_root, tiny_albert, safetensors_runtime) -> Path:
    return write_hf_folder(models_root / "tiny-albert-hf-sharded", tiny_albert, "albert", full=False, shards=2)


@pytest.fixture(scope="session")
def tiny_roberta_hf(models_root, tiny_bert, safetensors_runtime) -> Path:
    """``tiny_bert``'s weights as a RobertaForMaskedLM folder: positions from row 2 (pad_token_id 1)."""
    return write_hf_folder(models_root / "tiny-roberta-hf", tiny_bert, "bert", roberta=True)
