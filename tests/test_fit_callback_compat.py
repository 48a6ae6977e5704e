"""Behaviours Keras programs rely on around fit's loop, checked against Keras itself: a
callback reading the model before a batch keeps the step, predict hooks see (batch, ...)
outputs, steps_per_epoch below one pass continues through the data, History keeps the logs'
order, clone_model rebuilds unregistered custom layers and takes clone_function /
input_tensors for functional models."""

import keras
import numpy as np
import pytest

import kiln

X = np.random.RandomState(1).randn(64, 5).astype("float32")
Y = X[:, :1] * 2


def _linear(lib):
    model = lib.Sequential([lib.Input((5,)), lib.layers.Dense(1)])
    model.set_weights([np.full((5, 1), 0.1, "float32"), np.zeros(1, "float32")])
    model.compile(lib.optimizers.SGD(0.1), "mse")
    return model


@pytest.mark.parametrize("read", ["weights", "iterations"])
def test_a_batch_begin_hook_reading_the_model_keeps_the_step(read):
    def fit(lib):
        model = _linear(lib)

        class Peek(lib.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                if read == "weights":
                    self.model.get_weights()
                else:
                    int(self.model.optimizer.iterations)

        h = model.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0,
                      callbacks=[Peek()])
        return h.history["loss"], int(model.optimizer.iterations)

    (ours, n_ours), (theirs, n_theirs) = fit(kiln), fit(keras)
    assert n_ours == n_theirs == 12
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert ours[2] < ours[0]


def test_predict_batch_end_outputs_are_shaped_like_the_batch():
    def shapes(lib, **kw):
        model = lib.Sequential([lib.Input((5,)), lib.layers.Dense(2)])
        seen = []
        cb = lib.callbacks.LambdaCallback(
            on_predict_batch_end=lambda b, logs: seen.append(np.asarray(logs["outputs"]).shape))
        model.compile("sgd", "mse", **kw)
        model.predict(X[:40], batch_size=16, verbose=0, callbacks=[cb])
        return seen

    assert shapes(kiln) == shapes(keras) == [(16, 2), (16, 2), (8, 2)]


def test_steps_per_epoch_below_one_pass_continues_through_the_data():
    x = np.zeros((96, 1), "float32")
    y = np.arange(96, dtype="float32")[:, None]

    def first_rows(lib):
        def first_index(y_true, y_pred):
            return lib.ops.min(y_true)

        model = lib.Sequential([lib.Input((1,)), lib.layers.Dense(1)])
        model.compile(lib.optimizers.SGD(0.0), "mse", metrics=[first_index])
        rows = []
        cb = lib.callbacks.LambdaCallback(
            on_epoch_end=lambda e, logs: rows.append(int(logs["first_index"])))
        model.fit(x, y, batch_size=16, steps_per_epoch=2, epochs=4, shuffle=False, verbose=0,
                  callbacks=[cb])
        return rows

    assert first_rows(kiln) == first_rows(keras) == [8, 40, 72, 8]  # each epoch: the mean of its batches' first rows


def test_history_keeps_the_logs_order_with_a_callback_added_key():
    def keys(lib):
        model = _linear(lib)
        model.compile(lib.optimizers.SGD(0.1), "mse", metrics=["mae"])
        cb = lib.callbacks.ReduceLROnPlateau(monitor="loss", patience=1)
        h = model.fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[cb],
                      validation_split=0.25)
        return list(h.history)

    assert keys(kiln) == keys(keras)


class _Block(kiln.layers.Layer):  # deliberately not registered, as in most user code
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = kiln.layers.Dense(units)

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _functional():
    inp = kiln.Input((4,))
    x = kiln.layers.Dropout(0.5)(_Block(6)(inp))
    return kiln.Model(inp, kiln.layers.Dense(1)(x))


def test_clone_model_rebuilds_unregistered_custom_layers():
    model = _functional()
    for clone in (kiln.models.clone_model(model),
                  kiln.models.clone_model(kiln.Sequential([kiln.Input((4,)), _Block(3)]))):
        assert any(isinstance(layer, _Block) for layer in clone.layers)
    clone = kiln.models.clone_model(model)
    assert clone.count_params() == model.count_params()
    assert clone.layers[1].dense.kernel is not model.layers[1].dense.kernel


def test_clone_model_functional_with_clone_function_and_input_tensors():
    def lower_dropout(layer):
        config = layer.get_config()
        if isinstance(layer, kiln.layers.Dropout):
            config["rate"] = 0.1
        return type(layer).from_config(config)

    clone = kiln.models.clone_model(_functional(), clone_function=lower_dropout)
    assert [getattr(layer, "rate", None) for layer in clone.layers] == [None, None, 0.1, None]
    new_input = kiln.Input((4,), name="fresh")
    clone = kiln.models.clone_model(_functional(), input_tensors=new_input)
    assert clone.inputs[0] is new_input
    assert clone.predict(np.ones((2, 4), "float32"), verbose=0).shape == (2, 1)
