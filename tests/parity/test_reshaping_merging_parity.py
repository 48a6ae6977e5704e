"""Reshaping, Lambda and merge layers agree with Keras 3 (JAX backend), value for value,
and their configs carry Keras's keys and values."""

import keras
import numpy as np
import pytest

from kiln.layers import _lambda, _merging, _reshaping

RTOL, ATOL = 1e-5, 1e-6


def _kiln_class(name):
    for module in (_reshaping, _merging, _lambda):
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"kiln has no {name}")


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype("float32") for s in shapes]


def _assert_same(name, kwargs, x):
    k_layer = getattr(keras.layers, name)(**kwargs)
    n_layer = _kiln_class(name)(**kwargs)
    expected = np.asarray(k_layer(x))
    got = np.asarray(n_layer(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    k_config, n_config = k_layer.get_config(), n_layer.get_config()
    for key, value in k_config.items():
        if key not in ("name", "dtype", "trainable", "function", "arguments"):
            assert n_config[key] == value, key


RESHAPING_CASES = [
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
    ("RepeatVector", {"n": 3}, (2, 4)),
    ("Cropping1D", {"cropping": (2, 0)}, (2, 6, 3)),
    ("Cropping1D", {}, (2, 6, 3)),
    ("Cropping2D", {"cropping": ((1, 0), (2, 1)), "data_format": "channels_first"},
     (2, 3, 6, 5)),
    ("Cropping2D", {"cropping": (1, 2)}, (2, 6, 5, 3)),
    ("Cropping3D", {}, (2, 4, 5, 6, 3)),
    ("Cropping3D", {"cropping": (1, 0, 2), "data_format": "channels_first"}, (1, 2, 4, 3, 5)),
    ("ZeroPadding1D", {"padding": (1, 2)}, (2, 6, 3)),
    ("ZeroPadding1D", {"padding": 2, "data_format": "channels_first"}, (2, 3, 4)),
    ("ZeroPadding2D", {"padding": (1, 2), "data_format": "channels_first"}, (2, 3, 6, 5)),
    ("ZeroPadding2D", {"padding": ((0, 1), (2, 0))}, (2, 4, 3, 2)),
    ("ZeroPadding3D", {"padding": 2}, (2, 2, 3, 2, 3)),
    ("UpSampling1D", {"size": 3}, (2, 4, 3)),
    ("UpSampling2D", {"size": (2, 3)}, (2, 4, 3, 2)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (2, 4, 3, 2)),
    ("UpSampling2D", {"interpolation": "bilinear", "data_format": "channels_first"},
     (2, 2, 4, 3)),
    ("UpSampling3D", {"size": (2, 1, 3)}, (2, 2, 3, 2, 3)),
    ("UpSampling3D", {"data_format": "channels_first"}, (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", RESHAPING_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(RESHAPING_CASES)])
def test_reshaping_matches_keras(name, kwargs, shape):
    _assert_same(name, kwargs, _inputs([shape])[0])


MERGE_CASES = [
    (name, {}, [(2, 3, 4), (2, 3, 4)])
    for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
] + [
    ("Add", {}, [(2, 3, 4), (2, 4), (2, 3, 4)]),
    ("Multiply", {}, [(2, 3, 4), (2, 1, 4)]),
    ("Maximum", {}, [(2, 3, 4), (2, 1, 4), (2, 3, 1)]),
    ("Average", {}, [(2, 5)] * 3),
    ("Concatenate", {}, [(2, 3), (2, 4), (2, 1)]),
    ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 2, 4)]),
    ("Concatenate", {"axis": -2}, [(2, 3, 4, 2), (2, 3, 1, 2)]),
] + [
    ("Dot", {"axes": axes, "normalize": i % 2 == 1}, shapes)
    for i, (axes, shapes) in enumerate([
        (1, [(2, 3), (2, 3)]), (1, [(2, 3), (2, 3)]), (-1, [(2, 3, 4), (2, 5, 4)]),
        ((1, 1), [(2, 3), (2, 3, 5)]), ((2, 1), [(2, 5, 3), (2, 3)]),
        ((1, 2), [(2, 3, 4, 2), (2, 5, 3)]), ((3, 1), [(2, 3, 4, 2), (2, 2, 5, 6)])])
]


@pytest.mark.parametrize("name,kwargs,shapes", MERGE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(MERGE_CASES)])
def test_merging_matches_keras(name, kwargs, shapes):
    _assert_same(name, kwargs, _inputs(shapes))


def test_dot_normalize_of_a_zero_vector_matches_keras():
    """Keras clips the inverse norm at 1/epsilon, so a zero vector gives 0, not NaN."""
    x = [np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")]
    expected = np.asarray(keras.layers.Dot(axes=1, normalize=True)(x))
    got = np.asarray(_merging.Dot(axes=1, normalize=True)(x))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_functional_helpers_match_keras():
    a, b = _inputs([(2, 3), (2, 3)])
    for name in ("add", "subtract", "multiply", "average", "maximum", "minimum",
                 "concatenate"):
        expected = np.asarray(getattr(keras.layers, name)([a, b]))
        got = np.asarray(getattr(_merging, name)([a, b]))
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose(np.asarray(_merging.dot([a, b], axes=1)),
                               np.asarray(keras.layers.dot([a, b], axes=1)), rtol=RTOL)


def test_lambda_matches_keras():
    def scaled(x, factor):
        return x * factor + 1.0

    x = _inputs([(2, 3)])[0]
    k_layer = keras.layers.Lambda(scaled, arguments={"factor": 2.0})
    n_layer = _lambda.Lambda(scaled, arguments={"factor": 2.0})
    np.testing.assert_allclose(np.asarray(n_layer(x)), np.asarray(k_layer(x)), rtol=RTOL)
    # Keras names a def'd function the same way: by name, without its code.
    assert n_layer.get_config()["function"]["config"] == k_layer.get_config()["function"][
        "config"] == "scaled"
