"""Step overrides that call Keras's defaults through `super()` (train_step, test_step,
predict_step, compute_loss_and_updates in Keras's JAX form), against Keras: same logs, same
weights, multi-output per-output losses included."""

import keras
import numpy as np

import kiln

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 3)).astype("float32")
Y = RNG.normal(size=(24, 1)).astype("float32")
Z = RNG.normal(size=(24, 2)).astype("float32")


def _model_class(lib):
    class Extended(lib.Model):
        def train_step(self, state, data):
            logs, state = super().train_step(state, data)
            return {**logs, "doubled": 2 * logs["loss"]}, state

        def test_step(self, state, data):
            logs, state = super().test_step(state, data)
            return {**logs, "halved": logs["loss"] / 2}, state

        def predict_step(self, state, data):
            outputs, non_trainable = super().predict_step(state, data)
            return lib.tree.map_structure(lambda o: o + 100.0, outputs), non_trainable
    return Extended


def _two_outputs(lib):
    inputs = lib.Input((3,), name="x")
    hidden = lib.layers.Dense(4, activation="tanh", kernel_initializer="glorot_uniform",
                              name="hidden")(inputs)
    first = lib.layers.Dense(1, name="first")(hidden)
    second = lib.layers.Dense(2, name="second")(hidden)
    return _model_class(lib)(inputs, [first, second])


def _run(lib, weights):
    model = _two_outputs(lib)
    model.set_weights(weights)
    model.compile(optimizer=lib.optimizers.SGD(0.05), loss=["mse", "mae"],
                  metrics=[["mae"], []], steps_per_execution=2)
    history = model.fit(X, [Y, Z], batch_size=8, epochs=2, verbose=0, shuffle=False)
    evaluated = model.evaluate(X, [Y, Z], batch_size=8, verbose=0, return_dict=True)
    predicted = model.predict(X, batch_size=8, verbose=0)
    return history.history, evaluated, predicted, model.get_weights()


def test_super_steps_match_keras():
    weights = _two_outputs(keras).get_weights()
    k_hist, k_eval, k_pred, k_weights = _run(keras, weights)
    l_hist, l_eval, l_pred, l_weights = _run(kiln, weights)
    assert sorted(l_hist) == sorted(k_hist)
    assert "doubled" in l_hist and "halved" in l_eval
    for name in k_hist:
        np.testing.assert_allclose(l_hist[name], k_hist[name], rtol=1e-5, err_msg=name)
    for name in k_eval:
        np.testing.assert_allclose(l_eval[name], k_eval[name], rtol=1e-5, err_msg=name)
    for got, want in zip(l_pred, k_pred):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    assert np.asarray(l_pred[0]).min() > 50  # the override's +100 is there
    for got, want in zip(l_weights, k_weights):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_inheriting_the_defaults_is_not_an_override():
    from kiln.training._custom_step import overridden_steps
    inputs = kiln.Input((3,))
    plain = kiln.Model(inputs, kiln.layers.Dense(1)(inputs))
    assert overridden_steps(plain) == []
    assert not plain._overrides_loss()
    extended = _model_class(kiln)(inputs, kiln.layers.Dense(1)(inputs))
    assert overridden_steps(extended) == ["train_step", "test_step", "predict_step"]
