"""Writing Google-format BERT/ALBERT/NEZHA checkpoints from NumPy arrays (TF2).

bert4keras's ``save_weights_as_checkpoint`` uses TF1 sessions and does not run
on TensorFlow 2. :func:`write_checkpoint` writes the same format (a TF
"V2" checkpoint: ``PREFIX.index`` + ``PREFIX.data-00000-of-00001`` + the
``checkpoint`` state file) with the ``SaveV2`` op in eager mode, under exactly
the variable names given, so that ``tf.train.load_variable`` and bert4keras's
``build_transformer_model(config, checkpoint)`` read it like a checkpoint
downloaded from Google.

:func:`random_variables` makes a complete set of randomly initialised weights
under Google's names (``bert/embeddings/word_embeddings``,
``bert/encoder/layer_0/attention/self/query/kernel``, ..., ``cls/predictions/...``;
ALBERT's shared ``bert/encoder/transformer/group_0/inner_group_0/...``; NEZHA
without position embeddings) and :func:`write_random_model` a whole model
folder (config, checkpoint, vocab) for tests and benchmarks.

Only :func:`write_checkpoint` needs TensorFlow, and imports it when called.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from mintext.parse.model import MODEL_TYPES
from mintext.parse.tfenv import import_tensorflow

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def write_checkpoint(prefix: str | os.PathLike, variables: Mapping[str, np.ndarray]) -> str:
    """Write ``variables`` (name -> array) as a TF checkpoint at ``prefix``; return the prefix.

    Creates ``prefix.index``, ``prefix.data-00000-of-00001`` and a ``checkpoint``
    file beside them naming this checkpoint (as TF1's ``Saver`` does). Arrays
    are stored with their own dtype (use float32 for weights).
    """
    prefix = os.fspath(prefix)
    if not variables:
        raise ValueError("no variables to write")
    tf = import_tensorflow()
    names = sorted(variables)
    tensors = [tf.constant(np.asarray(variables[name])) for name in names]
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names), tensors=tensors)
    base = os.path.basename(prefix)
    with open(os.path.join(os.path.dirname(os.path.abspath(prefix)), "checkpoint"), "w", encoding="utf-8") as f:
        f.write(f'model_checkpoint_path: "{base}"\nall_model_checkpoint_paths: "{base}"\n')
    return prefix


def bert_config(
    vocab_size: int,
    *,
    hidden_size: int = 32,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 512,
    embedding_size: int | None = None,
) -> dict:
    """A ``bert_config.json`` dictionary (Google's keys); ``embedding_size`` only for ALBERT."""
    if hidden_size % num_attention_heads:
        raise ValueError(f"hidden_size {hidden_size} is not a multiple of num_attention_heads {num_attention_heads}")
    config = {
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": intermediate_size or 4 * hidden_size,
        "max_position_embeddings": max_position_embeddings,
        "num_attention_heads": num_attention_heads,
        "num_hidden_layers": num_hidden_layers,
        "type_vocab_size": 2,
        "vocab_size": vocab_size,
    }
    if embedding_size is not None:
        config["embedding_size"] = embedding_size
    return config


def random_variables(config: Mapping, model: str = "bert", seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 weights for ``config`` under Google's checkpoint names for ``model``.

    ``model`` is ``bert`` (also ``roberta``: RoBERTa-wwm checkpoints are BERT
    format), ``albert`` (one shared layer group, factorised embeddings of
    ``config["embedding_size"]``) or ``nezha`` (BERT names, no position
    embeddings). Every array is drawn independently from NumPy's generator
    seeded with ``seed``, so no two layers share weights.
    """
    model = model.lower()
    if model not in MODEL_TYPES:
        raise ValueError(f"model must be one of {', '.join(MODEL_TYPES)}, not {model!r}")
    rng = np.random.default_rng(seed)
    hidden, inter = int(config["hidden_size"]), int(config["intermediate_size"])
    embed = int(config.get("embedding_size") or hidden) if model == "albert" else hidden
    vocab, positions = int(config["vocab_size"]), int(config["max_position_embeddings"])
    types = int(config.get("type_vocab_size", 2))
    out: dict[str, np.ndarray] = {}

    def dense(name: str, n_in: int, n_out: int) -> None:
        out[f"{name}/kernel"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_out))
        out[f"{name}/bias"] = rng.normal(0.0, 0.02, (n_out,))

    def layer_norm(name: str, size: int) -> None:
        out[f"{name}/beta"] = rng.normal(0.0, 0.02, (size,))
        out[f"{name}/gamma"] = 1.0 + rng.normal(0.0, 0.05, (size,))

    out["bert/embeddings/word_embeddings"] = rng.normal(0.0, 0.5, (vocab, embed))
    out["bert/embeddings/token_type_embeddings"] = rng.normal(0.0, 0.1, (types, embed))
    if model != "nezha":
        out["bert/embeddings/position_embeddings"] = rng.normal(0.0, 0.1, (positions, embed))
    layer_norm("bert/embeddings/LayerNorm", embed)
    if model == "albert":
        dense("bert/encoder/embedding_hidden_mapping_in", embed, hidden)
        group = "bert/encoder/transformer/group_0/inner_group_0/"
        for part in ("query", "key", "value"):
            dense(f"{group}attention_1/self/{part}", hidden, hidden)
        dense(f"{group}attention_1/output/dense", hidden, hidden)
        layer_norm(f"{group}LayerNorm", hidden)
        dense(f"{group}ffn_1/intermediate/dense", hidden, inter)
        dense(f"{group}ffn_1/intermediate/output/dense", inter, hidden)
        layer_norm(f"{group}LayerNorm_1", hidden)
    else:
        for i in range(int(config["num_hidden_layers"])):
            layer = f"bert/encoder/layer_{i}/"
            for part in ("query", "key", "value"):
                dense(f"{layer}attention/self/{part}", hidden, hidden)
            dense(f"{layer}attention/output/dense", hidden, hidden)
            layer_norm(f"{layer}attention/output/LayerNorm", hidden)
            dense(f"{layer}intermediate/dense", hidden, inter)
            dense(f"{layer}output/dense", inter, hidden)
            layer_norm(f"{layer}output/LayerNorm", hidden)
    dense("bert/pooler/dense", hidden, hidden)
    dense("cls/predictions/transform/dense", hidden, embed)
    layer_norm("cls/predictions/transform/LayerNorm", embed)
    out["cls/predictions/output_bias"] = rng.normal(0.0, 0.02, (vocab,))
    out["cls/seq_relationship/output_weights"] = rng.normal(0.0, 0.02, (2, hidden))
    out["cls/seq_relationship/output_bias"] = rng.normal(0.0, 0.02, (2,))
    return {name: value.astype(np.float32) for name, value in out.items()}


def vocabulary(characters: Iterable[str], extra: Sequence[str] = ()) -> list[str]:
    """A BERT vocabulary: the special tokens, ``[unused1..99]``, ``extra``, then ``characters`` in order.

    ``[PAD]`` is id 0 (bert4keras masks id 0 as padding), as in Google's vocabularies.
    """
    tokens = [SPECIAL_TOKENS[0], *(f"[unused{i}]" for i in range(1, 100)), *SPECIAL_TOKENS[1:]]
    seen = set(tokens)
    for token in [*extra, *characters]:
        if token and not token.isspace() and token not in seen:
            seen.add(token)
            tokens.append(token)
    return tokens


def chinese_vocabulary() -> list[str]:
    """A vocabulary shaped like Google's Chinese BERT one (lower case, 21,000 tokens).

    ``[PAD]``, ``[unused1..99]``, the special tokens, printable ASCII and
    ``##`` continuations of letters and digits, CJK and full-width
    punctuation, and every CJK ideograph U+4E00..U+9FA5 (the Extension A/B
    ideographs are left out, as in Google's).
    """
    ascii_tokens = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    pieces = [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    punctuation = list("，。、；：？！“”‘’（）《》【】…—·～「」『』〈〉％＃＆＊＋－／＝＠｜")
    han = [chr(c) for c in range(0x4E00, 0x9FA6)]
    return vocabulary(han, extra=[*ascii_tokens, *pieces, *punctuation])


def write_vocab(path: str, tokens: Sequence[str]) -> None:
    """Write a ``vocab.txt``: one token a line, in id order."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{token}\n" for token in tokens))


def write_random_model(
    directory: str | os.PathLike,
    vocab: Sequence[str],
    *,
    model: str = "bert",
    seed: int = 0,
    **config_options,
) -> dict[str, np.ndarray]:
    """Write a random model folder: config, ``*_model.ckpt.*`` and ``vocab.txt``; return its weights.

    The folder looks like a Google download: ``bert_config.json`` +
    ``bert_model.ckpt.*`` (``albert_config.json`` + ``albert_model.ckpt.*`` for
    ALBERT) + ``vocab.txt``. ``config_options`` go to :func:`bert_config`
    (``hidden_size``, ``num_hidden_layers``, ``max_position_embeddings``...).
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    if model == "albert":
        config_options.setdefault("embedding_size", max(8, config_options.get("hidden_size", 32) // 2))
    config = bert_config(len(vocab), **config_options)
    variables = random_variables(config, model, seed)
    stem = "albert" if model == "albert" else "bert"
    with open(os.path.join(directory, f"{stem}_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    write_vocab(os.path.join(directory, "vocab.txt"), vocab)
    write_checkpoint(os.path.join(directory, f"{stem}_model.ckpt"), variables)
    return variables
