"""New layers against Keras 3 (JAX backend): EinsumDense, TimeDistributed, Identity,
SpectralNormalization on copied weights, Resizing/CenterCrop exactly, and the random image
layers at inference (identity); configs round-trip and Keras's configs load."""

import keras
import numpy as np
import pytest

import kiln.layers as L


def _close(actual, expected, rtol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=1e-5)


EINSUM_CASES = [("ab,bc->ac", 4, "c", (3, 5)), ("abc,cd->abd", (2, 4), "d", (3, 2, 5)),
                ("...b,bc->...c", 4, None, (3, 2, 5)), ("abc,cde->abde", (2, 3, 4), "de", (3, 2, 5)),
                ("abc,cd->abd", (2, 4), "bd", (3, 2, 5))]


@pytest.mark.parametrize("equation,out,bias,shape", EINSUM_CASES)
def test_einsum_dense_matches_keras(rng, equation, out, bias, shape):
    x = rng.normal(size=shape).astype("float32")
    k = keras.layers.EinsumDense(equation, out, bias_axes=bias, activation="relu")
    k.build(shape)
    k.set_weights([rng.normal(size=w.shape).astype("float32") for w in k.get_weights()])
    n = L.EinsumDense(equation, out, bias_axes=bias, activation="relu")
    n(x)
    assert [tuple(w.shape) for w in n.weights] == [tuple(w.shape) for w in k.weights]
    n.set_weights(k.get_weights())
    _close(n(x), k(x))
    again = L.EinsumDense.from_config(n.get_config())
    assert again.get_config() == n.get_config()
    assert L.deserialize(keras.layers.serialize(k)).equation == equation


def test_time_distributed_and_identity_match_keras(rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    k = keras.layers.TimeDistributed(keras.layers.Dense(5))
    k.build(x.shape)
    n = L.TimeDistributed(L.Dense(5))
    n(x)
    n.set_weights(k.get_weights())
    _close(n(x), k(x))
    loaded = L.deserialize(keras.layers.serialize(k))
    assert isinstance(loaded.layer, L.Dense) and loaded.layer.units == 5
    _close(L.Identity()(x), keras.layers.Identity()(x))


@pytest.mark.parametrize("make,shape", [(lambda m: m.Dense(3), (2, 4)),
                                        (lambda m: m.Conv2D(3, 2), (2, 4, 4, 2))])
def test_spectral_normalization_matches_keras(rng, make, shape):
    x = rng.normal(size=shape).astype("float32")
    k = keras.layers.SpectralNormalization(make(keras.layers), power_iterations=2)
    k.build(x.shape)
    n = L.SpectralNormalization(make(L), power_iterations=2)
    n(x, training=False)
    values = {w.path.split("/")[-1]: rng.normal(size=w.shape).astype("float32") for w in k.weights}
    for w in k.weights:
        w.assign(values[w.path.split("/")[-1]])
    n.set_weights([values[w.path.split("/")[-1]] for w in n.weights])
    _close(n(x, training=False), k(x, training=False))
    _close(n(x, training=True), k(x, training=True), rtol=1e-4)
    _close(n.vector_u.value, k.vector_u.value, rtol=1e-4)
    assert L.SpectralNormalization.from_config(n.get_config()).power_iterations == 2


RESIZE_CASES = [{}, {"interpolation": "nearest"}, {"crop_to_aspect_ratio": True},
                {"pad_to_aspect_ratio": True, "fill_value": 1.0},
                {"antialias": True, "data_format": "channels_first"}]


@pytest.mark.parametrize("kwargs", RESIZE_CASES)
def test_resizing_matches_keras(rng, kwargs):
    x = rng.uniform(0, 255, size=(2, 6, 9, 3)).astype("float32")
    _close(L.Resizing(4, 5, **kwargs)(x), keras.layers.Resizing(4, 5, **kwargs)(x), rtol=1e-4)
    cfg = L.Resizing(4, 5, **kwargs).get_config()
    assert L.Resizing.from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("size", [(4, 5), (8, 3), (2, 12)])
def test_center_crop_matches_keras(rng, size):
    x = rng.uniform(0, 255, size=(2, 6, 9, 3)).astype("float32")
    _close(L.CenterCrop(*size)(x), keras.layers.CenterCrop(*size)(x), rtol=1e-4)


RANDOM = [("RandomFlip", {}), ("RandomFlip", {"mode": "horizontal"}),
          ("RandomBrightness", {"factor": 0.3}), ("RandomContrast", {"factor": 0.4}),
          ("RandomInvert", {"factor": 0.5})]


@pytest.mark.parametrize("name,kwargs", RANDOM)
def test_random_image_layers_inference_matches_keras(rng, name, kwargs):
    x = rng.uniform(0, 255, size=(2, 5, 5, 3)).astype("float32")
    k = getattr(keras.layers, name)(seed=3, **kwargs)
    n = getattr(L, name)(seed=3, **kwargs)
    _close(n(x, training=False), k(x, training=False))
    loaded = L.deserialize(keras.layers.serialize(k))
    assert type(loaded) is type(n) and loaded.seed == 3


ADAPTIVE = [("AdaptiveAveragePooling1D", 3, (2, 7, 2)), ("AdaptiveMaxPooling1D", 4, (2, 7, 2)),
            ("AdaptiveAveragePooling2D", (2, 3), (2, 5, 7, 2)),
            ("AdaptiveMaxPooling2D", (3, 2), (2, 5, 7, 2)),
            ("AdaptiveAveragePooling3D", 2, (1, 3, 5, 4, 2)),
            ("AdaptiveMaxPooling3D", (2, 3, 2), (1, 3, 5, 4, 2))]
DATA_FORMATS = ["channels_last", "channels_first"] * 3


@pytest.mark.parametrize("case,data_format", list(zip(ADAPTIVE, DATA_FORMATS)))
def test_adaptive_pooling_matches_keras(rng, case, data_format):
    name, size, shape = case
    x = rng.normal(size=shape).astype("float32")
    k = getattr(keras.layers, name)(size, data_format=data_format)
    n = getattr(L, name)(size, data_format=data_format)
    _close(n(x), k(x))
    assert type(n).from_config(n.get_config()).get_config() == n.get_config()
