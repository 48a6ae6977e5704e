"""Keras's smaller Layer attributes: path, metrics, metrics_variables, compute_output_spec,
input_spec, supports_jit, add_metric's refusal; checked against Keras where it has them."""

import keras
import numpy as np
import pytest

import kiln


class _Tracked(kiln.layers.Layer):
    def __init__(self):
        super().__init__(name="tracked")
        self.inner = kiln.layers.Dense(2, name="inner")
        self.seen = kiln.metrics.Mean(name="seen")

    def call(self, x):
        return self.inner(x)


def test_path_follows_the_build_scope_like_variable_paths():
    layer = _Tracked()
    assert layer.path == "tracked"  # before build: the plain name
    layer(np.ones((1, 3), "float32"))
    assert layer.inner.path == "tracked/inner"
    assert layer.inner.kernel.path.startswith(layer.inner.path + "/")


def test_path_of_a_top_level_layer_matches_keras():
    ours, theirs = kiln.layers.Dense(2, name="d"), keras.layers.Dense(2, name="d")
    ours.build((None, 3))
    theirs.build((None, 3))
    assert ours.path == theirs.path == "d"


def test_metrics_and_their_variables_are_tracked_from_attributes():
    layer = _Tracked()
    assert [m.name for m in layer.metrics] == ["seen"]
    assert [v.name for v in layer.metrics_variables] == ["total", "count"]
    assert kiln.layers.Dense(2).metrics == []


@pytest.mark.parametrize("make", [lambda k: k.layers.Dense(4),
                                  lambda k: k.layers.LSTM(3, return_sequences=True),
                                  lambda k: k.layers.Conv1D(2, 3)])
def test_compute_output_spec_matches_keras_and_leaves_no_node(make):
    spec_in = (None, 6, 5)
    layer = make(kiln)
    ours = layer.compute_output_spec(kiln.KerasTensor(spec_in))
    theirs = make(keras).compute_output_spec(keras.KerasTensor(spec_in))
    assert ours.shape == theirs.shape and str(ours.dtype) == theirs.dtype
    assert layer._inbound_nodes == []


def test_compute_output_spec_accepts_arrays():
    out = kiln.layers.Dense(4).compute_output_spec(np.ones((2, 3), "float32"))
    assert isinstance(out, kiln.KerasTensor) and out.shape == (2, 4)


def test_defaults_and_removed_add_metric():
    layer = kiln.layers.Dense(2)
    assert layer.input_spec is None and layer.supports_jit is True
    with pytest.raises(NotImplementedError, match="compile\\(metrics"):
        layer.add_metric(1.0)
