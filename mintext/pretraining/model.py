"""The model being trained: a bert4keras BERT encoder and a masked-language-model head at the masked positions.

:class:`Trainer` builds the encoder with ``build_transformer_model(...,
with_mlm=False)`` and adds Google's MLM head (dense + GELU, layer norm, the
tied word embeddings, an output bias) as its own variables, computed only at
the masked positions: with a character vocabulary of thousands of tokens the
full-vocabulary output at every position costs as much as the whole encoder of
a small model. The variables carry Google's checkpoint names (bert4keras's
``variable_mapping`` for the encoder; ``cls/predictions/transform/dense/*``,
``cls/predictions/transform/LayerNorm/*``, ``cls/predictions/output_bias`` for
the head), so a saved folder loads in bert4keras with ``with_mlm=True``.

The optimiser is Adam with decoupled weight decay (AdamW, 0.01 on matrices, as
BERT), gradients clipped to norm 1, and a learning rate set per step by the
caller (warm-up then linear decay, :func:`learning_rate`). Its moments are plain
variables, saved with the run's state so that a resumed run continues the very
same optimisation. One step is one compiled ``tf.function`` (``jit_compile``
with XLA where it helps).

Importing this module does not import TensorFlow; building a :class:`Trainer` does.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping

import numpy as np

from mintext.parse.tfenv import import_bert4keras, import_tensorflow

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-6
WEIGHT_DECAY = 0.01
CLIP_NORM = 1.0
HEAD_NAMES = ("cls/predictions/transform/dense/kernel", "cls/predictions/transform/dense/bias",
              "cls/predictions/transform/LayerNorm/beta", "cls/predictions/transform/LayerNorm/gamma",
              "cls/predictions/output_bias")


def learning_rate(peak: float, step: int, warmup: int, progress: float) -> float:
    """Linear warm-up over ``warmup`` steps to ``peak``, then linear decay to 0 as ``progress`` goes 0 -> 1."""
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    return peak * warm * max(0.0, 1.0 - progress)


def use_mixed_precision(tf) -> bool:
    """True where a GPU is visible that computes in bfloat16 (compute capability 8 or more)."""
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if details.get("compute_capability", (0, 0))[0] >= 8:
            return True
    return False


class Trainer:
    """The encoder, the MLM head, the optimiser state and the compiled train and score steps."""

    def __init__(self, config: Mapping, seed: int = 0, jit_compile: bool = True, mixed: bool | None = None) -> None:
        tf = import_tensorflow()
        models, _ = import_bert4keras()
        self.tf = tf
        self.config = dict(config)
        tf.random.set_seed(seed)
        self.mixed = use_mixed_precision(tf) if mixed is None else mixed
        if self.mixed:
            tf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.transformer = models.build_transformer_model(model="bert", with_mlm=False, return_keras_model=False,
                                                              **self.config)
        if self.mixed:
            tf.keras.mixed_precision.set_global_policy("float32")
        self.variables = self._named_variables(seed)
        self.names = sorted(self.variables)
        self._initialise(seed)
        self.trainable = [self.variables[n] for n in self.names]
        self.decayed = [self.variables[n].shape.rank == 2 for n in self.names]
        self.moments = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.trainable]
        self.squares = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.trainable]
        self.step_count = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._train = tf.function(self._train_step, jit_compile=jit_compile, reduce_retracing=True)
        self._score = tf.function(self._score_step, jit_compile=jit_compile, reduce_retracing=True)

    # ------------------------------------------------------------------ variables and names

    def _named_variables(self, seed: int) -> dict:
        """Google's checkpoint name -> variable, for the encoder (bert4keras's mapping) and the head (new)."""
        tf = self.tf
        named = {}
        layers = self.transformer.layers
        for layer_name, names in self.transformer.variable_mapping().items():
            if layer_name in layers:
                for name, weight in zip(names, layers[layer_name].trainable_weights, strict=False):
                    named[name] = weight
        covered = {id(v) for v in named.values()}
        missed = [v.name for v in self.transformer.model.trainable_weights if id(v) not in covered]
        if missed:
            raise RuntimeError(f"weights without a checkpoint name: {missed}")
        hidden, embed = int(self.config["hidden_size"]), int(self.config.get("embedding_size") or self.config["hidden_size"])
        vocab = int(self.config["vocab_size"])
        init = tf.keras.initializers.TruncatedNormal(stddev=float(self.config.get("initializer_range", 0.02)), seed=seed)
        head = {
            HEAD_NAMES[0]: init((hidden, embed)),
            HEAD_NAMES[1]: tf.zeros([embed]),
            HEAD_NAMES[2]: tf.zeros([embed]),
            HEAD_NAMES[3]: tf.ones([embed]),
            HEAD_NAMES[4]: tf.zeros([vocab]),
        }
        for name, value in head.items():
            named[name] = tf.Variable(value, name=name.replace("/", "_"))
        return named

    def _initialise(self, seed: int) -> None:
        """BERT's initialisation, drawn from NumPy per variable name: the same weights for the same seed, always.

        Matrices and embeddings: a normal of deviation ``initializer_range``
        truncated at two deviations; biases and layer-norm offsets 0, scales 1.
        (Keras's own initialisers depend on how many were drawn before in the process.)
        """
        deviation = float(self.config.get("initializer_range", 0.02))
        for name in self.names:
            variable = self.variables[name]
            shape = tuple(variable.shape)
            if name.endswith("gamma"):
                value = np.ones(shape)
            elif name.endswith(("beta", "bias")):
                value = np.zeros(shape)
            else:
                rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
                value = rng.normal(0.0, 1.0, shape)
                while (outside := np.abs(value) > 2).any():
                    value[outside] = rng.normal(0.0, 1.0, int(outside.sum()))
                value *= deviation
            variable.assign(value.astype(np.float32))

    def values(self) -> dict[str, np.ndarray]:
        """Every weight as a float32 NumPy array under its checkpoint name."""
        return {name: np.asarray(self.variables[name].numpy(), dtype=np.float32) for name in self.names}

    def optimizer_state(self) -> dict[str, np.ndarray]:
        """The Adam moments (``m/NAME``, ``v/NAME``) and the step count."""
        state = {"step": np.asarray(int(self.step_count.numpy()))}
        for name, m, v in zip(self.names, self.moments, self.squares, strict=True):
            state[f"m/{name}"] = m.numpy()
            state[f"v/{name}"] = v.numpy()
        return state

    def restore(self, weights: Mapping[str, np.ndarray], optimizer: Mapping[str, np.ndarray] | None = None) -> None:
        """Set the weights (and the optimiser state) from arrays named as :meth:`values` and :meth:`optimizer_state` name them."""
        for name in self.names:
            self.variables[name].assign(np.asarray(weights[name], dtype=np.float32))
        if optimizer is not None:
            for name, m, v in zip(self.names, self.moments, self.squares, strict=True):
                m.assign(optimizer[f"m/{name}"])
                v.assign(optimizer[f"v/{name}"])
            self.step_count.assign(int(optimizer["step"]))

    # ------------------------------------------------------------------ the computation

    def _masked_logits(self, token_ids, positions, training: bool):
        tf = self.tf
        hidden = self.transformer.model([token_ids, tf.zeros_like(token_ids)], training=training)
        x = tf.cast(tf.gather(hidden, positions, batch_dims=1), tf.float32)  # (batch, masked, hidden)
        v = self.variables
        x = tf.matmul(x, v[HEAD_NAMES[0]]) + v[HEAD_NAMES[1]]
        x = 0.5 * x * (1.0 + tf.math.erf(x / math.sqrt(2.0)))  # bert4keras's gelu
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        x = (x - mean) * tf.math.rsqrt(variance + 1e-12) * v[HEAD_NAMES[3]] + v[HEAD_NAMES[2]]
        table = tf.cast(v["bert/embeddings/word_embeddings"], tf.float32)
        return tf.matmul(x, table, transpose_b=True) + v[HEAD_NAMES[4]]

    def _losses(self, token_ids, positions, labels, weights, training: bool):
        tf = self.tf
        logits = self._masked_logits(token_ids, positions, training)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        hits = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), tf.float32)
        return tf.reduce_sum(losses * weights), tf.reduce_sum(hits * weights), tf.reduce_sum(weights)

    def _train_step(self, token_ids, positions, labels, weights, rate):
        tf = self.tf
        with tf.GradientTape() as tape:
            total, hits, count = self._losses(token_ids, positions, labels, weights, True)
            loss = total / tf.maximum(count, 1.0)
        grads = tape.gradient(loss, self.trainable)
        grads = [tf.convert_to_tensor(g) for g in grads]
        grads, _ = tf.clip_by_global_norm(grads, CLIP_NORM)
        self.step_count.assign_add(1)
        t = tf.cast(self.step_count, tf.float32)
        correction = tf.sqrt(1.0 - BETA_2**t) / (1.0 - BETA_1**t)
        for var, grad, m, s, decay in zip(self.trainable, grads, self.moments, self.squares, self.decayed, strict=True):
            m.assign(BETA_1 * m + (1.0 - BETA_1) * grad)
            s.assign(BETA_2 * s + (1.0 - BETA_2) * tf.square(grad))
            update = correction * m / (tf.sqrt(s) + EPSILON)
            if decay:
                update += WEIGHT_DECAY * var
            var.assign_sub(rate * update)
        return loss, hits, count

    def _score_step(self, token_ids, positions, labels, weights):
        return self._losses(token_ids, positions, labels, weights, False)

    def train_step(self, token_ids: np.ndarray, positions: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                   rate: float) -> tuple[float, float, float]:
        """One optimisation step; returns (mean loss, correct predictions, masked tokens) of the batch."""
        loss, hits, count = self._train(token_ids, positions, labels, weights, self.tf.constant(rate, self.tf.float32))
        return float(loss), float(hits), float(count)

    def score(self, token_ids: np.ndarray, positions: np.ndarray, labels: np.ndarray,
              weights: np.ndarray) -> tuple[float, float, float]:
        """(summed loss, correct predictions, masked tokens) of a batch, without training."""
        total, hits, count = self._score(token_ids, positions, labels, weights)
        return float(total), float(hits), float(count)
