"""Loading a model folder (Google's checkpoint layout or Hugging Face's) through bert4keras, checked first.

:func:`load_encoder` finds the config, the checkpoint and the vocabulary in a
folder, checks that they belong together and match ``--model`` (so that a
wrong or damaged download is reported in one line naming the problem and the
fix, instead of a TensorFlow traceback), builds the model with
``bert4keras.models.build_transformer_model(config, checkpoint, model=...)``
and wraps it in an :class:`Encoder` whose :meth:`Encoder.hidden_at` runs
padded batches through one compiled TensorFlow function and returns only the
hidden vectors asked for. A Hugging Face folder (``config.json``,
``model.safetensors``, ``vocab.txt``) is read by :mod:`mintext.parse.huggingface`
and its weights set on the model bert4keras builds from the mapped config.

Importing this module does not import TensorFlow; :func:`load_encoder` does.
"""

from __future__ import annotations

import glob
import json
import os
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mintext.cluster.executor import ClusterError, Executor, workers_see
from mintext.errors import InputError, MintextError, UsageError, first_line, shown_name
from mintext.parse import huggingface
from mintext.parse.tfenv import import_bert4keras, import_tensorflow

MODEL_TYPES = ("bert", "albert", "nezha", "roberta")
REQUIRED_CONFIG = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")
REQUIRED_TOKENS = ("[CLS]", "[SEP]", "[MASK]", "[UNK]")
FIX_DOWNLOAD = "download the model folder again"


@dataclass(frozen=True)
class ModelFiles:
    """The three parts of a model folder, and its layout (``google`` or ``huggingface``)."""

    directory: str
    config: str
    checkpoint: str  # Google: prefix of PREFIX.index + PREFIX.data-*; Hugging Face: the weights file
    vocab: str
    layout: str = "google"


# --------------------------------------------------------------------------- finding and checking files


def find_model_files(directory: str | os.PathLike, model: str = "bert") -> ModelFiles:
    """Locate the config, checkpoint and vocabulary in ``directory``.

    A Hugging Face folder (``config.json`` and no complete Google checkpoint):
    ``config.json``, the weights (``model.safetensors``, else
    ``model.safetensors.index.json``, else ``pytorch_model.bin``) and the
    vocabulary. Google's layout: config ``bert_config.json`` or
    ``albert_config*.json`` (ALBERT's first for ``model="albert"``);
    checkpoint: the one ``*.index`` file, or the one named by the
    ``checkpoint`` state file, or ``bert_model.ckpt``. Vocabulary:
    ``vocab.txt``, or the one ``vocab*.txt``. Raises :class:`UsageError` when
    the folder does not exist and :class:`InputError` when a part is missing.
    """
    directory = os.fspath(directory)
    if not os.path.exists(directory):
        raise UsageError(f"no such directory: {directory} (--bert wants a folder with bert_config.json, "
                         "bert_model.ckpt.* and vocab.txt, or Hugging Face's config.json, model.safetensors and vocab.txt)")
    if not os.path.isdir(directory):
        raise UsageError(f"--bert wants a model folder (bert_config.json, bert_model.ckpt.*, vocab.txt, or "
                         f"config.json, model.safetensors, vocab.txt), not the file {directory}")
    if huggingface.is_huggingface_folder(directory):
        return ModelFiles(directory, os.path.join(directory, huggingface.CONFIG_NAME),
                          huggingface.find_weights(directory), _find_vocab(directory), "huggingface")
    return ModelFiles(directory, _find_config(directory, model), _find_checkpoint(directory), _find_vocab(directory))


def _find_config(directory: str, model: str) -> str:
    bert = [os.path.join(directory, "bert_config.json")] if os.path.isfile(os.path.join(directory, "bert_config.json")) else []
    albert = sorted(glob.glob(os.path.join(glob.escape(directory), "albert_config*.json")))
    found = albert + bert if model == "albert" else bert + albert
    if not found:
        raise InputError(f"{directory} has no bert_config.json (or albert_config*.json) and no Hugging Face "
                         f"config.json; a model folder needs its config, checkpoint and vocab.txt: {FIX_DOWNLOAD}")
    if len(albert) > 1 and found[0] in albert:
        names = ", ".join(os.path.basename(p) for p in albert)
        raise InputError(f"{directory} has several ALBERT configs ({names}); keep only the one of this checkpoint")
    return found[0]


def _find_checkpoint(directory: str) -> str:
    prefixes = sorted(p[: -len(".index")] for p in glob.glob(os.path.join(glob.escape(directory), "*.index")))
    if not prefixes:
        data = glob.glob(os.path.join(glob.escape(directory), "*.data-*"))
        if data:
            stem = os.path.basename(data[0]).split(".data-")[0]
            raise InputError(f"checkpoint index {os.path.join(directory, stem)}.index is missing "
                             f"(the .data file is there): {FIX_DOWNLOAD}")
        raise InputError(f"{directory} has no checkpoint (bert_model.ckpt.index + bert_model.ckpt.data-00000-of-00001): "
                         f"{FIX_DOWNLOAD}")
    if len(prefixes) == 1:
        return prefixes[0]
    state = os.path.join(directory, "checkpoint")
    if os.path.isfile(state):
        with open(state, encoding="utf-8", errors="replace") as f:
            match = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', f.read(), re.M)
        if match:
            named = os.path.join(directory, os.path.basename(match.group(1)))
            if named in prefixes:
                return named
    for stem in ("bert_model.ckpt", "albert_model.ckpt", "model.ckpt"):
        if os.path.join(directory, stem) in prefixes:
            return os.path.join(directory, stem)
    names = ", ".join(os.path.basename(p) for p in prefixes)
    raise InputError(f"{directory} has several checkpoints ({names}); keep one, or name it in the 'checkpoint' file")


def _find_vocab(directory: str) -> str:
    path = os.path.join(directory, "vocab.txt")
    if os.path.isfile(path):
        return path
    found = sorted(glob.glob(os.path.join(glob.escape(directory), "vocab*.txt")))
    if len(found) == 1:
        return found[0]
    raise InputError(f"{directory} has no vocab.txt; use the vocab.txt that came with this checkpoint")


def read_config(path: str) -> dict:
    """The model config as a dict; :class:`InputError` when it is not a usable BERT config."""
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}): "
                         f"{FIX_DOWNLOAD}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path}: {err}") from None
    if not isinstance(config, dict):
        raise InputError(f"{path} is not a BERT config (a JSON object with hidden_size, num_hidden_layers, ...)")
    missing = [key for key in REQUIRED_CONFIG if key not in config]
    if missing:
        raise InputError(f"{path} lacks {', '.join(missing)}: not a BERT config")
    for key in (*REQUIRED_CONFIG, "max_position_embeddings", "embedding_size"):
        value = config.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise InputError(f"{path}: {key} must be a positive integer, not {value!r}")
    return config


def vocab_file_tokens(path: str, name: str | None = None) -> list[str]:
    """The tokens of a ``vocab.txt`` in id order (the first field of each line; ``""`` for an empty line).

    ``name`` is how errors call the file (default ``path``): :class:`InputError`
    when it cannot be read or is not UTF-8.
    """
    name = name or path
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except UnicodeDecodeError as err:
        raise InputError(f"{name} is not UTF-8 (byte {err.start}): not a BERT vocab.txt") from None
    except OSError as err:
        raise InputError(f"cannot read {name}: {err.strerror}") from None
    if lines and lines[-1] == "":
        lines.pop()
    return [(line.split() or [line.strip()])[0] for line in lines]


def read_vocab(path: str) -> list[str]:
    """The vocabulary, one token per line (first field of the line), in id order."""
    tokens = vocab_file_tokens(path)
    missing = [t for t in REQUIRED_TOKENS if t not in set(tokens)]
    if missing:
        raise InputError(f"{path} lacks {', '.join(missing)}: not a BERT vocab.txt")
    if not tokens or tokens[0] != "[PAD]":
        raise InputError(f"{path} must start with [PAD] (id 0 is padding in bert4keras); "
                         "use the vocab.txt that came with this checkpoint")
    return tokens


def check_checkpoint(files: ModelFiles, config: dict, vocab_size: int, model: str) -> None:
    """Check that checkpoint, config, vocabulary and ``model`` belong together.

    Reads only the checkpoint's index (names and shapes). Raises
    :class:`InputError` naming the mismatch and the fix.
    """
    tf = import_tensorflow()
    try:
        shapes = tf.train.load_checkpoint(files.checkpoint).get_variable_to_shape_map()
    except Exception as err:  # noqa: BLE001 - TF raises many kinds (DataLossError, OpError, ValueError...)
        raise InputError(f"cannot read checkpoint {files.checkpoint}: {first_line(err)}; "
                         f"the files are damaged or truncated: {FIX_DOWNLOAD}") from None
    name = os.path.basename(files.checkpoint)
    albert = any(k.startswith("bert/encoder/transformer/group_0/") for k in shapes)
    bert = "bert/encoder/layer_0/attention/self/query/kernel" in shapes
    positions = "bert/embeddings/position_embeddings" in shapes
    if not (albert or bert) or "bert/embeddings/word_embeddings" not in shapes:
        raise InputError(f"{name} is not a BERT-family checkpoint (no bert/embeddings and bert/encoder weights)")
    if model == "albert" and not albert:
        raise InputError(f"{name} is a BERT-format checkpoint (bert/encoder/layer_N/...), not ALBERT: "
                         f"use --model {'bert' if positions else 'nezha'}")
    if model != "albert" and albert:
        raise InputError(f"{name} is an ALBERT checkpoint (one shared layer group): use --model albert")
    if model in ("bert", "roberta") and not positions:
        raise InputError(f"{name} has no position embeddings (relative positions, as NEZHA): use --model nezha")
    if model == "nezha" and positions:
        raise InputError(f"{name} has absolute position embeddings, which NEZHA does not use: use --model bert")

    rows, embed = shapes["bert/embeddings/word_embeddings"]
    where = f"{os.path.basename(files.config)} and {name} do not belong together"
    if config["vocab_size"] != rows:
        raise InputError(f"{where}: vocab_size is {config['vocab_size']} in the config but the checkpoint's "
                         f"word embeddings have {rows} rows")
    if vocab_size != rows:
        raise InputError(f"{os.path.basename(files.vocab)} has {vocab_size} tokens but the checkpoint's word "
                         f"embeddings have {rows} rows: use the vocab.txt that came with this checkpoint")
    if albert:
        query = "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/query/kernel"
        if config.get("embedding_size", config["hidden_size"]) != embed:
            raise InputError(f"{where}: embedding_size is {config.get('embedding_size')} in the config but "
                             f"{embed} in the checkpoint")
    else:
        query = "bert/encoder/layer_0/attention/self/query/kernel"
        layers = 1 + max(int(m.group(1)) for k in shapes if (m := re.match(r"bert/encoder/layer_(\d+)/", k)))
        if config["num_hidden_layers"] > layers:
            raise InputError(f"{where}: the config has {config['num_hidden_layers']} layers, the checkpoint {layers}")
    hidden = shapes.get(query, [0])[-1]
    if config["hidden_size"] != hidden:
        raise InputError(f"{where}: hidden_size is {config['hidden_size']} in the config but {hidden} in the checkpoint")
    if positions and config.get("max_position_embeddings", 512) > shapes["bert/embeddings/position_embeddings"][0]:
        raise InputError(f"{where}: max_position_embeddings is {config.get('max_position_embeddings', 512)} in "
                         f"the config but the checkpoint has {shapes['bert/embeddings/position_embeddings'][0]} positions")


# --------------------------------------------------------------------------- the encoder


class Encoder:
    """A loaded model: the vocabulary, and :meth:`hidden_at` on batches of token ids.

    Build one with :func:`load_encoder`. ``layer`` is the hidden layer read
    (1 = first Transformer layer); only layers up to it are built and run.
    ``max_tokens`` is the longest token sequence one forward pass takes,
    ``[CLS]`` and ``[SEP]`` excluded (max_position_embeddings - 2).
    """

    def __init__(self, files: ModelFiles, model: str, config: dict, vocab: list[str], layer: int,
                 keras_model, forward) -> None:
        self.files = files
        self.model_type = model
        self.config = config
        self.vocab = vocab
        self.layer = layer
        self.num_layers = int(config["num_hidden_layers"])
        self.hidden_size = int(config["hidden_size"])
        self.max_tokens = int(config.get("max_position_embeddings", 512)) - 2
        ids = {token: i for i, token in reversed(list(enumerate(vocab)))}  # ids are rows of the embedding
        self.unk_id = ids["[UNK]"]
        self.cls_id = ids["[CLS]"]
        self.sep_id = ids["[SEP]"]
        self.mask_id = ids["[MASK]"]
        self.lowercase = is_uncased(vocab)
        _, tokenizers = import_bert4keras()
        self._tf_errors = import_tensorflow().errors  # looked up once: hidden_at runs in several threads
        self.tokenizer = tokenizers.Tokenizer(ids, do_lower_case=self.lowercase)
        self.keras_model = keras_model
        self._forward = forward
        self.forward_passes = 0  # calls of the compiled function
        self.sequences = 0  # token sequences (masked copies) run
        self._count_lock = threading.Lock()

    def __reduce__(self) -> tuple:
        """Pickled as its :class:`ModelRef` (folder, type, layer): a process that unpickles one loads the
        model from the folder, once, when a task first asks for it (a cluster worker, see :mod:`mintext.parse.impact`)."""
        return ModelRef, (os.path.abspath(self.files.directory), self.model_type, self.layer)

    def __repr__(self) -> str:
        return (f"Encoder({self.files.directory!r}, model={self.model_type!r}, layer={self.layer}/{self.num_layers}, "
                f"hidden={self.hidden_size}, vocab={len(self.vocab)})")

    def token_ids(self, atom: str) -> list[int]:
        """Token ids of one atom (see :mod:`mintext.parse.tokens`) by bert4keras's ``Tokenizer``.

        The atom is tokenized alone, which gives the same tokens as in its
        sentence since atoms are cut where BERT's basic tokenizer cuts.
        Characters the tokenizer drops (control characters, U+FFFD) become ``[UNK]``.
        """
        pieces = self.tokenizer.tokenize(atom)[1:-1]  # without [CLS] and [SEP]
        return self.tokenizer.tokens_to_ids(pieces) or [self.unk_id]

    def hidden_at(self, token_ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Hidden vectors of layer ``self.layer`` at ``positions``.

        ``token_ids``: int32 ``(batch, length)``, each row ``[CLS] ... [SEP]``
        padded with 0 (padding is masked out of attention, so a row's result
        does not depend on the rows or padding around it). ``positions``: int32
        ``(batch, reads)``, indices into each row. Returns float32
        ``(batch, reads, hidden)``. Several threads may call this at once.
        """
        token_ids = np.ascontiguousarray(token_ids, dtype=np.int32)
        positions = np.ascontiguousarray(positions, dtype=np.int32)
        with self._count_lock:  # batches may run in several threads
            self.forward_passes += 1
            self.sequences += token_ids.shape[0]
        try:
            return self._forward(token_ids, positions).numpy()
        except self._tf_errors.ResourceExhaustedError:
            raise MemoryError(f"batch of {token_ids.shape[0]} x {token_ids.shape[1]} tokens") from None
        except self._tf_errors.OpError as err:
            raise InputError(f"the model failed on a batch of {token_ids.shape[0]} x {token_ids.shape[1]} "
                             f"tokens: {first_line(err)}") from None


@dataclass(frozen=True)
class ModelRef:
    """A model named across processes: its folder (an absolute path), ``--model`` type and layer.

    An :class:`Encoder` pickles as one; :meth:`encoder` loads it in the
    process that asks, once: the last model loaded is kept (a Dask worker
    keeps its model for every task of a run).
    """

    directory: str
    model: str
    layer: int

    def encoder(self) -> Encoder:
        """The loaded model (loaded now unless it is the one this process keeps)."""
        with _KEPT_LOCK:
            if self not in _KEPT:
                _KEPT.clear()  # one model at a time: a long-lived worker does not pile them up
                _KEPT[self] = load_encoder(self.directory, self.model, self.layer)
            return _KEPT[self]


def check_model_visible(executor: Executor, directory: str | os.PathLike) -> None:
    """:class:`ClusterError` unless the workers of ``executor`` see the model folder at its absolute path
    (they load the model from it: see :class:`ModelRef`)."""
    path = os.path.abspath(directory)
    if not workers_see(executor, path):
        raise ClusterError(f"the workers cannot see the model folder {shown_name(path)} (--bert); put it on a file "
                           "system every worker mounts at the same path")


_KEPT: dict[ModelRef, Encoder] = {}
_KEPT_LOCK = threading.Lock()


def is_uncased(vocab: Sequence[str]) -> bool:
    """True for a lower-case vocabulary (Google's Chinese ones): input is then lower-cased, as BERT's tokenizer does.

    Cased vocabularies spell many tokens with capitals; a vocabulary counts as
    uncased when fewer than a tenth of its tokens with ASCII letters have a
    capital (``[CLS]``-style special tokens aside).
    """
    letters = capitals = 0
    for token in vocab:
        if token.startswith("[") and token.endswith("]"):
            continue
        if re.search("[A-Za-z]", token):
            letters += 1
            capitals += bool(re.search("[A-Z]", token))
    return capitals * 10 < letters or letters == 0


def load_encoder(directory: str | os.PathLike, model: str = "bert", layer: int | None = None) -> Encoder:
    """Check and load the model folder ``directory`` as ``model``; read hidden layer ``layer`` (default: last).

    ``model`` is one of ``bert``, ``albert``, ``nezha``, ``roberta`` (as
    bert4keras names them; a Hugging Face folder's ``model_type`` has to fit
    it). Raises :class:`InputError` for missing, damaged or mismatched files
    and :class:`UsageError` for an impossible ``layer`` or ``model``.
    """
    model = model.lower()
    if model not in MODEL_TYPES:
        raise UsageError(f"--model must be one of {', '.join(MODEL_TYPES)}, not {model!r}")
    files = find_model_files(directory, model)
    config = read_config(files.config)
    hf_model = None
    if files.layout == "huggingface":
        hf_model = huggingface.read_hf_config(config, files.config, model)
        config = hf_model.config
    vocab = read_vocab(files.vocab)
    layers = int(config["num_hidden_layers"])
    if layer is None:
        layer = layers
    if not 1 <= layer <= layers:
        raise UsageError(f"--layer must be between 1 and {layers} for this model (default: {layers}, the last)")
    if hf_model is None:
        check_checkpoint(files, config, len(vocab), model)
        keras_model, forward = _build(files, model, layer)
    else:
        with huggingface.open_weights(files.checkpoint) as tensors:
            weights = huggingface.HuggingFaceWeights(hf_model, tensors, files.vocab, len(vocab))
            keras_model, forward = _build(files, model, layer, weights, hf_model.layer_norm_eps)
    return Encoder(files, model, config, vocab, layer, keras_model, forward)


def _build(files: ModelFiles, model: str, layer: int, weights: huggingface.HuggingFaceWeights | None = None,
           layer_norm_eps: float = huggingface.LAYER_NORM_EPSILON):
    """Build the first ``layer`` layers with bert4keras and compile the read-out function.

    Google's layout: bert4keras reads the config and the checkpoint. Hugging
    Face's: the model is built from the mapped config and ``weights`` set on it.
    Every layer norm gets ``layer_norm_eps`` (bert4keras builds ALBERT's
    shared-layer norms with Keras's 1e-7, where ALBERT's own code and Hugging
    Face's use 1e-12, as for BERT).
    """
    tf = import_tensorflow()
    models, _ = import_bert4keras()
    if weights is None:
        sources, options = (files.config, files.checkpoint), {"num_hidden_layers": layer}
    else:
        sources, options = (None, None), weights.model.build_options(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf-keras: "The initializer TruncatedNormal is unseeded..."
        try:
            transformer = models.build_transformer_model(
                *sources, model=model, return_keras_model=False, **options,
            )
            if weights is not None:
                weights.set_on(transformer)
        except MintextError:
            raise
        except (tf.errors.OpError, IndexError, OSError, EOFError) as err:  # "Read less bytes than requested"...
            raise InputError(f"cannot read the weights in {files.checkpoint}: {first_line(err)}; "
                             f"the files are damaged or truncated: {FIX_DOWNLOAD}") from None
        except Exception as err:  # noqa: BLE001 - bert4keras raises ValueError, KeyError, TypeError...
            raise InputError(f"cannot load {files.checkpoint} as {model}: {first_line(err)}; check that the "
                             "config, checkpoint and --model belong together") from None
        for norm in transformer.model.layers:
            if isinstance(norm, models.LayerNormalization):
                norm.epsilon = layer_norm_eps  # read when the forward function below is traced
        parts = _standard_parts(transformer, model, layer)
        if parts is None:
            # NEZHA (relative positions: every query of the last layer is needed) or a bert4keras option the
            # read-out below does not follow: run the whole model and gather
            forward = _whole_model_forward(tf, transformer.model)
        else:
            forward = _read_out_forward(tf, parts)
    return transformer.model, forward


def _traced(tf):
    """The decorator of the forward functions: ``(token_ids, positions)`` int32 matrices in, one graph.

    ``autograph=False``: they use plain Python control flow only (no tensor-dependent branches), so
    nothing is converted and no generated source is written to the temporary folder (TensorFlow removes
    it only at interpreter exit, which cluster workers stopped by their nanny never reach).
    """
    matrix = tf.TensorSpec([None, None], tf.int32)
    return tf.function(input_signature=[matrix, matrix], autograph=False)


def _whole_model_forward(tf, keras_model):
    @_traced(tf)
    def forward(token_ids, positions):
        hidden = keras_model([token_ids, tf.zeros_like(token_ids)], training=False)
        return tf.gather(hidden, positions, batch_dims=1)

    return forward


@dataclass(frozen=True)
class _Parts:
    """The bert4keras layers of a BERT-shaped model (BERT, RoBERTa, ALBERT), as the read-out uses them."""

    token: object  # Embedding-Token
    segment: object  # Embedding-Segment
    position: object  # Embedding-Position
    norm: object  # Embedding-Norm
    mapping: object | None  # Embedding-Mapping (ALBERT, embedding size != hidden size)
    blocks: tuple  # per layer: (attention, attention norm, feed-forward, feed-forward norm)


def _standard_parts(transformer, model: str, layer: int) -> _Parts | None:
    """The layers of ``transformer`` when it is the plain BERT structure the read-out follows, else None.

    Plain: absolute position embeddings added, one segment embedding table,
    softmax attention scaled by sqrt(key size), no attention bias or
    residual attention scores, unconditional layer norms.
    """
    if model not in ("bert", "roberta", "albert"):
        return None
    layers = transformer.layers
    if (getattr(transformer, "attention_bias", None) is not None or transformer.residual_attention_scores
            or transformer.custom_position_ids or transformer.hierarchical_position
            or transformer.shared_segment_embeddings or transformer.segment_vocab_size < 1):
        return None
    names = ["Embedding-Token", "Embedding-Segment", "Embedding-Position", "Embedding-Norm"]
    if any(name not in layers for name in names) or layers["Embedding-Position"].merge_mode != "add":
        return None
    blocks = []
    for index in range(layer):
        prefix = "Transformer" if model == "albert" else f"Transformer-{index}"
        attention_name, feed_forward_name = f"{prefix}-MultiHeadSelfAttention", f"{prefix}-FeedForward"
        try:
            block = (layers[attention_name], layers[attention_name + "-Norm"],
                     layers[feed_forward_name], layers[feed_forward_name + "-Norm"])
        except KeyError:
            return None
        attention = block[0]
        if (attention.normalization != "softmax" or not attention.attention_scale
                or any(norm.conditional for norm in (block[1], block[3]))):
            return None
        blocks.append(block)
    mapping = layers.get("Embedding-Mapping") if transformer.embedding_size != transformer.hidden_size else None
    return _Parts(layers["Embedding-Token"], layers["Embedding-Segment"], layers["Embedding-Position"],
                  layers["Embedding-Norm"], mapping, tuple(blocks))


def _read_out_forward(tf, parts: _Parts):
    """The compiled read-out of a BERT-shaped model: exact, with less arithmetic than the whole model.

    Same values as bert4keras's model up to float rounding (the tests compare
    them), computed so:

    - embeddings and the first layer's query, key and value projections
      depend only on (token, position): they are computed once per distinct
      pair in the batch (the masked copies of one sentence share all but a
      few) and gathered back;
    - layers ``1..N-1`` run on every position (attention as batched matrix
      products in (batch, head, position) order);
    - the last layer runs only at the read positions, and needs no key or
      value projection at all: with ``K = X Wk + bk`` and ``V = X Wv + bv``,
      the scores ``q K^T`` are ``(q Wk^T) X^T`` plus a constant per query
      (``q . bk``, which the softmax cancels), and ``a V = (a X) Wv + bv``
      since the weights ``a`` sum to 1; so each read position costs a few
      vector-matrix products instead of two projections of the whole copy.
    """
    token_table = parts.token.embeddings
    segment_zero = parts.segment.embeddings[0]
    position_table = parts.position.embeddings
    *trunk, last = parts.blocks
    first_attention = parts.blocks[0][0]

    def project(dense, x):
        y = tf.matmul(x, dense.kernel)
        return y if dense.bias is None else tf.nn.bias_add(y, dense.bias)

    def heads_first(x, batch, heads):  # (batch * length, heads * size) -> (batch, heads, length, size)
        return tf.transpose(tf.reshape(x, [batch, -1, heads, x.shape[-1] // heads]), [0, 2, 1, 3])

    def attend(attention, q, k, v, bias, batch):
        """Self-attention of ``attention`` from flat projections; returns (batch * length, hidden)."""
        h = attention.heads
        scores = tf.matmul(heads_first(q, batch, h), heads_first(k, batch, h), transpose_b=True)
        weights = tf.nn.softmax(scores / attention.key_size**0.5 + bias, axis=-1)
        out = tf.transpose(tf.matmul(weights, heads_first(v, batch, h)), [0, 2, 1, 3])
        return attention.o_dense(tf.reshape(out, [-1, h * attention.head_size]))

    def block(x, qkv, bias, batch, parts_of_block):
        attention, attention_norm, feed_forward, feed_forward_norm = parts_of_block
        if qkv is None:
            qkv = (project(attention.q_dense, x), project(attention.k_dense, x), project(attention.v_dense, x))
        x = attention_norm(x + attend(attention, *qkv, bias, batch))
        return feed_forward_norm(x + feed_forward(x))

    def last_at_reads(x, positions, bias, batch, parts_of_block):
        """The last layer at ``positions`` only, keys and values folded into the queries (see above)."""
        attention, attention_norm, feed_forward, feed_forward_norm = parts_of_block
        h, key_size, head_size = attention.heads, attention.key_size, attention.head_size
        hidden = tf.reshape(x, [batch, -1, x.shape[-1]])  # (batch, length, hidden)
        query = tf.gather(hidden, positions, batch_dims=1)  # (batch, reads, hidden)
        reads = tf.shape(query)[1]
        q = tf.reshape(project(attention.q_dense, tf.reshape(query, [-1, query.shape[-1]])), [-1, h, key_size])
        wk = tf.reshape(attention.k_dense.kernel, [-1, h, key_size])  # (hidden, heads, key size)
        folded = tf.einsum("nhd,ehd->nhe", q, wk)  # q Wk^T per head: (batch * reads, heads, hidden)
        folded = tf.reshape(folded, [batch, -1, hidden.shape[-1]])  # (batch, reads * heads, hidden)
        scores = tf.matmul(folded, hidden, transpose_b=True) / key_size**0.5 + bias[:, 0]
        mixed = tf.matmul(tf.nn.softmax(scores, axis=-1), hidden)  # (batch, reads * heads, hidden)
        wv = tf.reshape(attention.v_dense.kernel, [-1, h, head_size])
        values = tf.einsum("nhe,ehd->nhd", tf.reshape(mixed, [-1, h, hidden.shape[-1]]), wv)
        values = tf.reshape(values, [-1, h * head_size])
        if attention.v_dense.bias is not None:
            values = tf.nn.bias_add(values, attention.v_dense.bias)
        y = attention_norm(tf.reshape(query, [-1, query.shape[-1]]) + attention.o_dense(values))
        y = feed_forward_norm(y + feed_forward(y))
        return tf.reshape(y, [batch, reads, -1])

    @_traced(tf)
    def forward(token_ids, positions):
        batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        # padding (id 0) is masked out of attention; the first position never is (bert4keras's Embedding mask)
        keep = tf.concat([tf.ones([batch, 1], tf.bool), tf.not_equal(token_ids[:, 1:], 0)], axis=1)
        bias = tf.where(keep, 0.0, float("-inf"))[:, None, None, :]  # (batch, 1, 1, length)
        # embeddings and the first layer's projections, once per distinct (token, position)
        where = tf.range(length, dtype=tf.int64)[None, :]
        keys = tf.reshape(tf.cast(token_ids, tf.int64) * tf.cast(length, tf.int64) + where, [-1])
        distinct, index = tf.unique(keys)
        tokens, places = distinct // tf.cast(length, tf.int64), distinct % tf.cast(length, tf.int64)
        e = tf.gather(token_table, tokens) + segment_zero + tf.gather(position_table, places)
        e = parts.norm(e)
        if parts.mapping is not None:
            e = parts.mapping(e)
        x = tf.gather(e, index)  # (batch * length, hidden)
        if trunk:
            qkv = tuple(tf.gather(project(dense, e), index)
                        for dense in (first_attention.q_dense, first_attention.k_dense, first_attention.v_dense))
            x = block(x, qkv, bias, batch, trunk[0])
            for parts_of_block in trunk[1:]:
                x = block(x, None, bias, batch, parts_of_block)
        return last_at_reads(x, positions, bias, batch, last)

    return forward

