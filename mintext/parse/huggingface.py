"""Hugging Face model folders, loaded into bert4keras without PyTorch.

A Hugging Face folder holds ``config.json`` (with ``model_type``), the weights
and ``vocab.txt``. The weights are ``model.safetensors``, or the shards that
``model.safetensors.index.json`` names, or PyTorch's ``pytorch_model.bin``
(read only when PyTorch is installed). This module

- maps ``config.json`` to the config bert4keras builds from
  (:func:`read_hf_config` returns a :class:`HuggingFaceModel`);
- lists a weights file's tensors, names, shapes and dtypes, from the
  safetensors headers alone (:func:`open_weights` returns a :class:`TensorFile`);
- matches them to Google's checkpoint names, which bert4keras's
  ``variable_mapping`` uses, by a table made from the config
  (:func:`tensor_table`): every tensor the model needs present once with the
  shape the config gives it, every other tensor a head mintext knowingly
  skips (pooler, MLM, NSP/SOP) or an error naming it (:class:`HuggingFaceWeights`);
- sets the values on the built bert4keras model, every weight of the model
  exactly once, PyTorch's ``Linear`` weights ``[out, in]`` transposed to
  Keras's ``[in, out]`` (:meth:`HuggingFaceWeights.set_on`).

Every problem is an :class:`InputError` (or :class:`UsageError` for a
``--model`` that does not fit) with one line naming the file, the tensor and
the fix. Importing this module imports neither TensorFlow nor safetensors.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from mintext.errors import InputError, UsageError, first_line

CONFIG_NAME = "config.json"
SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PYTORCH = "pytorch_model.bin"
PYTORCH_INDEX = "pytorch_model.bin.index.json"
WEIGHT_FILES = (SAFETENSORS, SAFETENSORS_INDEX, PYTORCH, PYTORCH_INDEX)  # in the order they are preferred
GOOGLE_CONFIGS = re.compile(r"^(bert_config\.json|albert_config.*\.json)$")

# Hugging Face model_type -> bert4keras architecture (the --model values that load it)
FAMILIES = {"bert": "bert", "roberta": "bert", "albert": "albert"}
MODEL_OPTIONS = {"bert": ("bert", "roberta"), "albert": ("albert",)}
# Hugging Face hidden_act -> bert4keras activation ("gelu" is the exact, erf form in both)
ACTIVATIONS = {"gelu": "gelu_erf", "gelu_new": "gelu_tanh", "gelu_fast": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
               "relu": "relu", "tanh": "tanh", "silu": "swish", "swish": "swish"}
LAYER_NORM_EPSILON = 1e-12  # Google's BERT and ALBERT code, and Hugging Face's default
# tensors of a file that the encoder does not use: the heads on top of it and index buffers
SKIPPED_HEADS = (("pooler.", "the pooler"), ("cls.predictions.", "the MLM head"), ("predictions.", "the MLM head"),
                 ("lm_head.", "the MLM head"), ("cls.seq_relationship.", "the NSP head"),
                 ("sop_classifier.", "the SOP head"))
SKIPPED_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")
FLOAT_DTYPES = ("F16", "F32", "F64")
FIX_DOWNLOAD = "download the model folder again"
CONVERT_BIN = ("python -c \"import torch, safetensors.torch as st; st.save_file({k: v.clone().contiguous() for k, v in "
               "torch.load('pytorch_model.bin', map_location='cpu').items()}, 'model.safetensors')\" in the folder, "
               "where PyTorch is installed (or download the model's model.safetensors)")


# --------------------------------------------------------------------------- the folder


def is_huggingface_folder(directory: str) -> bool:
    """True when ``directory`` is a Hugging Face folder: a ``config.json``, and no complete Google checkpoint.

    A folder with both layouts (a Google config and ``*.index`` checkpoint
    beside ``config.json``) is read as Google's.
    """
    if not os.path.isfile(os.path.join(directory, CONFIG_NAME)):
        return False
    names = os.listdir(directory)
    google = any(GOOGLE_CONFIGS.match(name) for name in names) and any(name.endswith(".index") for name in names)
    return not google


def find_weights(directory: str) -> str:
    """The weights file of a Hugging Face folder, by :data:`WEIGHT_FILES` order; :class:`InputError` when none."""
    for name in WEIGHT_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    others = [name for name in ("tf_model.h5", "flax_model.msgpack") if os.path.isfile(os.path.join(directory, name))]
    found = f" (only {', '.join(others)}, which mintext does not read)" if others else ""
    raise InputError(f"{directory} has {CONFIG_NAME} but no {SAFETENSORS}, {SAFETENSORS_INDEX} or {PYTORCH}{found}: "
                     f"download the model's {SAFETENSORS} into it")


# --------------------------------------------------------------------------- the config


@dataclass(frozen=True)
class HuggingFaceModel:
    """What a Hugging Face ``config.json`` says, in bert4keras's terms.

    ``config`` has the keys of Google's ``bert_config.json`` (what
    :class:`~mintext.parse.model.Encoder` reads) with bert4keras's activation
    name; ``first_position`` is the row of the position table that position 0
    reads (RoBERTa's ``pad_token_id + 1``; 0 for BERT and ALBERT).
    """

    path: str
    model_type: str  # config.json's: bert, roberta, albert
    family: str  # bert4keras's architecture: bert or albert
    config: dict
    layer_norm_eps: float
    first_position: int

    def build_options(self, layers: int) -> dict:
        """Keyword arguments of ``build_transformer_model`` for the first ``layers`` layers."""
        return {**self.config, "num_hidden_layers": layers}


def read_hf_config(config: Mapping, path: str, model: str) -> HuggingFaceModel:
    """Map a Hugging Face ``config.json`` (already read as JSON, with the BERT keys checked) to bert4keras's.

    ``model`` is ``--model``; it has to fit ``model_type`` (bert or roberta for
    the BERT layout, albert for ALBERT), else :class:`UsageError` naming the
    right one. Raises :class:`InputError` for a ``model_type``, activation or
    option that bert4keras's BERT and ALBERT do not build.
    """
    name = os.path.basename(path)
    model_type = config.get("model_type")
    if model_type not in FAMILIES:
        what = f"model_type {model_type!r}" if model_type is not None else "no model_type"
        raise InputError(f"{path} has {what}: mintext reads Hugging Face folders of model_type "
                         f"{', '.join(FAMILIES)} (BERT, RoBERTa-wwm, MacBERT, ALBERT)")
    family = FAMILIES[model_type]
    if model not in MODEL_OPTIONS[family]:
        raise UsageError(f"{name} says model_type {model_type!r}: use --model {MODEL_OPTIONS[family][0]}")
    act = config.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise InputError(f"{path}: hidden_act {act!r} is not one bert4keras builds ({', '.join(ACTIVATIONS)})")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise InputError(f"{path}: position_embedding_type {config['position_embedding_type']!r}; mintext reads "
                         "models with absolute position embeddings only")
    if family == "albert" and (config.get("num_hidden_groups", 1), config.get("inner_group_num", 1)) != (1, 1):
        raise InputError(f"{path}: num_hidden_groups {config.get('num_hidden_groups', 1)} and inner_group_num "
                         f"{config.get('inner_group_num', 1)}; bert4keras's ALBERT has one group of one shared layer")
    eps = config.get("layer_norm_eps", LAYER_NORM_EPSILON)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not 0 < eps < 1:
        raise InputError(f"{path}: layer_norm_eps must be a number between 0 and 1, not {eps!r}")
    first_position = 0
    if model_type == "roberta":  # positions count from pad_token_id + 1 (Hugging Face's RobertaEmbeddings)
        pad = config.get("pad_token_id", 1)
        if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
            raise InputError(f"{path}: pad_token_id must be a non-negative integer, not {pad!r}")
        first_position = pad + 1
    positions = config.get("max_position_embeddings", 512) - first_position
    if positions < 3:
        raise InputError(f"{path}: max_position_embeddings {config.get('max_position_embeddings', 512)} leaves "
                         f"no room for a token after [CLS] and [SEP]")
    hidden = config["hidden_size"]
    if hidden % config["num_attention_heads"]:
        raise InputError(f"{path}: hidden_size {hidden} is not a multiple of num_attention_heads "
                         f"{config['num_attention_heads']}")
    google = {
        "vocab_size": config["vocab_size"],
        "hidden_size": hidden,
        "num_hidden_layers": config["num_hidden_layers"],
        "num_attention_heads": config["num_attention_heads"],
        "intermediate_size": config["intermediate_size"],
        "hidden_act": ACTIVATIONS[act],
        "max_position_embeddings": positions,
        "type_vocab_size": config.get("type_vocab_size", 2),
        "hidden_dropout_prob": config.get("hidden_dropout_prob", 0.1),
        "attention_probs_dropout_prob": config.get("attention_probs_dropout_prob", 0.1),
    }
    if family == "albert":
        google["embedding_size"] = config.get("embedding_size", 128)  # Hugging Face's AlbertConfig default
        if google["embedding_size"] == hidden:  # bert4keras then builds no Embedding-Mapping for the file's
            raise InputError(f"{path}: embedding_size equals hidden_size ({hidden}), with which bert4keras's ALBERT "
                             "has no embedding_hidden_mapping_in for the weights' one to go to")
    return HuggingFaceModel(path, model_type, family, google, float(eps), first_position)


# --------------------------------------------------------------------------- the names


@dataclass(frozen=True)
class Slot:
    """Where one Hugging Face tensor goes: Google's name for it, the shape it must have, how to convert it."""

    google: str
    shape: tuple[int, ...]  # as stored by Hugging Face
    transpose: bool = False  # a Linear weight: [out, in] -> [in, out]
    first_row: int = 0  # rows before it are dropped (RoBERTa's position table)


def tensor_table(model: HuggingFaceModel) -> dict[str, Slot]:
    """Every tensor the model needs, by its Hugging Face name without the ``bert.``/``albert.`` prefix.

    BERT (and RoBERTa): ``embeddings.*``, ``encoder.layer.N.attention.self.query``,
    ``...attention.output.dense``, ``...intermediate.dense``, ``...output.dense``
    and their LayerNorms, for N below ``num_hidden_layers``. ALBERT: the
    embeddings, ``encoder.embedding_hidden_mapping_in`` and the one shared
    layer ``encoder.albert_layer_groups.0.albert_layers.0.*`` (``attention.query``
    ... ``attention.dense``, ``attention.LayerNorm``, ``ffn``, ``ffn_output``,
    ``full_layer_layer_norm``). Shapes are those the config gives.
    """
    config = model.config
    hidden, inter = config["hidden_size"], config["intermediate_size"]
    embed = config.get("embedding_size", hidden)
    table: dict[str, Slot] = {}

    def linear(name: str, google: str, n_in: int, n_out: int) -> None:
        table[f"{name}.weight"] = Slot(f"{google}/kernel", (n_out, n_in), transpose=True)
        table[f"{name}.bias"] = Slot(f"{google}/bias", (n_out,))

    def norm(name: str, google: str, size: int) -> None:
        table[f"{name}.weight"] = Slot(f"{google}/gamma", (size,))
        table[f"{name}.bias"] = Slot(f"{google}/beta", (size,))

    table["embeddings.word_embeddings.weight"] = Slot("bert/embeddings/word_embeddings", (config["vocab_size"], embed))
    rows = config["max_position_embeddings"] + model.first_position
    table["embeddings.position_embeddings.weight"] = Slot("bert/embeddings/position_embeddings", (rows, embed),
                                                          first_row=model.first_position)
    table["embeddings.token_type_embeddings.weight"] = Slot("bert/embeddings/token_type_embeddings",
                                                            (config["type_vocab_size"], embed))
    norm("embeddings.LayerNorm", "bert/embeddings/LayerNorm", embed)
    if model.family == "albert":
        linear("encoder.embedding_hidden_mapping_in", "bert/encoder/embedding_hidden_mapping_in", embed, hidden)
        layer, group = "encoder.albert_layer_groups.0.albert_layers.0.", "bert/encoder/transformer/group_0/inner_group_0/"
        for part in ("query", "key", "value"):
            linear(f"{layer}attention.{part}", f"{group}attention_1/self/{part}", hidden, hidden)
        linear(f"{layer}attention.dense", f"{group}attention_1/output/dense", hidden, hidden)
        norm(f"{layer}attention.LayerNorm", f"{group}LayerNorm", hidden)
        linear(f"{layer}ffn", f"{group}ffn_1/intermediate/dense", hidden, inter)
        linear(f"{layer}ffn_output", f"{group}ffn_1/intermediate/output/dense", inter, hidden)
        norm(f"{layer}full_layer_layer_norm", f"{group}LayerNorm_1", hidden)
        return table
    for i in range(config["num_hidden_layers"]):
        layer, google = f"encoder.layer.{i}.", f"bert/encoder/layer_{i}/"
        for part in ("query", "key", "value"):
            linear(f"{layer}attention.self.{part}", f"{google}attention/self/{part}", hidden, hidden)
        linear(f"{layer}attention.output.dense", f"{google}attention/output/dense", hidden, hidden)
        norm(f"{layer}attention.output.LayerNorm", f"{google}attention/output/LayerNorm", hidden)
        linear(f"{layer}intermediate.dense", f"{google}intermediate/dense", hidden, inter)
        linear(f"{layer}output.dense", f"{google}output/dense", inter, hidden)
        norm(f"{layer}output.LayerNorm", f"{google}output/LayerNorm", hidden)
    return table


def _table_name(name: str, prefix: str) -> str:
    """A file's tensor name as :func:`tensor_table` spells it: prefix dropped, old LayerNorm gamma/beta renamed."""
    if name.startswith(prefix):
        name = name[len(prefix):]
    return re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))


def _skipped(name: str) -> bool:
    return name in SKIPPED_BUFFERS or any(name.startswith(head) for head, _ in SKIPPED_HEADS)


# --------------------------------------------------------------------------- the files


class TensorFile:
    """The tensors of a weights file, or of every shard its index names: names, shapes and dtypes; values on demand.

    safetensors files are opened with ``safetensors.safe_open(framework="np")``,
    which reads the headers (and checks that the file is as long as they
    say); a value is read when :meth:`value` asks for it. ``pytorch_model.bin``
    is loaded whole with PyTorch. Use as a context manager (closes the files).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.dtypes: dict[str, str] = {}
        self.where: dict[str, str] = {}  # tensor -> the file holding it
        self.readable: dict[str, bool] = {}  # a floating-point dtype this reader converts to float32
        self._readers: dict[str, Callable[[str], np.ndarray]] = {}
        self._handles: list = []
        self._weight_map: dict[str, str] = {}  # of an index: tensor -> shard
        try:
            for file in self._files():
                self._open(file)
        except BaseException:
            self.close()
            raise

    def _files(self) -> list[str]:
        """The files to open: the path itself, or the shards its index names (each checked to exist)."""
        if not self.path.endswith(".index.json"):
            return [self.path]
        index = _read_json(self.path)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not weight_map or not all(isinstance(v, str) for v in weight_map.values()):
            raise InputError(f"{self.path} has no weight_map (tensor name -> shard file): {FIX_DOWNLOAD}")
        directory = os.path.dirname(self.path)
        shards = sorted(set(weight_map.values()))
        for shard in shards:
            if os.path.basename(shard) != shard:
                raise InputError(f"{self.path} names the shard {shard!r} outside its folder: {FIX_DOWNLOAD}")
            if not os.path.isfile(os.path.join(directory, shard)):
                raise InputError(f"{os.path.join(directory, shard)} is missing ({os.path.basename(self.path)} "
                                 f"names it for {sum(v == shard for v in weight_map.values())} tensors): {FIX_DOWNLOAD}")
        self._weight_map = weight_map
        return [os.path.join(directory, shard) for shard in shards]

    def _open(self, file: str) -> None:
        if file.endswith(".bin"):
            shapes, dtypes, readable, reader = _open_pytorch(file)
        else:
            shapes, dtypes, readable, reader = self._open_safetensors(file)
        for name, shape in shapes.items():
            if name in self.where:
                raise InputError(f"{file} and {self.where[name]} both hold the tensor {name}: {FIX_DOWNLOAD}")
            self.shapes[name], self.dtypes[name], self.where[name] = shape, dtypes[name], file
            self.readable[name] = readable[name]
            self._readers[name] = reader
        for name, shard in self._weight_map.items():
            if os.path.basename(file) == shard and name not in shapes:
                raise InputError(f"{file} lacks the tensor {name}, which {os.path.basename(self.path)} says it "
                                 f"holds: {FIX_DOWNLOAD}")

    def _open_safetensors(self, file: str):
        try:
            from safetensors import safe_open
        except ImportError:
            raise UsageError("reading model.safetensors needs the safetensors package (the hf extra): "
                             "pip install safetensors") from None
        try:
            handle = safe_open(file, framework="np")
            handle.__enter__()
        except Exception as err:  # noqa: BLE001 - SafetensorError, OSError
            raise InputError(f"cannot read {file}: {first_line(err)}; the file is damaged or truncated: "
                             f"{FIX_DOWNLOAD}") from None
        self._handles.append(handle)
        shapes, dtypes = {}, {}
        for name in handle.keys():
            part = handle.get_slice(name)
            shapes[name], dtypes[name] = tuple(part.get_shape()), part.get_dtype()

        def read(name: str) -> np.ndarray:
            try:
                return handle.get_tensor(name)
            except Exception as err:  # noqa: BLE001 - SafetensorError
                raise InputError(f"cannot read tensor {name} in {file}: {first_line(err)}; {FIX_DOWNLOAD}") from None

        return shapes, dtypes, {name: dtype in FLOAT_DTYPES for name, dtype in dtypes.items()}, read

    def value(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a float32 NumPy array."""
        return np.asarray(self._readers[name](name), dtype=np.float32)

    def close(self) -> None:
        for handle in self._handles:
            handle.__exit__(None, None, None)
        self._handles.clear()

    def __enter__(self) -> TensorFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_weights(path: str) -> TensorFile:
    """The tensors of ``model.safetensors``, ``model.safetensors.index.json`` (and shards) or ``pytorch_model.bin``."""
    return TensorFile(path)


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}): "
                         f"{FIX_DOWNLOAD}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path}: {err}") from None


def _open_pytorch(file: str):
    """Shapes, dtypes and a reader of a ``pytorch_model.bin`` state dict, loaded with PyTorch (needed here)."""
    try:
        import torch
    except ImportError:
        raise InputError(f"{file} is a PyTorch file and PyTorch is not installed; mintext reads model.safetensors "
                         f"without it: convert once with {CONVERT_BIN}") from None
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - RuntimeError, UnpicklingError, EOFError...
        raise InputError(f"cannot read {file}: {first_line(err)}; the file is damaged or truncated: "
                         f"{FIX_DOWNLOAD}") from None
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{file} is not a state dict (tensor name -> tensor): {FIX_DOWNLOAD}")
    shapes = {name: tuple(tensor.shape) for name, tensor in state.items()}
    dtypes = {name: str(tensor.dtype).removeprefix("torch.") for name, tensor in state.items()}

    readable = {name: tensor.is_floating_point() for name, tensor in state.items()}

    def read(name: str) -> np.ndarray:
        return state[name].detach().float().numpy()

    return shapes, dtypes, readable, read


# --------------------------------------------------------------------------- matching and setting


class HuggingFaceWeights:
    """A Hugging Face folder's tensors, checked against its config and matched to bert4keras's weights.

    Made from an open :class:`TensorFile`: every tensor of :func:`tensor_table`
    present exactly once (with or without the ``bert.``/``roberta.``/``albert.``
    prefix, LayerNorms as ``weight``/``bias`` or the old ``gamma``/``beta``)
    with its shape; every other tensor a skipped head or buffer; the
    vocabulary as long as the word embeddings. The first problem found is an
    :class:`InputError` naming the file and the tensor.
    """

    def __init__(self, model: HuggingFaceModel, tensors: TensorFile, vocab_path: str, vocab_size: int) -> None:
        self.model = model
        self.tensors = tensors
        self.table = tensor_table(model)
        prefix = f"{model.model_type}."
        found: dict[str, str] = {}  # table name -> the file's name
        unknown = []
        for name in tensors.shapes:
            key = _table_name(name, prefix)
            if key in self.table:
                if key in found:
                    raise InputError(f"{tensors.where[name]} holds both {found[key]} and {name}, the same weight "
                                     f"twice: {FIX_DOWNLOAD}")
                found[key] = name
            elif not _skipped(key):
                unknown.append(name)
        for key, slot in self.table.items():
            if key not in found:
                raise InputError(f"{os.path.basename(tensors.path)} has no tensor {prefix}{key} "
                                 f"(or {key}), which the {model.model_type} model of {os.path.basename(model.path)} "
                                 f"needs: the weights are incomplete or of another model: {FIX_DOWNLOAD}")
            shape = tensors.shapes[found[key]]
            if shape != slot.shape:
                raise InputError(f"{os.path.basename(tensors.where[found[key]])}: tensor {found[key]} has shape "
                                 f"{list(shape)}, but {os.path.basename(model.path)} makes it {list(slot.shape)}: "
                                 "the weights and config.json do not belong together")
            if not tensors.readable[found[key]]:
                raise InputError(f"{os.path.basename(tensors.where[found[key]])}: tensor {found[key]} is stored as "
                                 f"{tensors.dtypes[found[key]]}, which mintext cannot read as float32 (NumPy has "
                                 "no bfloat16): save the model with float32 or float16 weights")
        if unknown:
            raise InputError(f"{os.path.basename(tensors.where[unknown[0]])}: tensor {unknown[0]} is neither a weight "
                             f"of the {model.model_type} encoder nor a head mintext skips (pooler, MLM, NSP/SOP): "
                             f"is the folder a plain {model.model_type} model?")
        if vocab_size != model.config["vocab_size"]:
            raise InputError(f"{os.path.basename(vocab_path)} has {vocab_size} tokens but the word embeddings have "
                             f"{model.config['vocab_size']} rows: use the vocab.txt that came with this model")
        self.names = found  # table name -> the file's name
        self.by_google = {slot.google: key for key, slot in self.table.items()}

    def value(self, google: str) -> np.ndarray:
        """The value of Google's weight ``google`` in Keras's layout (Linear weights transposed)."""
        key = self.by_google[google]
        slot = self.table[key]
        value = self.tensors.value(self.names[key])
        if slot.transpose:
            value = value.T
        return np.ascontiguousarray(value[slot.first_row:] if slot.first_row else value)

    def set_on(self, transformer) -> None:
        """Set every weight of the built bert4keras ``transformer`` from the file, exactly once.

        Weights of layers not built (``--layer`` below the last) are left in the file. Raises
        :class:`InputError` when a weight of the model has no tensor, or a
        value's shape differs from the weight's.
        """
        pairs, used = [], set()
        for layer_name, names in transformer.variable_mapping().items():
            if layer_name not in transformer.layers:
                continue  # a head, or a layer above --layer
            weights = transformer.layers[layer_name].trainable_weights
            if len(weights) != len(names):
                raise InputError(f"bert4keras's {layer_name} has {len(weights)} weights, not the {len(names)} of "
                                 f"{', '.join(names)}: this bert4keras version does not fit mintext")
            for weight, google in zip(weights, names, strict=True):
                if google not in self.by_google:
                    raise InputError(f"{os.path.basename(self.tensors.path)} has no tensor for {google} "
                                     f"({layer_name} of bert4keras's {self.model.family}): {FIX_DOWNLOAD}")
                value = self.value(google)
                if tuple(weight.shape) != value.shape:
                    raise InputError(f"{self.names[self.by_google[google]]} gives bert4keras's {layer_name} a {list(value.shape)} "
                                     f"weight where it has {list(weight.shape)}: the weights and config.json do "
                                     "not belong together")
                pairs.append((weight, value))
                used.add(self.by_google[google])
        model_weights = {id(w) for w in transformer.model.weights}
        set_weights = [id(w) for w, _ in pairs]
        if len(set(set_weights)) != len(set_weights) or set(set_weights) != model_weights:
            raise InputError(f"bert4keras's {self.model.family} model has {len(model_weights)} weights, of which "
                             f"{len(set(set_weights))} map to tensors of {os.path.basename(self.tensors.path)} "
                             f"({len(set_weights)} times): this bert4keras version does not fit mintext")
        built = transformer.num_hidden_layers
        for key in self.table.keys() - used:
            above = re.match(r"encoder\.layer\.(\d+)\.", key)
            if not (above and int(above.group(1)) >= built):
                raise InputError(f"{os.path.basename(self.tensors.path)}: tensor {self.names[key]} has no weight "
                                 f"of bert4keras's {self.model.family} model to go to")
        for weight, value in pairs:
            weight.assign(value)
