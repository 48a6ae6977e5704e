"""Masks pass through Dense, Dropout and Activation as in Keras: an `Embedding(mask_zero=True)`
mask reaches the LSTM behind them, so padded steps are skipped in both libraries."""

import keras
import numpy as np
import pytest

import kiln

X = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 4, 4, 1]], dtype="int32")


def _model(lib, middle):
    return lib.Sequential([lib.Input((4,), dtype="int32"),
                           lib.layers.Embedding(5, 3, mask_zero=True), middle(lib),
                           lib.layers.LSTM(2)])


@pytest.mark.parametrize("middle", [
    lambda lib: lib.layers.Dense(4),
    lambda lib: lib.layers.Dropout(0.2),
    lambda lib: lib.layers.Activation("tanh"),
], ids=["Dense", "Dropout", "Activation"])
def test_mask_passes_through_like_keras(middle):
    ours, theirs = _model(kiln, middle), _model(keras, middle)
    theirs.set_weights(ours.get_weights())
    got = np.asarray(ours.predict(X, verbose=0))
    want = np.asarray(theirs.predict(X, verbose=0))
    np.testing.assert_allclose(got, want, atol=1e-6)
    # The mask matters: without it the padded zeros would change the LSTM's last state.
    unmasked = kiln.Sequential([kiln.Input((4,), dtype="int32"), kiln.layers.Embedding(5, 3),
                                middle(kiln), kiln.layers.LSTM(2)])
    unmasked.set_weights(ours.get_weights())
    assert not np.allclose(np.asarray(unmasked.predict(X, verbose=0)), got, atol=1e-6)
