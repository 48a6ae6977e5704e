"""Masks reach custom layers as in Keras: in a subclassed model (no graph to carry them) and in
a functional one, a layer whose `call` takes `mask` gets the Embedding's mask through
pass-through layers (Dense, a custom `supports_masking` layer), and LSTM skips padded steps."""

import keras
import numpy as np

import kiln

X = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 4, 4, 1]], dtype="int32")


def _classes(lib):
    class PassThrough(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, x):
            return 2.0 * x

    class MaskedMean(lib.layers.Layer):
        def call(self, x, mask=None):
            weights = lib.ops.cast(mask, "float32")[..., None]
            return lib.ops.sum(x * weights, axis=1) / lib.ops.sum(weights, axis=1)

    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.embed = lib.layers.Embedding(5, 3, mask_zero=True)
            self.dense = lib.layers.Dense(4)
            self.double = PassThrough()
            self.mean = MaskedMean()
            self.lstm = lib.layers.LSTM(2)

        def call(self, x):
            h = self.double(self.dense(self.embed(x)))
            return lib.ops.concatenate([self.mean(h), self.lstm(h)], axis=-1)
    return Net


def test_subclassed_model_passes_masks_like_keras():
    ours, theirs = _classes(kiln)(), _classes(keras)()
    ours(X), theirs(X)
    theirs.set_weights(ours.get_weights())
    got = np.asarray(ours.predict(X, verbose=0))
    np.testing.assert_allclose(got, theirs.predict(X, verbose=0), atol=1e-6)
    # The mask matters: the plain mean over all steps differs.
    h = 2.0 * np.asarray(ours.dense(ours.embed(X)))
    assert not np.allclose(got[:, :4], h.mean(axis=1), atol=1e-4)
