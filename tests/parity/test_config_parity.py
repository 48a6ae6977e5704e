"""Config parity with Keras 3: a config Keras writes is one kiln reads, and back.

Each model is built in Keras, its `get_config()` goes through JSON, kiln rebuilds it with
`kiln.Model.from_config` / `kiln.Sequential.from_config`, Keras's weights are copied with
`set_weights`, and the predictions agree within 1e-5. Then kiln's config goes the other way,
into Keras's `from_config`.
"""

import json

import keras
import numpy as np
import pytest

import kiln

RNG = np.random.default_rng(0)


def _sequential(k):
    return k.Sequential([
        k.Input((8, 8, 3)), k.layers.Conv2D(4, 3, activation="relu", name="conv"),
        k.layers.BatchNormalization(name="bn"), k.layers.MaxPooling2D(2),
        k.layers.Flatten(), k.layers.Dropout(0.2), k.layers.Dense(3, activation="softmax"),
    ], name="seq")


def _functional(k):
    a = k.Input((6,), name="tokens", dtype="int32")
    b = k.Input((5, 4), name="series")
    emb = k.layers.Embedding(20, 4, name="emb")(a)
    att = k.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(emb, emb)
    seq = k.layers.LSTM(4, name="lstm")(b)
    shared = k.layers.Dense(4, activation="tanh", name="shared")
    left, right = shared(k.layers.GlobalAveragePooling1D()(att)), shared(seq)
    inner_in = k.Input((4,), name="inner_in")
    inner = k.Model(inner_in, k.layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    merged = k.layers.Concatenate(name="concat")([left, right])
    out1 = k.layers.Dense(1, name="head")(k.layers.Dropout(0.1)(merged))
    out2 = inner(right)
    return k.Model([a, b], [out1, out2], name="multi")


def _sequence(k):
    layers = k.layers
    return k.Sequential([
        k.Input((6,), dtype="int32"), layers.Embedding(10, 4, mask_zero=True),
        layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
        layers.GRU(3, return_sequences=True), layers.Conv1D(2, 2, padding="same"),
        layers.LayerNormalization(), layers.SimpleRNN(2),
        layers.Dense(2, kernel_regularizer="l2", kernel_constraint=k.constraints.MaxNorm(2.0)),
        layers.Activation("gelu"), layers.UnitNormalization(),
    ], name="sequence")


def _inputs(name):
    if name == "sequence":
        tokens = RNG.integers(0, 10, size=(4, 6)).astype("int32")
        tokens[:, -2:] = 0  # padding, masked by the Embedding
        return tokens
    if name == "sequential":
        return RNG.normal(size=(4, 8, 8, 3)).astype("float32")
    return [RNG.integers(0, 20, size=(4, 6)).astype("int32"),
            RNG.normal(size=(4, 5, 4)).astype("float32")]


CASES = [("sequential", _sequential), ("sequence", _sequence), ("functional", _functional)]


def _as_list(out):
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("name, build", CASES)
def test_keras_config_rebuilds_in_kiln(name, build):
    keras_model = build(keras)
    config = json.loads(json.dumps(keras_model.get_config()))
    cls = kiln.Model if name == "functional" else kiln.Sequential
    kiln_model = cls.from_config(config)
    kiln_model.set_weights(keras_model.get_weights())
    x = _inputs(name)
    for want, got in zip(_as_list(keras_model.predict(x, verbose=0)),
                         _as_list(kiln_model.predict(x, verbose=0))):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name, build", CASES)
def test_kiln_config_rebuilds_in_keras(name, build):
    kiln_model = build(kiln)
    config = json.loads(json.dumps(kiln_model.get_config()))
    cls = keras.Model if name == "functional" else keras.Sequential
    keras_model = cls.from_config(config)
    # Layer by layer: Keras orders a functional model's layers by graph depth, kiln by
    # execution order, so the flat weight lists of the two may differ in order.
    for layer in kiln_model.layers:
        keras_model.get_layer(layer.name).set_weights(layer.get_weights())
    x = _inputs(name)
    for want, got in zip(_as_list(kiln_model.predict(x, verbose=0)),
                         _as_list(keras_model.predict(x, verbose=0))):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_serialized_layer_matches_keras_format():
    want = keras.saving.serialize_keras_object(keras.layers.Dense(2, name="d"))
    got = kiln.saving.serialize_keras_object(kiln.layers.Dense(2, name="d"))
    assert {k: got[k] for k in ("module", "class_name", "registered_name")} == \
        {k: want[k] for k in ("module", "class_name", "registered_name")}
    assert set(got["config"]) <= set(want["config"])
