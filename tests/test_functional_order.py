"""A functional model's `layers` (hence `weights`, `get_weights()`, optimizer slots, file order)
follow Keras 3's `map_graph` order: deepest layer first, ties by first visit of a depth-first
walk from the outputs. Each graph is built in Keras and in kiln with the same layer names."""

import keras
import numpy as np
import pytest

import kiln
from kiln.models._functional import graph_layers


def residual(lib):
    L = lib.layers
    x = lib.Input((4,), name="x")
    skip = L.Dense(3, name="proj")(x)
    h = L.Dense(5, name="a")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.Dense(3, name="b")(L.Activation("relu", name="relu")(h))
    out = L.Dense(2, name="head")(L.Add(name="add")([h, skip]))
    return lib.Model(x, out, name="residual")


def two_inputs(lib):
    L = lib.layers
    a, b = lib.Input((3,), name="in_a"), lib.Input((2,), name="in_b")
    ha = L.Dense(4, name="a2")(L.Dense(4, name="a1")(a))
    hb = L.Dense(4, name="b1")(b)
    out = L.Dense(1, name="out")(L.Concatenate(name="cat")([ha, hb]))
    return lib.Model([a, b], out, name="two_inputs")


def shared(lib):
    L = lib.layers
    x = lib.Input((3,), name="x")
    s = L.Dense(3, name="shared")
    deep = s(L.Dense(3, name="pre")(s(x)))
    wide = L.Dense(3, name="side")(x)
    out = L.Add(name="add")([deep, wide, s(wide)])
    return lib.Model(x, out, name="shared")


def multi_output(lib):
    L = lib.layers
    x = lib.Input((4,), name="x")
    trunk = L.Dense(4, name="trunk")(x)
    first = L.Dense(2, name="first")(trunk)
    second = L.Dense(3, name="second")(L.Dense(3, name="mid")(first))
    third = L.Dense(1, name="third")(trunk)
    return lib.Model(x, [first, second, third], name="multi_output")


def nested(lib):
    L = lib.layers
    i = lib.Input((3,), name="inner_in")
    inner = lib.Model(i, L.Add(name="inner_add")([L.Dense(3, name="i1")(i),
                                                   L.Dense(3, name="i2")(L.Dense(3, name="i3")(i))]),
                      name="inner")
    x = lib.Input((3,), name="x")
    h = inner(L.Dense(3, name="pre")(x))
    out = L.Concatenate(name="cat")([h, L.Dense(2, name="side")(x)])
    return lib.Model(x, L.Dense(1, name="head")(out), name="outer")


def unused_input(lib):
    L = lib.layers
    a, b = lib.Input((2,), name="used"), lib.Input((2,), name="unused")
    return lib.Model([a, b], L.Dense(1, name="d")(L.Dense(2, name="c")(a)), name="unused_input")


GRAPHS = [residual, two_inputs, shared, multi_output, nested, unused_input]


@pytest.fixture(scope="module", params=GRAPHS, ids=lambda f: f.__name__)
def pair(request):
    return request.param(keras), request.param(kiln)


def _paths(ws):
    return [w.path for w in ws]


def test_layers_and_weights_in_keras_order(pair):
    km, lm = pair
    assert [l.name for l in lm.layers] == [l.name for l in km.layers]
    assert _paths(lm.weights) == _paths(km.weights)
    assert _paths(lm.trainable_weights) == _paths(km.trainable_weights)
    assert _paths(lm.non_trainable_weights) == _paths(km.non_trainable_weights)


def test_graph_layers_with_outputs_matches_keras(pair):
    km, lm = pair
    inputs, outputs, nodes = lm._functional
    assert [l.name for l in graph_layers(nodes, inputs, outputs)] == [l.name for l in km.layers]


def test_keras_weight_list_gives_keras_numbers(pair):
    """set_weights(Keras's get_weights()) lines up only when the order is Keras's."""
    km, lm = pair
    rng = np.random.default_rng(0)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in km.get_weights()]
    km.set_weights(weights)
    lm.set_weights(weights)
    xs = [rng.normal(size=(2,) + tuple(t.shape[1:])).astype("float32") for t in km.inputs]
    xs = xs[0] if len(xs) == 1 else xs
    want = km(xs, training=False)
    got = lm(xs, training=False)
    for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)
