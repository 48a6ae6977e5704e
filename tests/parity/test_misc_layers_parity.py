"""Activation, embedding, masking and regularization layers against Keras 3 (JAX backend):
same config and weights, outputs within 1e-5 relative; masks equal; ActivityRegularization's
loss equal; Keras configs load; a small model with Embedding, PReLU and LayerNormalization
trains to Keras's per-epoch losses. (Random layers are compared by statistics in
tests/test_misc_layers.py: exact random parity with Keras is not a goal.)"""

import keras
import numpy as np
import pytest

import kiln
from kiln.layers._activation_layers import ELU, PReLU, ReLU, LeakyReLU, Softmax
from kiln.layers._embedding import Embedding, Masking
from kiln.layers._normalization import LayerNormalization
from kiln.layers._regularization import (ActivityRegularization, AlphaDropout, GaussianDropout,
                                         GaussianNoise, SpatialDropout1D, SpatialDropout2D,
                                         SpatialDropout3D)


def _close(actual, expected, rtol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=1e-6)


ACTIVATION_CASES = [
    ("ReLU", {}), ("ReLU", {"max_value": 1.5}), ("ReLU", {"negative_slope": 0.1}),
    ("ReLU", {"threshold": 0.5}), ("ReLU", {"max_value": 2.0, "negative_slope": 0.2,
                                            "threshold": 0.3}),
    ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.05}),
    ("ELU", {}), ("ELU", {"alpha": 0.5}),
    ("Softmax", {}), ("Softmax", {"axis": 1}), ("Softmax", {"axis": [1, 2]}),
]
KILN_CLASSES = {"ReLU": ReLU, "LeakyReLU": LeakyReLU, "ELU": ELU, "Softmax": Softmax}


@pytest.mark.parametrize("name,kwargs", ACTIVATION_CASES)
def test_activation_layers_match_keras(rng, name, kwargs):
    x = rng.normal(0.0, 2.0, size=(3, 4, 5)).astype("float32")
    _close(KILN_CLASSES[name](**kwargs)(x), getattr(keras.layers, name)(**kwargs)(x))


@pytest.mark.parametrize("mask_shape", [(3, 4, 5), (3, 1, 5), (5,)])
def test_softmax_with_mask_matches_keras(rng, mask_shape):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = rng.uniform(size=mask_shape) > 0.3
    _close(Softmax()(x, mask=mask), keras.layers.Softmax()(x, mask=mask))
    # Keras reads a float mask as `mask > 0.5`.
    fmask = mask.astype("float32")
    _close(Softmax()(x, mask=fmask), keras.layers.Softmax()(x, mask=fmask))


@pytest.mark.parametrize("shape,kwargs", [((3, 4), {}), ((2, 3, 3, 2), {"shared_axes": [1, 2]}),
                                          ((2, 3, 4), {"shared_axes": 1})])
def test_prelu_matches_keras(rng, shape, kwargs):
    x = rng.normal(size=shape).astype("float32")
    k = keras.layers.PReLU(**kwargs)
    k.build(x.shape)
    k.set_weights([rng.uniform(0.0, 0.5, size=w.shape).astype("float32") for w in k.get_weights()])
    n = PReLU(**kwargs)
    n(x)
    n.set_weights(k.get_weights())
    _close(n(x), k(x))


def test_embedding_matches_keras(rng):
    ids = rng.integers(0, 7, size=(4, 5)).astype("int32")
    k = keras.layers.Embedding(7, 3, mask_zero=True)
    k.build(ids.shape)
    n = Embedding(7, 3, mask_zero=True)
    n(ids)
    n.set_weights(k.get_weights())
    assert n.weights[0].shape == tuple(k.weights[0].shape) == (7, 3)
    _close(n(ids), k(ids))
    _close(n(ids.astype("float32")), k(ids.astype("float32")))  # float ids are cast
    np.testing.assert_array_equal(n.compute_mask(ids), k.compute_mask(ids))
    assert Embedding(7, 3).compute_mask(ids) is None is keras.layers.Embedding(7, 3).compute_mask(ids)


def test_masking_matches_keras(rng):
    x = rng.normal(size=(3, 4, 2)).astype("float32")
    x[0, 1] = 0.0
    x[2, 3] = 0.0
    x[1, 0, 0] = 0.0  # only one feature equal to mask_value: not masked
    k, n = keras.layers.Masking(), Masking()
    _close(n(x), k(x))
    np.testing.assert_array_equal(n.compute_mask(x), k.compute_mask(x))
    x[1, 2] = -1.0
    np.testing.assert_array_equal(Masking(-1.0).compute_mask(x),
                                  keras.layers.Masking(-1.0).compute_mask(x))
    _close(Masking(-1.0)(x), keras.layers.Masking(-1.0)(x))


def test_activity_regularization_loss_matches_keras(rng):
    x = rng.normal(size=(5, 3)).astype("float32")
    k, n = keras.layers.ActivityRegularization(0.01, 0.02), ActivityRegularization(0.01, 0.02)
    _close(n(x), k(x))
    assert len(n.losses) == len(k.losses) == 1
    _close(n.losses[0], k.losses[0])  # (l1 * sum|x| + l2 * sum x^2) / batch_size


@pytest.mark.parametrize("kiln_cls,keras_cls,args,shape", [
    (SpatialDropout1D, keras.layers.SpatialDropout1D, (0.5,), (2, 3, 4)),
    (SpatialDropout2D, keras.layers.SpatialDropout2D, (0.5,), (2, 3, 3, 4)),
    (SpatialDropout3D, keras.layers.SpatialDropout3D, (0.5,), (2, 2, 2, 2, 3)),
    (GaussianNoise, keras.layers.GaussianNoise, (0.3,), (3, 4)),
    (GaussianDropout, keras.layers.GaussianDropout, (0.3,), (3, 4)),
    (AlphaDropout, keras.layers.AlphaDropout, (0.3,), (3, 4)),
])
def test_random_layers_are_identity_at_inference_and_load_keras_configs(rng, kiln_cls, keras_cls,
                                                                         args, shape):
    x = rng.normal(size=shape).astype("float32")
    k = keras_cls(*args, seed=3)
    n = kiln_cls.from_config(k.get_config())
    assert n.get_config()["seed"] == 3
    _close(n(x), k(x))
    _close(n(x, training=False), x)


@pytest.mark.parametrize("keras_layer,kiln_cls", [
    (lambda: keras.layers.ReLU(max_value=3.0, threshold=0.1), ReLU),
    (lambda: keras.layers.LeakyReLU(0.1), LeakyReLU),
    (lambda: keras.layers.Softmax(axis=1), Softmax),
    (lambda: keras.layers.PReLU(alpha_initializer="ones", shared_axes=[1]), PReLU),
    (lambda: keras.layers.Embedding(9, 2, mask_zero=True,
                                    embeddings_regularizer=keras.regularizers.L2(0.1)), Embedding),
    (lambda: keras.layers.Masking(0.5), Masking),
    (lambda: keras.layers.ActivityRegularization(l1=0.1), ActivityRegularization),
])
def test_keras_configs_load_in_kiln(rng, keras_layer, kiln_cls):
    x = rng.integers(0, 9, size=(2, 3, 4)).astype("float32")
    k = keras_layer()
    k(x)
    n = kiln_cls.from_config(k.get_config())
    n(x)
    n.set_weights(k.get_weights())
    _close(n(x), k(x))
    _close(sum(n.losses, 0.0), sum(k.losses, 0.0))


def test_model_with_embedding_prelu_and_layer_norm_trains_like_keras(rng):
    ids = rng.integers(0, 10, size=(48, 6)).astype("int32")
    y = (ids.sum(axis=1, keepdims=True) / 30.0).astype("float32")

    def layers(lib, embedding, prelu, layer_norm):
        return [lib.Input((6,), dtype="int32"), embedding(10, 4), lib.layers.Reshape((24,)),
                lib.layers.Dense(8), prelu(), layer_norm(), lib.layers.Dense(1)]

    km = keras.Sequential(layers(keras, keras.layers.Embedding, keras.layers.PReLU,
                                 keras.layers.LayerNormalization))
    nm = kiln.Sequential(layers(kiln, Embedding, PReLU, LayerNormalization))
    weights = km.get_weights()
    weights[3] = rng.uniform(0.1, 0.3, size=weights[3].shape).astype("float32")  # PReLU alpha
    km.set_weights(weights)
    nm.set_weights(weights)
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    nm.compile(optimizer=kiln.optimizers.Adam(0.01), loss="mse")
    fit = {"epochs": 2, "batch_size": 16, "shuffle": False, "verbose": 0}
    kh, nh = km.fit(ids, y, **fit).history, nm.fit(ids, y, **fit).history
    np.testing.assert_allclose(nh["loss"], kh["loss"], rtol=1e-4)
    for nw, kw in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(nw, kw, rtol=1e-3, atol=1e-4)
