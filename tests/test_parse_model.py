"""The checkpoint writer, loading through bert4keras, and the compiled read-out function."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from mintext.errors import InputError, UsageError
from mintext.parse.checkpoint import bert_config, random_variables, write_checkpoint
from mintext.parse.model import load_encoder
from mintext.parse.tfenv import import_bert4keras, import_tensorflow
from mintext.parse.tokens import atoms

pytestmark = [pytest.mark.bert, pytest.mark.usefixtures("bert_runtime")]
pytest_plugins = ["bert_fixtures"]  # tiny_bert, tiny_albert, bert_encoder... (session-scoped)


def _build(directory, model, **kwargs):
    models, _ = import_bert4keras()
    config = next(directory.glob("*config*.json"))
    checkpoint = next(directory.glob("*.index")).with_suffix("")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf-keras: "The initializer TruncatedNormal is unseeded..."
        return models.build_transformer_model(str(config), str(checkpoint), model=model, return_keras_model=False,
                                              **kwargs)


@pytest.mark.parametrize("model, fixture", [("bert", "tiny_bert"), ("albert", "tiny_albert"), ("nezha", "tiny_nezha")])
def test_bert4keras_loads_every_weight_we_wrote(model, fixture, request, tmp_path):
    directory = request.getfixturevalue(fixture)
    config = json.loads(next(directory.glob("*config*.json")).read_text())
    expected = random_variables(config, model, seed={"bert": 1, "albert": 2, "nezha": 3}[model])
    tf = import_tensorflow()
    checkpoint = str(next(directory.glob("*.index")).with_suffix(""))
    assert {name for name, _ in tf.train.list_variables(checkpoint)} == set(expected)

    transformer = _build(directory, model, with_pool=True, with_nsp=True, with_mlm=True)
    mapping = transformer.variable_mapping()
    checked = set()
    for layer_name, names in mapping.items():
        if layer_name not in transformer.layers:
            continue
        for weight, name in zip(transformer.layers[layer_name].trainable_weights, names, strict=False):
            value = expected[name].T if name == "cls/seq_relationship/output_weights" else expected[name]
            np.testing.assert_array_equal(weight.numpy(), value, err_msg=name)
            checked.add(name)
    assert checked == set(expected)  # every variable written was loaded into some layer


def test_layers_are_not_copies_of_each_other(tiny_bert):
    config = json.loads((tiny_bert / "bert_config.json").read_text())
    weights = random_variables(config, "bert", seed=1)
    first = weights["bert/encoder/layer_0/attention/self/query/kernel"]
    second = weights["bert/encoder/layer_1/attention/self/query/kernel"]
    assert not np.allclose(first, second)


def test_write_checkpoint_round_trip(tmp_path):
    tf = import_tensorflow()
    values = {"a/b": np.arange(6, dtype=np.float32).reshape(2, 3), "c": np.array([1.5], dtype=np.float32)}
    prefix = write_checkpoint(tmp_path / "m.ckpt", values)
    for name, value in values.items():
        np.testing.assert_array_equal(tf.train.load_variable(prefix, name), value)
    assert (tmp_path / "checkpoint").read_text().startswith('model_checkpoint_path: "m.ckpt"')


@pytest.mark.parametrize("fixture, model", [("tiny_bert", "bert"), ("tiny_albert", "albert"), ("tiny_nezha", "nezha")])
@pytest.mark.parametrize("layer", [1, 2])
def test_read_out_equals_the_whole_model(fixture, model, layer, request):
    """The compiled function (last layer only at the read positions) matches bert4keras's full model."""
    directory = request.getfixturevalue(fixture)
    encoder = load_encoder(directory, model, layer)
    reference = _build(directory, model, num_hidden_layers=layer).model
    rng = np.random.default_rng(layer)
    ids = np.zeros((4, 12), dtype=np.int32)
    lengths = [12, 7, 3, 10]
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(200, 20000, length)
        ids[row, 0], ids[row, length - 1] = encoder.cls_id, encoder.sep_id
        ids[row, rng.integers(1, length - 1)] = encoder.mask_id
    positions = np.array([[1, 5], [2, 3], [1, 1], [9, 4]], dtype=np.int32)
    ours = encoder.hidden_at(ids, positions)
    tf = import_tensorflow()
    full = reference([tf.constant(ids), tf.zeros_like(ids)], training=False).numpy()
    expected = np.take_along_axis(full, positions[:, :, None], axis=1)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    # a row alone, without padding, gives the same vectors as in the padded batch
    alone = encoder.hidden_at(ids[1:2, :7], positions[1:2])
    np.testing.assert_allclose(alone, ours[1:2], rtol=1e-5, atol=1e-5)


def test_layers_differ(tiny_bert):
    ids = np.array([[0, 3000, 3001, 0, 0]], dtype=np.int32)
    first, last = load_encoder(tiny_bert, layer=1), load_encoder(tiny_bert, layer=2)
    ids[0, 0], ids[0, 3] = first.cls_id, first.sep_id
    positions = np.array([[1, 2]], dtype=np.int32)
    assert not np.allclose(first.hidden_at(ids[:, :4], positions), last.hidden_at(ids[:, :4], positions))


def test_token_ids_follow_bert4keras_tokenizer(bert_encoder, tiny_bert):
    _, tokenizers = import_bert4keras()
    tokenizer = tokenizers.Tokenizer(str(tiny_bert / "vocab.txt"), do_lower_case=True)
    for text in ["计算机的鼠标有什么用途？", "我爱iPhone15和ABC", "２０１９年，Ｈｅｌｌｏ", "𠀀字 x\u00e9z", "a-b,c"]:
        ours = [t for atom in atoms(text) for t in bert_encoder.token_ids(atom)]
        assert ours == tokenizer.tokens_to_ids(tokenizer.tokenize(text)[1:-1]), text
    assert bert_encoder.lowercase
    assert bert_encoder.token_ids("\u200b") == [bert_encoder.unk_id]  # dropped by BERT, kept by us as [UNK]


def test_encoder_facts(bert_encoder, albert_encoder):
    assert (bert_encoder.layer, bert_encoder.num_layers, bert_encoder.hidden_size, bert_encoder.max_tokens) == (2, 2, 32, 62)
    assert albert_encoder.model_type == "albert" and albert_encoder.layer == 2
    assert "layer=2/2" in repr(bert_encoder)


def test_layer_out_of_range(tiny_bert):
    with pytest.raises(UsageError, match=r"^--layer must be between 1 and 2 for this model"):
        load_encoder(tiny_bert, layer=3)


def test_config_errors(tmp_path):
    (tmp_path / "bert_config.json").write_text('{"hidden_size": 32,')
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    write_checkpoint(tmp_path / "bert_model.ckpt", {"x": np.zeros(1, np.float32)})
    with pytest.raises(InputError, match=r"bert_config.json is not valid JSON \(Expecting"):
        load_encoder(tmp_path)
    (tmp_path / "bert_config.json").write_text(json.dumps({"hidden_size": 32}))
    with pytest.raises(InputError, match=r"lacks num_hidden_layers, num_attention_heads, intermediate_size, vocab_size"):
        load_encoder(tmp_path)
    (tmp_path / "bert_config.json").write_text(json.dumps({**bert_config(5), "hidden_size": "big"}))
    with pytest.raises(InputError, match=r"hidden_size must be a positive integer, not 'big'"):
        load_encoder(tmp_path)
    (tmp_path / "bert_config.json").write_text(json.dumps(bert_config(5)))
    with pytest.raises(InputError, match=r"bert_model.ckpt is not a BERT-family checkpoint"):
        load_encoder(tmp_path)


def test_tensorflow_imported_with_keras_3_first_is_a_one_line_error():
    """A notebook that imported tensorflow before mintext.parse gets the fix, not a Keras traceback."""
    import os
    import subprocess
    import sys

    code = ("import tensorflow\n"
            "from mintext.errors import UsageError\n"
            "from mintext.parse.tfenv import import_bert4keras\n"
            "try:\n    import_bert4keras()\nexcept UsageError as err:\n    print('UsageError:', err)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_USE_LEGACY_KERAS", "TF_KERAS")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    assert "UsageError: TensorFlow runs with Keras 3 here" in done.stdout
    assert "TF_USE_LEGACY_KERAS=1" in done.stdout
