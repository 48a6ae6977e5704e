"""StackedRNNCells (and RNN given a list of cells) compute what Keras computes, with the same
weight order and config."""

import keras
import numpy as np
import pytest

import kiln

X = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")


def _model(lib, wrap):
    cells = [lib.layers.LSTMCell(3), lib.layers.SimpleRNNCell(3), lib.layers.GRUCell(2)]
    cell = lib.layers.StackedRNNCells(cells) if wrap else cells
    return lib.Sequential([lib.Input((5, 4)), lib.layers.RNN(cell, return_sequences=True)])


@pytest.mark.parametrize("wrap", [True, False], ids=["StackedRNNCells", "list"])
def test_stacked_cells_match_keras(wrap):
    ours, theirs = _model(kiln, wrap), _model(keras, wrap)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in
                                                      theirs.get_weights()]
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0),
                               atol=1e-5)
    rnn = theirs.layers[-1]
    rebuilt = kiln.layers.RNN.from_config(keras.layers.RNN.get_config(rnn))
    assert isinstance(rebuilt.cell, kiln.layers.StackedRNNCells)
    assert [type(c).__name__ for c in rebuilt.cell.cells] == ["LSTMCell", "SimpleRNNCell",
                                                              "GRUCell"]
