"""Custom step overrides in Keras's JAX form, the stateless API and SeedGenerator tracking
(what the Keras parity file does not cover: kiln's errors, keys, state, the fused loop)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln

X = np.linspace(-1, 1, 32 * 3).reshape(32, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)


class _Net(kiln.Model):
    def __init__(self, rate=0.0):
        super().__init__()
        self.dense = kiln.layers.Dense(1)
        self.drop = kiln.layers.Dropout(rate)

    def call(self, x, training=None):
        return self.drop(self.dense(x), training=training)


class _TFStyle(_Net):
    def train_step(self, data):  # the TensorFlow form: needs tf.GradientTape
        raise AssertionError("never reached")


class _DropoutProbe(_Net):
    """Reports, per batch, the dropout output of a fixed input: keys must advance per step."""

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable,
                                                    jnp.ones((1, 3)), training=True)
        return {"probe": jnp.sum(y_pred != 0)}, (trainable, non_trainable, optimizer_vars,
                                                 metrics_vars)


class _BadState(_Net):
    def train_step(self, state, data):
        return {"loss": 0.0}, state[:3]


class _Sgd(_Net):
    """Plain SGD by hand, with a SeedGenerator draw logged per step."""

    def __init__(self):
        super().__init__()
        self.seeds = kiln.random.SeedGenerator(7)

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data

        def loss_fn(tv, ntv):
            y_pred, ntv = self.stateless_call(tv, ntv, x, training=True)
            return jnp.mean((y_pred - y) ** 2), ntv

        (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable)
        trainable = [t - 0.1 * g for t, g in zip(trainable, grads)]
        values = dict(zip(self.non_trainable_variables, non_trainable))
        with kiln._scope.bind(values) as scope:
            draw = kiln.random.uniform((), seed=self.seeds)
        non_trainable = [scope.writes.get(id(v), val) for v, val in values.items()]
        return {"loss": loss, "draw": draw}, (trainable, non_trainable, optimizer_vars,
                                              metrics_vars)


def _fit(model, **kwargs):
    model.compile(optimizer="sgd", loss="mse", **kwargs)
    return model.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)


def test_tensorflow_form_is_refused_naming_the_jax_form():
    with pytest.raises(TypeError, match=r"train_step\(self, state, data\).*GradientTape"):
        _fit(_TFStyle())


def test_wrong_state_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="4-tuple"):
        _fit(_BadState())


def test_random_layers_draw_new_keys_each_step_in_one_fused_call():
    seen = []
    probe = kiln.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(
        logs["probe"]))
    model = _DropoutProbe(rate=0.5)
    model(X[:1])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=1)
    model.fit(np.ones((64, 3), "float32"), np.ones((64, 1), "float32"), batch_size=1,
              epochs=1, shuffle=False, verbose=0, callbacks=[probe])
    assert set(seen) == {0.0, 1.0}  # the mask changed between steps


@pytest.mark.parametrize("k", [1, 4])
def test_hand_written_step_trains_and_seed_generator_advances(k):
    model = _Sgd()
    model(X[:1])
    before = [np.asarray(w) for w in model.get_weights()]
    history = _fit(model, steps_per_execution=k)
    assert history.history["loss"][0] > 0
    # Four steps of plain SGD on the mean squared error, by hand.
    kernel, bias = before
    for start in range(0, 32, 8):
        x, y = X[start:start + 8], Y[start:start + 8]
        err = x @ kernel + bias - y
        kernel = kernel - 0.1 * 2 * x.T @ err / len(x)
        bias = bias - 0.1 * 2 * err.mean(axis=0)
    np.testing.assert_allclose(model.get_weights()[0], kernel, atol=1e-5)
    # The generator's state is a non-trainable variable: it advanced once per step (4 draws).
    assert model.seeds.state in model.non_trainable_variables
    assert model.seeds.state not in model.non_trainable_weights
    np.testing.assert_array_equal(np.asarray(model.seeds.state.value), [7, 4])
    want = kiln.random.uniform((), seed=jnp.array([7, 3], jnp.uint32))
    np.testing.assert_allclose(history.history["draw"][0], want)


def test_only_train_step_overridden_evaluates_with_the_compiled_metrics():
    model = _Sgd()
    model(X[:1])
    _fit(model, metrics=["mae"])
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    pred = np.asarray(model.predict(X, verbose=0))
    np.testing.assert_allclose(logs["mae"], np.abs(pred - Y).mean(), rtol=1e-5)


def test_stateless_call_returns_new_moving_statistics_and_changes_nothing():
    layer = kiln.layers.BatchNormalization(momentum=0.5)
    layer(X)
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    _, new = layer.stateless_call(trainable, non_trainable, X + 1.0, training=True)
    np.testing.assert_allclose(new[0], 0.5 * non_trainable[0] + 0.5 * (X + 1.0).mean(axis=0),
                               rtol=1e-5)
    np.testing.assert_array_equal(layer.non_trainable_variables[0].value, non_trainable[0])
    with pytest.raises(ValueError, match="expected 2 trainable values"):
        layer.stateless_call(trainable[:1], non_trainable, X)


def test_model_input_output_and_state_tree_round_trip():
    inputs = kiln.Input((3,), name="x")
    outputs = kiln.layers.Dense(2, name="d")(inputs)
    model = kiln.Model(inputs, outputs)
    assert model.input is inputs and model.output is outputs
    tree = model.get_state_tree(value_format="numpy_array")
    kernel = tree["trainable_variables"]
    while "kernel" not in kernel:
        (kernel,) = kernel.values()
    kernel["kernel"] = np.full((3, 2), 0.25, "float32")
    model.set_state_tree(tree)
    np.testing.assert_array_equal(model.get_weights()[0], np.full((3, 2), 0.25))
    with pytest.raises(AttributeError, match="subclassed"):
        _Net().output


def test_model_without_trainable_weights_fits_like_keras():
    # Keras: no gradients to apply, the optimizer's iterations stay 0, metrics still update.
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(1)])
    model.trainable = False
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    before = model.get_weights()
    history = model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    assert int(model.optimizer.iterations) == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["mae"], [logs["mae"]] * 2, rtol=1e-6)


class _Needs3D(kiln.layers.Layer):
    def __init__(self):
        super().__init__()
        self.input_spec = kiln.layers.InputSpec(ndim=3, axes={-1: 2})

    def call(self, x):
        return x


def test_input_spec_is_checked_at_call_with_the_fix():
    layer = _Needs3D()
    assert layer(np.ones((1, 4, 2), "float32")).shape == (1, 4, 2)
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2.*Fix"):
        layer(np.ones((4, 2), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of size 2, found size 3"):
        layer(kiln.Input((4, 3)))


def test_custom_layer_in_subclassed_model_gets_the_embedding_mask():
    seen = []

    class Probe(kiln.layers.Layer):
        def call(self, x, mask=None):
            seen.append(None if mask is None else np.asarray(mask).tolist())
            return x

    class Net(kiln.Model):
        def __init__(self):
            super().__init__()
            self.embed = kiln.layers.Embedding(4, 2, mask_zero=True)
            self.dense = kiln.layers.Dense(2)
            self.probe = Probe()

        def call(self, x):
            return self.probe(self.dense(self.embed(x)))

    Net()(np.array([[1, 0]]))
    assert seen == [[[True, False]]]


def test_layer_output_builds_a_feature_extractor():
    inputs = kiln.Input((3,))
    hidden = kiln.layers.Dense(4, name="hidden")(inputs)
    base = kiln.Model(inputs, kiln.layers.Dense(1)(hidden))
    features = kiln.Model(base.input, base.get_layer("hidden").output)
    assert base.get_layer("hidden").input is inputs
    want = X @ base.get_layer("hidden").get_weights()[0] + base.get_layer("hidden").bias.value
    np.testing.assert_allclose(features.predict(X, verbose=0), want, atol=1e-5)
    with pytest.raises(AttributeError, match="has not been called on a symbolic"):
        kiln.layers.Dense(2).output
