"""Hugging Face folders (config.json, model.safetensors or shards, vocab.txt) give what Google's folders give.

Each Hugging Face folder here holds the weights of one of the Google-format
test models (``tests/bert_fixtures.py``), renamed as transformers names them;
the loaded weights, the impacts and ``mintext parse``'s output must be the
same as from the Google folder. Then every kind of bad folder: one line, the
right exit status, nothing from TensorFlow.
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest
from test_cli_parse import cached, one_line_error  # noqa: F401 - cached is a fixture

from mintext.errors import InputError, UsageError
from mintext.parse.huggingface import (
    ACTIVATIONS,
    SKIPPED_HEADS,
    HuggingFaceModel,
    is_huggingface_folder,
    read_hf_config,
    tensor_table,
)
from mintext.parse.impact import impact_matrix
from mintext.parse.model import load_encoder

pytestmark = [pytest.mark.bert, pytest.mark.usefixtures("bert_runtime", "safetensors_runtime")]
pytest_plugins = ["bert_fixtures"]

PAIRS = [("tiny_bert", "tiny_bert_hf", "bert"), ("tiny_bert", "tiny_bert_hf_sharded", "bert"),
         ("tiny_bert", "tiny_roberta_hf", "roberta"),
         ("tiny_albert", "tiny_albert_hf", "albert"), ("tiny_albert", "tiny_albert_hf_sharded", "albert")]
IDS = [hf for _, hf, _ in PAIRS]
SENTENCES = [["计算机", "的", "鼠标", "有", "什么", "比较", "特殊", "的", "用途", "呢"], ["我", "爱", "iPhone15"]]
TEXT = "计算机的鼠标有什么比较特殊的用途呢\n我爱 iPhone15，好吗？\n大肠杆菌是人和许多动物肠道中最主要且数量最多的一种细菌\n"
SEGMENTED = "计算机 的 鼠标 有 什么 比较 特殊 的 用途 呢\n我 爱 北京\n"
_ENCODERS: dict = {}


def encoder_of(request, fixture: str, model: str, layer: int | None = None):
    """Each folder loaded once per session (the loading itself is what the first test checks)."""
    directory = request.getfixturevalue(fixture)
    key = (str(directory), model if model != "roberta" else "bert", layer)
    if key not in _ENCODERS:
        _ENCODERS[key] = load_encoder(directory, key[1], layer)
    return _ENCODERS[key]


# --------------------------------------------------------------------------- same weights, same results


@pytest.mark.parametrize("google, hf, model", PAIRS, ids=IDS)
def test_every_weight_equals_the_google_folders(google, hf, model, request):
    ours, theirs = encoder_of(request, hf, model), encoder_of(request, google, model)
    assert ours.files.layout == "huggingface" and theirs.files.layout == "google"
    assert [w.name for w in ours.keras_model.weights] == [w.name for w in theirs.keras_model.weights]
    for mine, reference in zip(ours.keras_model.weights, theirs.keras_model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy(), err_msg=mine.name)
    assert (ours.max_tokens, ours.num_layers, ours.hidden_size) == (theirs.max_tokens, theirs.num_layers,
                                                                   theirs.hidden_size)


@pytest.mark.parametrize("google, hf, model", PAIRS, ids=IDS)
def test_impacts_are_identical(google, hf, model, request):
    ours, theirs = encoder_of(request, hf, model), encoder_of(request, google, model)
    for words in SENTENCES:
        np.testing.assert_array_equal(impact_matrix(ours, words), impact_matrix(theirs, words))


def test_a_lower_layer_leaves_the_upper_tensors_in_the_file(request):
    ours, theirs = encoder_of(request, "tiny_bert_hf", "bert", 1), encoder_of(request, "tiny_bert", "bert", 1)
    assert ours.layer == 1 and len(ours.keras_model.weights) == len(theirs.keras_model.weights)
    np.testing.assert_array_equal(impact_matrix(ours, SENTENCES[0]), impact_matrix(theirs, SENTENCES[0]))


@pytest.mark.parametrize("task, extra", [("seg", []), ("tree", ["--segmented"]), ("dep", ["--segmented"])])
@pytest.mark.parametrize("google, hf, model", [PAIRS[0], PAIRS[1], PAIRS[3], PAIRS[4]], ids=[IDS[0], IDS[1], IDS[3],
                                                                                            IDS[4]])
def test_parse_output_is_the_google_folders(google, hf, model, task, extra, run, write, cached, request):  # noqa: F811
    source = write("in.txt", SEGMENTED if extra else TEXT)
    outputs = []
    for fixture in (google, hf):
        result = run("parse", "--bert", request.getfixturevalue(fixture), "--model", model, "--task", task,
                     "--threshold", "auto", *extra, source)
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") >= 2


def test_parse_loads_a_folder_for_real(run, write, tiny_albert_hf, tiny_albert):
    """No cache: the CLI's own load of a Hugging Face folder, and its note naming it."""
    source = write("in.txt", TEXT)
    ours = run("parse", "--bert", tiny_albert_hf, "--model", "albert", source)
    theirs = run("parse", "--bert", tiny_albert, "--model", "albert", source)
    assert ours.exit_code == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert f"loaded albert from {tiny_albert_hf}" in ours.stderr


def test_layer_norm_epsilon_comes_from_the_config(request, tmp_path, tiny_bert):
    from bert_fixtures import write_hf_folder

    folder = write_hf_folder(tmp_path / "eps", tiny_bert, "bert")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "layer_norm_eps": 0.25}))
    wide = load_encoder(folder, "bert")
    norms = [layer for layer in wide.keras_model.layers if type(layer).__name__ == "LayerNormalization"]
    assert len(norms) == 5 and {layer.epsilon for layer in norms} == {0.25}  # embeddings + 2 per layer
    usual = encoder_of(request, "tiny_bert_hf", "bert")
    assert not np.allclose(impact_matrix(wide, SENTENCES[0]), impact_matrix(usual, SENTENCES[0]))


# --------------------------------------------------------------------------- the config and the table (no model)


def test_config_fields_map_to_bert4keras():
    config = {"model_type": "bert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu_new",
              "max_position_embeddings": 64, "type_vocab_size": 2, "layer_norm_eps": 1e-5}
    model = read_hf_config(config, "config.json", "bert")
    assert model.family == "bert" and model.first_position == 0 and model.layer_norm_eps == 1e-5
    assert model.config["hidden_act"] == "gelu_tanh" and model.config["max_position_embeddings"] == 64
    assert model.build_options(1)["num_hidden_layers"] == 1
    roberta = read_hf_config({**config, "model_type": "roberta", "pad_token_id": 1, "hidden_act": "gelu"},
                             "config.json", "roberta")
    assert roberta.first_position == 2 and roberta.config["max_position_embeddings"] == 62
    assert roberta.config["hidden_act"] == "gelu_erf"
    table = tensor_table(roberta)
    assert table["embeddings.position_embeddings.weight"].shape == (64, 32)
    assert table["embeddings.position_embeddings.weight"].first_row == 2
    assert table["encoder.layer.1.intermediate.dense.weight"].shape == (64, 32)  # PyTorch's [out, in]
    assert table["encoder.layer.1.intermediate.dense.weight"].transpose
    assert len(table) == 5 + 16 * 2  # embeddings (3 tables + norm), 16 tensors a layer
    albert = read_hf_config({**config, "model_type": "albert", "embedding_size": 16}, "config.json", "albert")
    assert len(tensor_table(albert)) == 5 + 2 + 16 and albert.config["embedding_size"] == 16
    assert set(ACTIVATIONS.values()) <= {"gelu_erf", "gelu_tanh", "relu", "tanh", "swish"}
    assert all(head.endswith(".") for head, _ in SKIPPED_HEADS)


@pytest.mark.parametrize("changes, error, pattern", [
    ({"model_type": "xlnet"}, InputError, r"has model_type 'xlnet': mintext reads Hugging Face folders of model_type bert"),
    ({"model_type": None}, InputError, r"has no model_type"),
    ({"hidden_act": "mish"}, InputError, r"hidden_act 'mish' is not one bert4keras builds"),
    ({"position_embedding_type": "relative_key"}, InputError, r"absolute position embeddings only"),
    ({"layer_norm_eps": "small"}, InputError, r"layer_norm_eps must be a number"),
    ({"model_type": "albert", "num_hidden_groups": 2}, InputError, r"one group of one shared layer"),
])
def test_config_errors(changes, error, pattern):
    config = {"model_type": "bert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 4, "intermediate_size": 64, **changes}
    config = {k: v for k, v in config.items() if v is not None}
    model = "albert" if config.get("model_type") == "albert" else "bert"
    with pytest.raises(error, match=pattern):
        read_hf_config(config, "config.json", model)


def test_model_option_must_fit_the_model_type():
    config = {"model_type": "albert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 4, "intermediate_size": 64}
    with pytest.raises(UsageError, match=r"config.json says model_type 'albert': use --model albert"):
        read_hf_config(config, "config.json", "bert")
    with pytest.raises(UsageError, match=r"says model_type 'bert': use --model bert"):
        read_hf_config({**config, "model_type": "bert"}, "config.json", "nezha")
    assert isinstance(read_hf_config({**config, "model_type": "bert"}, "c.json", "roberta"), HuggingFaceModel)


def test_which_layout(tmp_path, tiny_bert, tiny_bert_hf):
    assert is_huggingface_folder(str(tiny_bert_hf)) and not is_huggingface_folder(str(tiny_bert))
    both = tmp_path / "both"
    both.mkdir()
    for path in [*tiny_bert.iterdir(), tiny_bert_hf / "config.json"]:
        (both / path.name).write_bytes(path.read_bytes())
    assert not is_huggingface_folder(str(both))  # a complete Google checkpoint wins


# --------------------------------------------------------------------------- bad folders


@pytest.fixture
def hf_copy(tmp_path, tiny_bert, tiny_albert):
    """A fresh Hugging Face folder of the tiny BERT (or ALBERT) to damage: ``hf_copy(model, **options) -> Path``."""

    from bert_fixtures import write_hf_folder

    def make(model: str = "bert", **options):
        google = tiny_albert if model == "albert" else tiny_bert
        return write_hf_folder(tmp_path / f"hf-{model}", google, model, **options)

    return make


def _rewrite(folder, change) -> None:
    """Load model.safetensors, let ``change`` edit the dict of tensors, save it again."""
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(folder / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(folder / "model.safetensors"))


def _edit_config(folder, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **changes}))


def _parse(run, write, folder, *options):
    return run("parse", "--bert", folder, *options, write("in.txt", "我爱北京\n"))


def test_unknown_model_type(run, write, hf_copy):
    folder = hf_copy()
    _edit_config(folder, model_type="xlnet")
    one_line_error(_parse(run, write, folder), 1, r"config.json has model_type 'xlnet': mintext reads Hugging Face "
                                                   r"folders of model_type bert, roberta, albert")


def test_wrong_model_option(run, write, hf_copy):
    one_line_error(_parse(run, write, hf_copy("albert")), 2, r"config.json says model_type 'albert': use --model albert")


def test_missing_tensor(run, write, hf_copy):
    folder = hf_copy()
    _rewrite(folder, lambda t: t.pop("bert.encoder.layer.1.output.dense.weight"))
    one_line_error(_parse(run, write, folder), 1, r"model.safetensors has no tensor "
                   r"bert\.encoder\.layer\.1\.output\.dense\.weight \(or encoder\.layer\.1\.output\.dense\.weight\), "
                   r"which the bert model of config.json needs")


def test_misshaped_tensor(run, write, hf_copy):
    folder = hf_copy("albert")

    def transpose(tensors):
        name = "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"
        tensors[name] = np.ascontiguousarray(tensors[name].T)  # as if stored [in, out]

    _rewrite(folder, transpose)
    one_line_error(_parse(run, write, folder, "--model", "albert"), 1,
                   r"model.safetensors: tensor albert\.encoder\.albert_layer_groups\.0\.albert_layers\.0\.ffn\.weight "
                   r"has shape \[32, 64\], but config.json makes it \[64, 32\]")


def test_config_of_another_model(run, write, hf_copy):
    folder = hf_copy()
    _edit_config(folder, intermediate_size=128)
    one_line_error(_parse(run, write, folder), 1, r"tensor bert\.encoder\.layer\.0\.intermediate\.dense\.weight has "
                                                   r"shape \[64, 32\], but config.json makes it \[128, 32\]")


def test_unknown_tensor(run, write, hf_copy):
    folder = hf_copy()
    _rewrite(folder, lambda t: t.update({"classifier.weight": np.zeros((3, 32), np.float32)}))
    one_line_error(_parse(run, write, folder), 1, r"tensor classifier\.weight is neither a weight of the bert encoder "
                                                   r"nor a head mintext skips")


def test_same_weight_twice(run, write, hf_copy):
    folder = hf_copy()
    _rewrite(folder, lambda t: t.update({"embeddings.LayerNorm.weight": t["bert.embeddings.LayerNorm.weight"]}))
    one_line_error(_parse(run, write, folder), 1, r"holds both .*embeddings\.LayerNorm\.weight and "
                                                   r".*embeddings\.LayerNorm\.weight, the same weight twice")


def test_vocab_of_another_model(run, write, hf_copy):
    folder = hf_copy()
    with open(folder / "vocab.txt", "a", encoding="utf-8") as f:
        f.write("多余\n")
    one_line_error(_parse(run, write, folder), 1, r"vocab.txt has \d+ tokens but the word embeddings have \d+ rows")


def _write_safetensors(path, tensors: dict, bfloat16: str) -> None:
    """Write a safetensors file by hand, the tensor ``bfloat16`` in BF16 (the top half of each float32)."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        value = np.ascontiguousarray(tensors[name])
        if name == bfloat16:
            raw, dtype = (value.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes(), "BF16"
        else:
            raw, dtype = value.astype(value.dtype.newbyteorder("<")).tobytes(), {"float32": "F32", "int64": "I64"}[
                value.dtype.name]
        header[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    path.write_bytes(len(body).to_bytes(8, "little") + body + b"".join(chunks))


def test_bfloat16_is_named(run, write, hf_copy):
    from safetensors.numpy import load_file

    folder = hf_copy()
    name = "bert.embeddings.LayerNorm.bias"
    _write_safetensors(folder / "model.safetensors", load_file(str(folder / "model.safetensors")), name)
    one_line_error(_parse(run, write, folder), 1, r"tensor bert\.embeddings\.LayerNorm\.bias is stored as BF16, which "
                                                   r"mintext cannot read as float32")


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_safetensors(run, write, hf_copy, keep):
    folder = hf_copy()
    path = folder / "model.safetensors"
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    one_line_error(_parse(run, write, folder), 1, r"cannot read .*model.safetensors: Error while deserializing header"
                                                   r".*; the file is damaged or truncated: download the model folder again")


def test_sharded_folder_missing_a_shard(run, write, hf_copy):
    folder = hf_copy(shards=2)
    (folder / "model-00002-of-00002.safetensors").unlink()
    one_line_error(_parse(run, write, folder), 1, r"model-00002-of-00002.safetensors is missing "
                                                   r"\(model.safetensors.index.json names it for \d+ tensors\)")


def test_sharded_index_naming_a_tensor_its_shard_lacks(run, write, hf_copy):
    folder = hf_copy(shards=2)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    name, shard = next(iter(index["weight_map"].items()))
    index["weight_map"][name] = next(other for other in set(index["weight_map"].values()) if other != shard)
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    one_line_error(_parse(run, write, folder), 1, rf"lacks the tensor {re.escape(name)}, which "
                                                   r"model.safetensors.index.json says it holds")


def test_folder_without_weights(run, write, hf_copy):
    folder = hf_copy()
    (folder / "model.safetensors").unlink()
    (folder / "tf_model.h5").write_bytes(b"\x89HDF")
    one_line_error(_parse(run, write, folder), 1, r"has config.json but no model.safetensors, "
                                                   r"model.safetensors.index.json or pytorch_model.bin \(only tf_model.h5")


def test_pytorch_bin_without_pytorch(run, write, hf_copy, monkeypatch):
    folder = hf_copy()
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not read without PyTorch")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError, installed or not
    result = _parse(run, write, folder)
    one_line_error(result, 1, r"pytorch_model.bin is a PyTorch file and PyTorch is not installed; mintext reads "
                              r"model.safetensors without it: convert once with python -c .*safetensors.torch")
    assert "Traceback" not in result.stderr


def test_pytorch_bin_with_pytorch(tmp_path, tiny_bert, request):
    torch = pytest.importorskip("torch")
    from bert_fixtures import write_hf_folder
    from safetensors.numpy import load_file

    folder = write_hf_folder(tmp_path / "bin", tiny_bert, "bert")
    tensors = load_file(str(folder / "model.safetensors"))
    torch.save({name: torch.from_numpy(value) for name, value in tensors.items()}, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    ours, theirs = load_encoder(folder, "bert"), encoder_of(request, "tiny_bert", "bert")
    np.testing.assert_array_equal(impact_matrix(ours, SENTENCES[0]), impact_matrix(theirs, SENTENCES[0]))


def test_albert_with_embedding_size_equal_to_hidden_size():
    """bert4keras builds no embedding mapping then, and the file's one cannot be dropped silently."""
    config = {"model_type": "albert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 4, "intermediate_size": 64, "embedding_size": 32}
    with pytest.raises(InputError, match=r"embedding_size equals hidden_size \(32\), with which bert4keras's ALBERT "
                                         r"has no embedding_hidden_mapping_in"):
        read_hf_config(config, "config.json", "albert")
