"""Masks pass through every layer Keras marks `supports_masking` (Dense, Dropout, Activation, the
noise, normalization and activation layers, TimeDistributed, ...) as in Keras: an
`Embedding(mask_zero=True)` mask reaches the LSTM behind them, so padded steps are skipped in
both libraries."""

import keras
import numpy as np
import pytest

import kiln

X = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 4, 4, 1]], dtype="int32")


def _model(lib, middle):
    return lib.Sequential([lib.Input((4,), dtype="int32"),
                           lib.layers.Embedding(5, 4, mask_zero=True), middle(lib),
                           lib.layers.LSTM(2)])


# Softmax is not here: it reads a mask as an additive attention mask, which a (batch, steps)
# mask does not broadcast onto (batch, steps, features); Keras and kiln both raise.
MIDDLE = {
    "Dense": lambda lib: lib.layers.Dense(4),
    "Dropout": lambda lib: lib.layers.Dropout(0.2),
    "Activation": lambda lib: lib.layers.Activation("tanh"),
    "ActivityRegularization": lambda lib: lib.layers.ActivityRegularization(l1=0.1),
    "AlphaDropout": lambda lib: lib.layers.AlphaDropout(0.2),
    "GaussianDropout": lambda lib: lib.layers.GaussianDropout(0.2),
    "GaussianNoise": lambda lib: lib.layers.GaussianNoise(0.2),
    "BatchNormalization": lambda lib: lib.layers.BatchNormalization(),
    "LayerNormalization": lambda lib: lib.layers.LayerNormalization(),
    "GroupNormalization": lambda lib: lib.layers.GroupNormalization(groups=2),
    "UnitNormalization": lambda lib: lib.layers.UnitNormalization(),
    "Normalization": lambda lib: lib.layers.Normalization(mean=0.1, variance=2.0),
    "Rescaling": lambda lib: lib.layers.Rescaling(2.0, offset=0.5),
    "Identity": lambda lib: lib.layers.Identity(),
    "ReLU": lambda lib: lib.layers.ReLU(),
    "LeakyReLU": lambda lib: lib.layers.LeakyReLU(),
    "ELU": lambda lib: lib.layers.ELU(),
    "PReLU": lambda lib: lib.layers.PReLU(),
    "TimeDistributed": lambda lib: lib.layers.TimeDistributed(lib.layers.Dense(3)),
}


@pytest.mark.parametrize("middle", list(MIDDLE.values()), ids=list(MIDDLE))
def test_mask_passes_through_like_keras(middle):
    ours, theirs = _model(kiln, middle), _model(keras, middle)
    theirs.set_weights(ours.get_weights())
    got = np.asarray(ours.predict(X, verbose=0))
    want = np.asarray(theirs.predict(X, verbose=0))
    np.testing.assert_allclose(got, want, atol=1e-6)
    # The mask matters: without it the padded zeros would change the LSTM's last state.
    unmasked = kiln.Sequential([kiln.Input((4,), dtype="int32"), kiln.layers.Embedding(5, 4),
                                middle(kiln), kiln.layers.LSTM(2)])
    unmasked.set_weights(ours.get_weights())
    assert not np.allclose(np.asarray(unmasked.predict(X, verbose=0)), got, atol=1e-6)
