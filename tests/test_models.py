"""Building models three ways: Sequential, functional and subclassed; weights and names."""

import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import layers


@pytest.fixture(autouse=True)
def fresh_names():
    kiln.backend.clear_session()


def test_sequential_from_input_builds_immediately():
    model = kiln.Sequential([kiln.Input((4,)), layers.Dense(3), layers.Dense(1)])
    assert model.built
    assert model.output_shape == (None, 1)
    assert [w.path for w in model.weights] == [
        "sequential/dense/kernel", "sequential/dense/bias",
        "sequential/dense_1/kernel", "sequential/dense_1/bias"]
    assert [l.name for l in model.layers] == ["dense", "dense_1"]


def test_sequential_legacy_input_shape_and_input_dim():
    a = kiln.Sequential([layers.Dense(2, input_shape=(5,))])
    b = kiln.Sequential()
    b.add(layers.Dense(2, input_dim=5))
    assert a.count_params() == b.count_params() == 12


def test_sequential_deferred_until_first_batch(rng):
    model = kiln.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    assert not model.built
    out = model.predict(rng.normal(size=(10, 7)), verbose=0)
    assert out.shape == (10, 2)
    assert model.layers[0].kernel.shape == (7, 3)


def test_sequential_pop_and_duplicate_names():
    model = kiln.Sequential([kiln.Input((3,)), layers.Dense(2, name="a"), layers.Dense(1)])
    model.pop()
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(1, name="a"))


def test_functional_multi_input_multi_output(rng):
    a = kiln.Input((4,), name="a")
    b = kiln.Input((2,), name="b")
    h = layers.Dense(8, activation="relu")(a)
    out1 = layers.Dense(1, activation="sigmoid", name="flag")(h)
    out2 = layers.Dense(3, name="amount")(layers.Dense(5)(b))
    model = kiln.Model([a, b], [out1, out2])
    assert model.output_names == ["flag", "amount"]
    assert model.input_names == ["a", "b"]
    xa, xb = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    p1, p2 = model.predict([xa, xb], verbose=0)
    assert p1.shape == (6, 1) and p2.shape == (6, 3)
    d1, d2 = model.predict({"a": xa, "b": xb}, verbose=0)
    np.testing.assert_allclose(d1, p1, rtol=1e-6)
    assert [w.path for w in model.weights][0] == "dense/kernel"


def test_functional_dict_outputs_and_missing_input_key(rng):
    x = kiln.Input((3,), name="x")
    model = kiln.Model({"x": x}, {"y": layers.Dense(2)(x), "z": layers.Dense(1)(x)})
    assert model.output_names == ["y", "z"]
    out = model.predict({"x": rng.normal(size=(4, 3))}, verbose=0)
    assert set(out) == {"y", "z"} and out["y"].shape == (4, 2)
    with pytest.raises(ValueError, match="missing keys"):
        model({"q": jnp.ones((1, 3))})


def test_functional_rejects_disconnected_graph():
    a, b = kiln.Input((3,)), kiln.Input((3,))
    with pytest.raises(ValueError, match="not one of the model's inputs"):
        kiln.Model(a, layers.Dense(1)(b))


class TwoLayer(kiln.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(4, activation="relu")
        self.out = layers.Dense(1)

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))


class Scale(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        return inputs * self.w


def test_subclassed_model_and_layer(rng):
    model = TwoLayer()
    assert model.name == "two_layer"
    model.build((None, 3))
    assert [w.path for w in model.weights] == [
        "two_layer/dense/kernel", "two_layer/dense/bias",
        "two_layer/dense_1/kernel", "two_layer/dense_1/bias"]
    scale = Scale()
    np.testing.assert_allclose(scale(jnp.full((2, 3), 2.0)), np.full((2, 3), 2.0))
    assert scale.weights[0].path == "scale/w"


def test_subclassed_model_trains(rng):
    model = TwoLayer()
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(64, 3))
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_get_set_weights_and_trainable():
    model = kiln.Sequential([kiln.Input((3,)), layers.Dense(2), layers.Dense(1)])
    weights = [np.full(w.shape, i, "float32") for i, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="expected a list of 4"):
        model.set_weights(weights[:2])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_frozen_layer_is_not_updated(rng):
    model = kiln.Sequential([kiln.Input((3,)), layers.Dense(4), layers.Dense(1)])
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.normal(size=(32, 3)), rng.normal(size=(32, 1)), epochs=1, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_called_as_a_layer_in_functional_graph(rng):
    inner = kiln.Sequential([kiln.Input((3,)), layers.Dense(2)])
    x = kiln.Input((3,))
    outer = kiln.Model(x, layers.Dense(1)(inner(x)))
    assert outer.predict(rng.normal(size=(5, 3)), verbose=0).shape == (5, 1)
    assert len(outer.weights) == 4


def test_layer_config_round_trip():
    dense = layers.Dense(3, activation="relu", use_bias=False, kernel_regularizer="l2")
    clone = layers.Dense.from_config(dense.get_config())
    assert clone.units == 3 and clone.use_bias is False
    assert clone.get_config()["activation"] == "relu"
    for layer in (layers.Dropout(0.3, seed=1), layers.Reshape((2, 3)), layers.Flatten(),
                  layers.Activation("tanh")):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == {**layer.get_config(), "name": again.name}


def test_regularizer_losses_and_add_loss(rng):
    model = kiln.Sequential([kiln.Input((3,)), layers.Dense(2, kernel_regularizer=kiln.regularizers.L2(0.5))])
    kernel = model.layers[0].kernel.numpy()
    np.testing.assert_allclose(float(model.losses[0]), 0.5 * np.sum(kernel ** 2), rtol=1e-6)

    class Penalized(layers.Layer):
        def call(self, x):
            self.add_loss(jnp.sum(x))
            return x

    inp = kiln.Input((2,))
    m = kiln.Model(inp, Penalized()(inp))
    m.compile(optimizer="sgd")  # defines its own loss through add_loss
    m(jnp.ones((1, 2)))
    assert float(m.losses[0]) == 2.0


def test_dropout_only_in_training():
    drop = layers.Dropout(0.5, seed=3)
    x = jnp.ones((1000,))
    np.testing.assert_array_equal(drop(x), x)
    y = np.asarray(drop(x, training=True))
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6


def test_generator_input_and_large_array_path_match_device_path(rng, monkeypatch):
    from kiln.training import _data

    x = rng.normal(size=(50, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")

    def train(data_kind):
        kiln.utils.set_random_seed(1)
        model = kiln.Sequential([kiln.Input((3,)), layers.Dense(1, activation="sigmoid")])
        model.set_weights([np.ones((3, 1), "float32") * 0.1, np.zeros(1, "float32")])
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"],
                      steps_per_execution=2)
        if data_kind == "generator":
            def gen():
                while True:
                    for i in range(0, 50, 10):
                        yield x[i:i + 10], y[i:i + 10]
            return model.fit(gen(), steps_per_epoch=5, epochs=2, verbose=0).history
        return model.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history

    on_device = train("arrays")
    monkeypatch.setattr(_data, "DEVICE_DATA_LIMIT_BYTES", 0)
    streamed = train("arrays")
    generated = train("generator")
    for other in (streamed, generated):
        for key in on_device:
            np.testing.assert_allclose(other[key], on_device[key], rtol=1e-6)


def test_generator_errors_reach_the_caller():
    model = kiln.Sequential([kiln.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def broken():
        yield np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
        yield np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
        raise RuntimeError("bad batch")

    with pytest.raises(RuntimeError, match="bad batch"):
        model.fit(broken(), epochs=1, verbose=0)
