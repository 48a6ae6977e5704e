"""Parity with Keras 3 (JAX backend) for what the call scope carries: loss scaling and losses a
model defines itself.

- `loss_scale_factor`: Keras differentiates `optimizer.scale_loss(loss)` and the optimizer
  divides the gradients back, so the weights match an unscaled run; kiln must end at Keras's
  weights (1e-6) after a few steps.
- Own loss: a model calling `add_loss` in `call`, or overriding `compute_loss`, compiles with
  `loss=None` and trains like Keras; a model that only *mentions* add_loss in a comment is
  refused with kiln's missing-loss error, which names the fix.
"""

import keras
import numpy as np
import pytest

import kiln

FEATURES, N, BATCH, EPOCHS = 4, 32, 8, 2


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, 1))).astype("float32")
    return x, y


def _dense_pair():
    km = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(3, activation="tanh"),
                           keras.layers.Dense(1)])
    nm = kiln.Sequential([kiln.Input((FEATURES,)), kiln.layers.Dense(3, activation="tanh"),
                          kiln.layers.Dense(1)])
    nm.set_weights(km.get_weights())
    return km, nm


def _fit(model, x, y, **compile_kwargs):
    model.compile(**compile_kwargs)
    return model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history


def _assert_weights(km, nm, tol=1e-6):
    for kw, nw in zip(km.get_weights(), nm.get_weights()):
        np.testing.assert_allclose(nw, kw, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"learning_rate": 0.1, "loss_scale_factor": 4.0}),
    ("Adam", {"learning_rate": 0.01, "loss_scale_factor": 8.0}),
], ids=["sgd", "adam"])
def test_loss_scale_factor_trains_to_keras_weights(name, kwargs):
    x, y = _data()
    km, nm = _dense_pair()
    kh = _fit(km, x, y, optimizer=getattr(keras.optimizers, name)(**kwargs), loss="mse")
    nh = _fit(nm, x, y, optimizer=getattr(kiln.optimizers, name)(**kwargs), loss="mse")
    _assert_weights(km, nm)
    # The logged loss is the unscaled one, as in Keras.
    np.testing.assert_allclose(nh["loss"], kh["loss"], rtol=1e-5)


def test_loss_scale_factor_matches_the_unscaled_run():
    """Scaling the loss and dividing the gradients back changes nothing for plain SGD."""
    x, y = _data(1)
    _, scaled = _dense_pair()
    plain = kiln.Sequential([kiln.Input((FEATURES,)), kiln.layers.Dense(3, activation="tanh"),
                             kiln.layers.Dense(1)])
    plain.set_weights(scaled.get_weights())
    _fit(scaled, x, y, optimizer=kiln.optimizers.SGD(0.1, loss_scale_factor=4.0), loss="mse")
    _fit(plain, x, y, optimizer=kiln.optimizers.SGD(0.1), loss="mse")
    for a, b in zip(scaled.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def _penalized(lib):
    """A subclassed model whose only loss is `add_loss(mean((dense(x) - 1)^2))`."""

    class Penalized(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(2)

        def call(self, x, training=None):
            out = self.dense(x)
            self.add_loss(lib.ops.mean((out - 1.0) ** 2))
            return out

    return Penalized()


def test_add_loss_model_compiles_without_loss_and_trains_like_keras():
    x, _ = _data(2)
    km, nm = _penalized(keras), _penalized(kiln)
    km(x[:1])  # builds Keras's sub-layers (its Model.build does not)
    nm.build((None, FEATURES))
    nm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.1))
    nm.compile(optimizer=kiln.optimizers.SGD(0.1))  # no loss: add_loss is seen by a trace
    kh = km.fit(x, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history
    nh = nm.fit(x, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history
    _assert_weights(km, nm)
    np.testing.assert_allclose(nh["loss"], kh["loss"], rtol=1e-5)


def test_add_loss_model_with_unknown_shape_compiles_and_trains():
    """Not built at compile time: the own-loss check waits for fit's first batch."""
    x, _ = _data(3)
    nm = _penalized(kiln)
    nm.compile(optimizer=kiln.optimizers.SGD(0.1))
    history = nm.fit(x, batch_size=BATCH, epochs=2, shuffle=False, verbose=0).history
    assert history["loss"][1] < history["loss"][0]


class _MentionsAddLoss(kiln.Model):
    """Its docstring and comments say add_loss, but it never calls it."""

    def __init__(self):
        super().__init__()
        self.dense = kiln.layers.Dense(1)

    def call(self, x, training=None):
        # self.add_loss(...) would make this model define its own loss; it does not.
        return self.dense(x)


def test_comment_mentioning_add_loss_is_refused_with_the_fix():
    model = _MentionsAddLoss()
    model.build((None, FEATURES))
    with pytest.raises(ValueError, match=r"compile\(\) needs a loss.*loss="):
        model.compile(optimizer="sgd")


def test_comment_mentioning_add_loss_is_refused_on_the_first_batch_when_unbuilt():
    model = _MentionsAddLoss()
    model.compile(optimizer="sgd")  # shape unknown: decided on the first batch
    x, y = _data(4)
    with pytest.raises(ValueError, match=r"compile\(\) needs a loss"):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


def _own_compute_loss(lib):
    class OwnLoss(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1)

        def call(self, x, training=None):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return lib.ops.mean((y_pred - y) ** 2)

    return OwnLoss()


def test_compute_loss_override_compiles_without_loss_and_trains_like_keras():
    x, y = _data(5)
    km, nm = _own_compute_loss(keras), _own_compute_loss(kiln)
    km(x[:1])  # builds Keras's sub-layers (its Model.build does not)
    nm.build((None, FEATURES))
    nm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.05))
    nm.compile(optimizer=kiln.optimizers.SGD(0.05))
    kh = km.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history
    nh = nm.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history
    _assert_weights(km, nm)
    np.testing.assert_allclose(nh["loss"], kh["loss"], rtol=1e-5)
