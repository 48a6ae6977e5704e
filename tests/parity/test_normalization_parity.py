"""Normalization layers against Keras 3 (JAX backend): same config, Keras's weights copied in,
outputs within 1e-5 relative in training and inference mode; BatchNormalization's moving
statistics after a training call and after two epochs of `fit`."""

import warnings

import keras
import numpy as np
import pytest

import kiln
from kiln.layers._normalization import (BatchNormalization, GroupNormalization,
                                        LayerNormalization, RMSNormalization, UnitNormalization)

RTOL, ATOL = 1e-5, 1e-6


def _randomize(layer, rng):
    """Gives every weight of a built Keras layer random values (so gamma/beta matter)."""
    layer.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


def _pair(keras_cls, kiln_cls, kwargs, x, rng):
    k = keras_cls(**kwargs)
    k.build(x.shape)
    _randomize(k, rng)
    n = kiln_cls(**kwargs)
    n(x)  # build
    n.set_weights(k.get_weights())
    assert [w.shape for w in n.weights] == [tuple(w.shape) for w in k.weights]
    return k, n


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=RTOL, atol=ATOL)


BN_CASES = [
    ((6, 4), {}),
    ((4, 3, 5), {"momentum": 0.9, "epsilon": 1e-5}),
    ((3, 4, 2, 2), {"axis": 1}),  # channels_first images
    ((5, 2, 3), {"axis": -2, "center": False}),
    ((6, 4), {"scale": False, "center": False}),
]


@pytest.mark.parametrize("shape,kwargs", BN_CASES)
def test_batch_normalization_matches_keras(rng, shape, kwargs):
    x = rng.normal(1.5, 2.0, size=shape).astype("float32")
    k, n = _pair(keras.layers.BatchNormalization, BatchNormalization, kwargs, x, rng)
    _close(n(x, training=False), k(x, training=False))
    _close(n(x, training=True), k(x, training=True))
    # The training call updated the moving statistics the same way (assign, eagerly).
    for nw, kw in zip(n.get_weights(), k.get_weights()):
        _close(nw, kw)
    _close(n(x), k(x))  # default: inference with the updated statistics


def test_batch_normalization_with_mask_matches_keras(rng):
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    k, n = _pair(keras.layers.BatchNormalization, BatchNormalization, {}, x, rng)
    _close(n(x, training=True, mask=mask), k(x, training=True, mask=mask))
    for nw, kw in zip(n.get_weights(), k.get_weights()):
        _close(nw, kw)


def test_frozen_batch_normalization_runs_in_inference_mode_like_keras(rng):
    x = rng.normal(2.0, 3.0, size=(8, 3)).astype("float32")
    k, n = _pair(keras.layers.BatchNormalization, BatchNormalization, {}, x, rng)
    k.trainable = n.trainable = False
    before = k.get_weights()
    _close(n(x, training=True), k(x, training=True))
    _close(n(x, training=True), k(x, training=False))
    for nw, kw, b in zip(n.get_weights(), k.get_weights(), before):
        _close(nw, kw)
        _close(nw, b)  # nothing moved


def _bn_models(rng):
    keras.utils.set_random_seed(1)
    km = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8),
                           keras.layers.BatchNormalization(momentum=0.8),
                           keras.layers.Activation("relu"), keras.layers.Dense(1)])
    nm = kiln.Sequential([kiln.Input((5,)), kiln.layers.Dense(8),
                          BatchNormalization(momentum=0.8),
                          kiln.layers.Activation("relu"), kiln.layers.Dense(1)])
    nm.set_weights(km.get_weights())
    return km, nm


def test_batch_normalization_fit_matches_keras(rng):
    """Two epochs of fit: same per-epoch losses and moving statistics, which proves the
    non-trainable state flows through kiln's jitted train step."""
    x = rng.normal(1.0, 2.0, size=(48, 5)).astype("float32")  # 3 full batches: one compile
    y = (x @ rng.normal(size=(5, 1)) + 0.5).astype("float32")
    km, nm = _bn_models(rng)
    fit = {"epochs": 2, "batch_size": 16, "shuffle": False, "verbose": 0}
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    nm.compile(optimizer=kiln.optimizers.Adam(0.01), loss="mse")
    kh = km.fit(x, y, **fit).history
    nh = nm.fit(x, y, **fit).history
    np.testing.assert_allclose(nh["loss"], kh["loss"], rtol=1e-4)
    kbn, nbn = km.layers[1], nm.layers[1]
    assert not np.allclose(nbn.moving_mean.numpy(), 0.0)  # the statistics did move
    np.testing.assert_allclose(nbn.moving_mean.numpy(), np.asarray(kbn.moving_mean), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(nbn.moving_variance.numpy(), np.asarray(kbn.moving_variance),
                               rtol=1e-4, atol=1e-5)


LN_CASES = [
    ((4, 6), {}),
    ((3, 4, 5), {"axis": [1, 2], "epsilon": 1e-5}),
    ((3, 4, 5), {"axis": 1, "center": False}),
    ((3, 4, 5), {"scale": False}),
    ((3, 5), {"rms_scaling": True}),
]


@pytest.mark.parametrize("shape,kwargs", LN_CASES)
def test_layer_normalization_matches_keras(rng, shape, kwargs):
    x = rng.normal(1.0, 3.0, size=shape).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rms_scaling's deprecation warning, in both
        k, n = _pair(keras.layers.LayerNormalization, LayerNormalization, kwargs, x, rng)
    _close(n(x), k(x))


GN_CASES = [
    ((2, 3, 8), {"groups": 4}),
    ((2, 3, 3, 6), {"groups": 2, "epsilon": 1e-5}),
    ((2, 6, 3, 3), {"groups": 3, "axis": 1}),  # channels_first
    ((2, 4, 4), {"groups": -1, "center": False}),  # instance normalization
    ((2, 5, 4), {"groups": 1, "scale": False}),
]


@pytest.mark.parametrize("shape,kwargs", GN_CASES)
def test_group_normalization_matches_keras(rng, shape, kwargs):
    x = rng.normal(-1.0, 2.0, size=shape).astype("float32")
    k, n = _pair(keras.layers.GroupNormalization, GroupNormalization, kwargs, x, rng)
    _close(n(x), k(x))


@pytest.mark.parametrize("shape,kwargs", [((4, 6), {}), ((3, 4, 5), {"epsilon": 1e-3}),
                                          ((3, 4, 5), {"axis": [1, 2]})])
def test_rms_normalization_matches_keras(rng, shape, kwargs):
    x = rng.normal(0.5, 2.0, size=shape).astype("float32")
    k, n = _pair(keras.layers.RMSNormalization, RMSNormalization, kwargs, x, rng)
    _close(n(x), k(x))


@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_unit_normalization_matches_keras(rng, axis):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    x[0, 0] = 0.0  # a zero vector stays zero (the 1e-12 floor)
    _close(UnitNormalization(axis=axis)(x), keras.layers.UnitNormalization(axis=axis)(x))


@pytest.mark.parametrize("keras_cls,kiln_cls,kwargs", [
    (keras.layers.BatchNormalization, BatchNormalization, {"momentum": 0.9, "center": False}),
    (keras.layers.LayerNormalization, LayerNormalization, {"axis": [1, 2], "epsilon": 1e-5}),
    (keras.layers.GroupNormalization, GroupNormalization, {"groups": 2}),
    (keras.layers.RMSNormalization, RMSNormalization, {"epsilon": 1e-4}),
    (keras.layers.UnitNormalization, UnitNormalization, {"axis": 1}),
])
def test_keras_configs_load_in_kiln(rng, keras_cls, kiln_cls, kwargs):
    """A layer config written by Keras (as in a saved model) rebuilds the same kiln layer."""
    x = rng.normal(size=(3, 4, 4)).astype("float32")
    k = keras_cls(**kwargs)
    k(x)
    n = kiln_cls.from_config(k.get_config())
    n(x)
    n.set_weights(k.get_weights())
    _close(n(x), k(x))
