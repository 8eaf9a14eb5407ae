"""MLM pretraining speed: mintext's trainer against the loop a bert4keras user writes, same model, same run.

``python -m bench pretrain [--size=mini] [--seq-len=128] [--batch-size=64] [--steps=6] [--blocks=3]``

Data: the shipped demo corpus (``corpora/xiyouji.txt.gz``), its vocabulary
counted by ``mintext pretrain``'s own code (characters seen twice or more).

Reference: how bert4keras's examples train a masked language model: the
model built with ``build_transformer_model(config, with_mlm=True)`` (softmax
over the whole vocabulary at every position), Keras ``compile`` with Adam and
sparse categorical cross-entropy, ``train_on_batch`` with the masked
positions as sample weights; one paragraph (line) a sample, cut to
``--seq-len`` and padded to the longest of its batch (``sequence_padding``).
It is timed twice: on those padded line batches (what a user does) and on
mintext's packed batches (same tokens as mintext, so the ratio there is the
trainer alone).

mintext: :class:`mintext.pretraining.model.Trainer` (logits at the masked
positions only, one XLA-compiled step with its own AdamW) on the packed
sequences of :mod:`mintext.pretraining.data` (no padding). Tokens per second
count text tokens only (no padding). Both sides run in ``--blocks``
interleaved blocks of ``--steps`` steps after a warm-up, so a change in the
machine's load hits both alike.

GFLOP/s: the training arithmetic of each side (3 x the forward multiply-adds x
2) over its time, next to a bare ``tf.matmul`` of the feed-forward's shapes
(``batch x seq-len`` rows, hidden -> 4 x hidden) timed in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import REPO

TARGET_RATIO = 2.0


def forward_macs(config: dict, seq_len: int, predicted: int) -> int:
    """Multiply-adds of one sequence's forward pass, the MLM output at ``predicted`` positions."""
    h, inter, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    layer = seq_len * (4 * h * h + 2 * h * inter) + 2 * seq_len * seq_len * h
    head = predicted * (h * h + h * vocab)
    return config["num_hidden_layers"] * layer + head


class Reference:
    """The bert4keras user's MLM: full-vocabulary softmax everywhere, Keras ``train_on_batch``."""

    def __init__(self, config: dict, rate: float) -> None:
        from mintext.parse.tfenv import import_bert4keras, import_tensorflow

        tf = import_tensorflow()
        models, _ = import_bert4keras()
        self.model = models.build_transformer_model(with_mlm=True, **config)
        self.model.compile(optimizer=tf.keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")

    def step(self, tokens: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
        return float(self.model.train_on_batch([tokens, np.zeros_like(tokens)], labels, sample_weight=weights))


def full_targets(batch) -> tuple[np.ndarray, np.ndarray]:
    """A masked batch's targets at every position (labels, 0/1 weights), as the reference's loss takes them."""
    labels = np.zeros_like(batch.token_ids)
    weights = np.zeros(batch.token_ids.shape, np.float32)
    rows, slots = np.nonzero(batch.weights)
    labels[rows, batch.positions[rows, slots]] = batch.labels[rows, slots]
    weights[rows, batch.positions[rows, slots]] = 1.0
    return labels, weights


def line_batches(lines: list[str], vocab, seq_len: int, batch_size: int, count: int):
    """Padded batches of one line a sample, as a bert4keras user builds them, masked like mintext's."""
    from mintext.pretraining.data import mask_batch

    rng = np.random.default_rng(3)
    rows = [[vocab.cls_id, *vocab.encode(line)[: seq_len - 2], vocab.sep_id] for line in lines if line.strip()]
    out = []
    for k in range(count):
        chunk = rows[k * batch_size:(k + 1) * batch_size]
        width = max(len(r) for r in chunk)
        tokens = np.zeros((batch_size, width), np.int32)
        for i, r in enumerate(chunk):
            tokens[i, :len(r)] = r
        groups = np.tile(np.arange(width, dtype=np.int32), (batch_size, 1))
        out.append(mask_batch(tokens, groups, vocab, rng))
    return out


def timed(function, batches) -> tuple[float, int]:
    started = time.perf_counter()
    for batch in batches:
        function(batch)
    return time.perf_counter() - started, int(sum(np.count_nonzero(b.token_ids) for b in batches))


def bare_matmul_gflops(tf, rows: int, hidden: int, repeats: int = 20) -> float:
    a, b = tf.random.normal([rows, hidden]), tf.random.normal([hidden, 4 * hidden])
    product = tf.function(lambda x, y: tf.matmul(x, y))
    product(a, b).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        out = product(a, b)
    out.numpy()
    return 2 * rows * hidden * 4 * hidden * repeats / (time.perf_counter() - started) / 1e9


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pretrain")
    parser.add_argument("--size", default="mini")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--blocks", type=int, default=3)
    options = parser.parse_args(args)

    from mintext.io.sources import Corpus
    from mintext.parse.checkpoint import bert_config
    from mintext.parse.tfenv import import_tensorflow
    from mintext.pretraining.data import SequenceStream, batch_rng, batches, mask_batch, max_masked
    from mintext.pretraining.model import Trainer
    from mintext.pretraining.pipeline import SIZES
    from mintext.pretraining.vocab import count_atoms, vocabulary_from_counts

    tf = import_tensorflow()
    corpus = Corpus([str(REPO / "corpora" / "xiyouji.txt.gz")])
    vocab = vocabulary_from_counts(count_atoms(corpus), 2)
    layers, hidden, heads = SIZES[options.size]
    config = bert_config(vocab.size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                         max_position_embeddings=options.seq_len)
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    total = options.steps * options.blocks + 2
    stream = SequenceStream(corpus, vocab, options.seq_len)
    stream.sequences_per_source = [10**9]  # one source: no interleaving to plan, no held-out slice needed here
    stream.held_out_count = 0
    packed = []
    for index, (tokens, groups) in enumerate(batches(stream._source_sequences(corpus.sources[0]), options.batch_size)):
        packed.append(mask_batch(tokens, groups, vocab, batch_rng(0, 0, index)))
        if len(packed) == total:
            break
    lines = [line for line in corpus if line.strip()]
    padded = line_batches(lines, vocab, options.seq_len, options.batch_size, total)
    print(f"{layers} layers x {hidden} hidden, {heads} heads, vocabulary {vocab.size}, sequences of {options.seq_len}, "
          f"batch {options.batch_size}; padded line batches are {np.mean([b.token_ids.shape[1] for b in padded]):.0f} "
          f"wide, {np.mean([np.count_nonzero(b.token_ids) / b.token_ids.size for b in padded]):.0%} text")

    ours = Trainer(config, jit_compile=True)
    reference = Reference(config, 1e-3)
    run_ours = lambda b: ours.train_step(b.token_ids, b.positions, b.labels, b.weights, 1e-3)  # noqa: E731
    run_reference = lambda b: reference.step(b.token_ids, *full_targets(b))  # noqa: E731
    for warm in (run_ours, run_reference):  # trace and compile before timing
        warm(packed[0])
        warm(packed[1])
    run_reference(padded[0])
    times = {"reference, padded lines": [0.0, 0], "reference, packed": [0.0, 0], "mintext, packed": [0.0, 0]}
    for block in range(options.blocks):
        part = slice(2 + block * options.steps, 2 + (block + 1) * options.steps)
        for name, function, data in (("reference, padded lines", run_reference, padded),
                                      ("reference, packed", run_reference, packed),
                                      ("mintext, packed", run_ours, packed)):
            seconds, tokens = timed(function, data[part])
            times[name][0] += seconds
            times[name][1] += tokens
    matmul = bare_matmul_gflops(tf, options.batch_size * options.seq_len, hidden)
    steps = options.steps * options.blocks
    ours_rate = times["mintext, packed"][1] / times["mintext, packed"][0]
    print(f"\n{'loop':<26}{'tokens/s':>10}{'mintext x':>11}{'GFLOP/s':>9}")
    for name, (seconds, tokens) in times.items():
        width = options.seq_len if "packed" in name else int(np.mean([b.token_ids.shape[1] for b in padded]))
        predicted = max_masked(options.seq_len) if name.startswith("mintext") else width
        flops = 6 * forward_macs(config, width, predicted) * options.batch_size * steps
        print(f"{name:<26}{tokens / seconds:>10.0f}{ours_rate / (tokens / seconds):>10.2f}x{flops / seconds / 1e9:>9.1f}")
    print(f"{'bare matmul, same shapes':<26}{'':>10}{'':>11}{matmul:>9.1f}")
    ratio = ours_rate / (times["reference, padded lines"][1] / times["reference, padded lines"][0])
    print(f"\nmintext / bert4keras user's loop: {ratio:.2f}x (target at least {TARGET_RATIO:.1f}x): "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
