"""mintext.pretrain end to end on a tiny model: the folder loads in bert4keras and parse, the MLM head under
Google's names, the curve, resume = uninterrupted run, atomic saves, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from synthetic import make_corpus

import mintext
from mintext.errors import InputError, UsageError
from mintext.pretraining import folder
from mintext.pretraining.pipeline import PretrainOptions, parse_duration

pytestmark = [pytest.mark.bert, pytest.mark.usefixtures("bert_runtime")]
pytest_plugins = ["bert_fixtures"]

MICRO = dict(layers=1, hidden=16, heads=2, seq_len=16, batch_size=4, jit_compile=False, save_every=3,
             learning_rate=3e-3)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    raw, _ = make_corpus(120, seed=4)
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(raw) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "model"
    result = mintext.pretrain([corpus], out, steps=7, **MICRO)
    return out, result


def test_the_folder_is_a_google_model_with_the_run_state_and_a_curve(trained):
    out, result = trained
    assert sorted(os.listdir(out)) == sorted(["bert_config.json", "bert_model.ckpt.index",
                                              "bert_model.ckpt.data-00000-of-00001", "checkpoint", "vocab.txt",
                                              "optimizer.npz", "pretrain.json", "training.tsv"])
    path, curve = result
    assert path == str(out)
    assert curve["step"].tolist() == [3, 6, 7]  # every --save-every steps, and at the end
    assert (curve["held_out_accuracy"].between(0, 1)).all() and (curve["held_out_loss"] > 0).all()
    state = json.loads((out / "pretrain.json").read_text())
    assert state["run"]["step"] == 7 and state["run"]["position"] == 7 * 4
    config = json.loads((out / "bert_config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["max_position_embeddings"]) == (1, 16, 16)


def test_bert4keras_with_mlm_reads_the_head_and_predicts_what_the_trainer_predicts(trained):
    """Oracle: bert4keras's own full MLM model (with_mlm=True) built from the saved folder."""
    from mintext.parse.tfenv import import_bert4keras
    from mintext.pretraining.model import Trainer

    out, _ = trained
    models, _ = import_bert4keras()
    keras_model = models.build_transformer_model(str(out / "bert_config.json"), str(out / "bert_model.ckpt"),
                                                 with_mlm=True)
    config = json.loads((out / "bert_config.json").read_text())
    trainer = Trainer(config, jit_compile=False)
    trainer.restore(folder.read_weights(str(out)))
    rng = np.random.default_rng(0)
    ids = rng.integers(104, config["vocab_size"], (3, 16)).astype(np.int32)
    positions = np.array([[1, 5, 9], [2, 3, 4], [14, 7, 1]], np.int32)
    probabilities = keras_model.predict([ids, np.zeros_like(ids)], verbose=0)
    expected = np.take_along_axis(probabilities, positions[:, :, None], axis=1)
    logits = trainer._masked_logits(ids, positions, training=False).numpy()
    ours = np.exp(logits - logits.max(-1, keepdims=True))
    ours /= ours.sum(-1, keepdims=True)
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6)


def test_parse_loads_the_folder(trained):
    from mintext.parse.model import load_encoder

    encoder = load_encoder(trained[0])
    assert encoder.max_tokens == 14 and encoder.num_layers == 1


def test_a_run_interrupted_then_resumed_ends_where_an_uninterrupted_run_ends(corpus, tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    mintext.pretrain([corpus], whole, steps=8, **MICRO)
    from mintext.pretraining.model import Trainer

    real, calls = Trainer.train_step, []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 5:  # Ctrl-C during step 5: the checkpoint of step 3 is the last one
            raise KeyboardInterrupt
        return real(self, *args)

    half = tmp_path / "half"
    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "train_step", interrupted)
        with pytest.raises(KeyboardInterrupt):
            mintext.pretrain([corpus], half, steps=8, **MICRO)
    assert json.loads((half / "pretrain.json").read_text())["run"]["step"] == 3
    resumed = mintext.pretrain([corpus], half, resume=half, steps=8, **MICRO)
    assert resumed.curve["step"].tolist() == [3, 6, 8]
    a, b = folder.read_weights(str(whole)), folder.read_weights(str(half))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-6, err_msg=name)
    oa, ob = folder.read_optimizer(str(whole)), folder.read_optimizer(str(half))
    assert int(oa["step"]) == int(ob["step"]) == 8
    np.testing.assert_allclose(oa["v/bert/embeddings/word_embeddings"], ob["v/bert/embeddings/word_embeddings"],
                               rtol=1e-3, atol=1e-9)
    assert json.loads((half / "pretrain.json").read_text())["run"]["position"] == 32
    assert (whole / "training.tsv").read_text().split("\n")[0] == (half / "training.tsv").read_text().split("\n")[0]


def test_a_failed_save_keeps_the_previous_checkpoint_whole(corpus, tmp_path, monkeypatch):
    out = tmp_path / "model"
    mintext.pretrain([corpus], out, steps=3, **MICRO)
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    real = folder._write_files

    def full_disk(directory, *args):
        real(directory, *args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folder, "_write_files", full_disk)
    with pytest.raises(InputError, match="No space left on device; the previous checkpoint there is intact"):
        mintext.pretrain([corpus], out, resume=out, steps=6, **MICRO)
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # no temporary folder left


def test_whole_word_masking_trains_from_a_lexicon(corpus, tmp_path):
    lexicon = tmp_path / "lexicon.tsv"
    from click.testing import CliRunner

    from cli.main import cli

    result = CliRunner().invoke(cli, ["discover", corpus, "-q", "-o", str(lexicon)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "wwm"
    curve = mintext.pretrain([corpus], out, steps=3, whole_word=str(lexicon), **MICRO).curve
    assert len(curve) == 1 and json.loads((out / "pretrain.json").read_text())["options"]["whole_word"] == str(lexicon)


def test_the_output_and_the_resumed_folder_are_checked(corpus, tmp_path, trained):
    with pytest.raises(UsageError, match="already holds a model"):
        mintext.pretrain([corpus], trained[0], steps=1, **MICRO)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="is not a mintext pretrain output"):
        mintext.pretrain([corpus], tmp_path / "new", resume=plain, steps=1, **MICRO)
    with pytest.raises(UsageError, match="was made with another size"):
        mintext.pretrain([corpus], tmp_path / "new", resume=trained[0], steps=9, **{**MICRO, "hidden": 32})


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("45m", 2700), ("1.5h", 5400), ("1h30m", 5400), ("12", 12)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "abc", "5x", "m"])
def test_bad_durations(bad):
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(bad)


def test_options_refuse_impossible_values():
    with pytest.raises(UsageError, match="--time must be more than 0"):
        PretrainOptions(time_limit=0).check()
    with pytest.raises(UsageError, match="not a multiple"):
        PretrainOptions(hidden=30, heads=4).check()


def test_mixed_precision_trains_in_bfloat16_with_float32_weights():
    """The GPU path (mixed_bfloat16), run on the CPU: layers compute in bfloat16, the loss falls, weights stay float32."""
    from mintext.parse.checkpoint import bert_config
    from mintext.pretraining.model import Trainer

    config = bert_config(300, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=16)
    trainer = Trainer({**config, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}, jit_compile=False,
                      mixed=True)
    assert "bfloat16" in {layer.compute_dtype for layer in trainer.transformer.model.layers}
    rng = np.random.default_rng(0)
    ids = rng.integers(105, 300, (4, 16)).astype(np.int32)
    positions = np.sort(rng.integers(1, 15, (4, 3)), 1).astype(np.int32)
    labels, weights = rng.integers(105, 300, (4, 3)).astype(np.int32), np.ones((4, 3), np.float32)
    losses = [trainer.train_step(ids, positions, labels, weights, 1e-2)[0] for _ in range(4)]
    assert losses[-1] < losses[0]
    assert {v.dtype for v in trainer.values().values()} == {np.dtype(np.float32)}
