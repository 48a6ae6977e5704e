"""Parity of the warp ops and of RandomGaussianBlur, RandomShear, RandomPerspective and
RandomElasticTransform with Keras 3 (JAX backend).

`perspective_transform` and `ssim` are compared on random inputs. Keras's
`elastic_transform` draws both displacements from one key (every pixel moves along the
diagonal); kiln's x field is Keras's draw and its y field a second key's, so kiln's warp is
compared with Keras's by handing it Keras's draw for both fields. The layers are compared
(a) with the random parameters that kiln drew handed to Keras's `transform_images`, (b) with
factors collapsed to one value, (c) at inference, and (d) through Keras's configs.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kiln
import kiln.layers as L
from kiln.layers._image_warp_augmentation import (
    RandomElasticTransform,
    RandomGaussianBlur,
    RandomPerspective,
    RandomShear,
)
from kiln.ops._image_warp import (
    elastic_transform,
    elastic_warp,
    perspective_transform,
    ssim,
)

RNG = np.random.default_rng(7)
X = RNG.uniform(0, 255, size=(3, 10, 12, 3)).astype("float32")
X_UNIT = (X / 255.0).astype("float32")
Y_UNIT = np.clip(X_UNIT + RNG.normal(0, 0.1, X.shape), 0, 1).astype("float32")
START = np.array([[0, 0], [11, 0], [0, 9], [11, 9]], "float32")
END = (START + RNG.uniform(-2, 2, (3, 4, 2))).astype("float32")
OURS = {c.__name__: c for c in (RandomGaussianBlur, RandomShear, RandomPerspective,
                                 RandomElasticTransform)}
KEY = jax.random.key(11)


def close(a, b, tol=1e-4):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("kwargs", [{}, {"interpolation": "nearest", "fill_value": 0.5}])
def test_perspective_transform_matches_keras(kwargs):
    close(perspective_transform(X_UNIT, START[None].repeat(3, 0), END, **kwargs),
          keras.ops.image.perspective_transform(X_UNIT, START[None].repeat(3, 0), END,
                                                **kwargs), 1e-5)
    close(perspective_transform(X_UNIT[0], START, END[0], **kwargs),
          keras.ops.image.perspective_transform(X_UNIT[0], START, END[0], **kwargs), 1e-5)
    if not kwargs:
        first = np.moveaxis(X_UNIT, -1, 1)
        close(perspective_transform(first, START[None].repeat(3, 0), END,
                                    data_format="channels_first"),
              keras.ops.image.perspective_transform(first, START[None].repeat(3, 0), END,
                                                    data_format="channels_first"), 1e-5)


@pytest.mark.parametrize("kwargs", [{"filter_size": 7},
                                    {"filter_size": 5, "filter_sigma": 0.8, "max_val": 2.0,
                                     "k1": 0.02, "k2": 0.05}])
def test_ssim_matches_keras(kwargs):
    close(ssim(X_UNIT, Y_UNIT, **kwargs), keras.ops.image.ssim(X_UNIT, Y_UNIT, **kwargs), 1e-5)
    close(ssim(X_UNIT[1], Y_UNIT[1], **kwargs),
          keras.ops.image.ssim(X_UNIT[1], Y_UNIT[1], **kwargs), 1e-5)
    first = [np.moveaxis(v, -1, 1) for v in (X_UNIT, Y_UNIT)]
    close(ssim(*first, data_format="channels_first", **kwargs),
          keras.ops.image.ssim(*first, data_format="channels_first", **kwargs), 1e-5)


def _keras_noise(seed, shape):
    n = jax.random.normal(jnp.array([seed, 0], jnp.uint32), shape, jnp.float32)
    return jnp.stack([n, n])  # Keras's dx and dy: one draw


@pytest.mark.parametrize("kwargs", [
    {"alpha": 3.0, "sigma": 1.3},
    {"alpha": 6.0, "sigma": 0.7, "interpolation": "nearest", "fill_mode": "constant",
     "fill_value": 0.5},
    {"alpha": 2.0, "sigma": 2.2, "fill_mode": "wrap"}])
def test_elastic_warp_matches_keras_given_its_draw(kwargs):
    kwargs = dict(kwargs)
    theirs = keras.ops.image.elastic_transform(X_UNIT, seed=5, **kwargs)
    alpha, sigma = kwargs.pop("alpha"), kwargs.pop("sigma")
    ours = elastic_warp(jnp.asarray(X_UNIT), _keras_noise(5, (3, 10, 12)), alpha, sigma, sigma,
                        **kwargs)
    close(ours, theirs, 1e-5)
    if "fill_mode" in kwargs:
        return
    first = np.moveaxis(X_UNIT, -1, 1)
    theirs = keras.ops.image.elastic_transform(first, alpha, sigma, seed=5,
                                               data_format="channels_first", **kwargs)
    ours = elastic_warp(jnp.asarray(first), _keras_noise(5, (3, 10, 12)), alpha, sigma, sigma,
                        data_format="channels_first", **kwargs)
    close(ours, theirs, 1e-5)


def test_elastic_transform_shape_and_dtype():
    for x in (X_UNIT, X_UNIT[0]):
        a = elastic_transform(x, 3.0, 1.3, seed=2)
        b = keras.ops.image.elastic_transform(x, 3.0, 1.3, seed=2)
        assert a.shape == b.shape and a.dtype == b.dtype
        assert not np.allclose(a, x)


# --------------------------------------------------------------------------------- layers

def _blur_params(ours, x):
    p = ours.draw(KEY, jnp.asarray(x))
    return p, {"should_apply_blur": p["apply"], "blur_factor": p["sigma"]}


def _shear_params(ours, x):
    p = ours.draw(KEY, jnp.asarray(x))
    return p, {"shear_factor": p["shear_factor"], "input_shape": x.shape}


def _perspective_params(ours, x):
    p = ours.draw(KEY, jnp.asarray(x))
    return p, {"apply_perspective": p["apply"], "start_points": p["start_points"],
               "end_points": p["end_points"], "input_shape": x.shape}


def _elastic_params(ours, x):
    p = ours.draw(KEY, jnp.asarray(x))
    p["noise"] = _keras_noise(9, (x.shape[0], 10, 12))
    return p, {"apply_transform": p["apply"], "distortion_factor": p["strength"], "seed": 9}


DRAWN = [
    ("RandomGaussianBlur", {"factor": 0.7, "kernel_size": (3, 5), "sigma": (0.2, 0.9)},
     _blur_params),
    ("RandomShear", {"x_factor": 0.3, "y_factor": (0.1, 0.4)}, _shear_params),
    ("RandomPerspective", {"factor": 0.8, "scale": 0.5}, _perspective_params),
    ("RandomElasticTransform", {"factor": 0.9, "scale": (0.3, 0.9)}, _elastic_params),
    ("RandomElasticTransform", {"scale": 0.6, "fill_mode": "constant", "fill_value": 7.0,
                                "interpolation": "nearest"}, _elastic_params),
]


@pytest.mark.parametrize("name,kwargs,params", DRAWN)
def test_layer_matches_keras_given_the_draw(name, kwargs, params):
    ours, theirs = OURS[name](**kwargs), getattr(keras.layers, name)(**kwargs)
    mine, keras_params = params(ours, X)
    close(ours.apply(jnp.asarray(X), mine), theirs.transform_images(X, keras_params), 2e-3)


COLLAPSED = [
    ("RandomGaussianBlur", {"factor": (1, 1), "sigma": (0.5, 0.5), "kernel_size": 5}),
    ("RandomGaussianBlur", {"factor": (0, 0), "value_range": (0, 100)}),
    ("RandomShear", {}), ("RandomPerspective", {"scale": 0.0}),
    ("RandomPerspective", {"factor": 0.0}), ("RandomElasticTransform", {"factor": 0.0}),
    ("RandomElasticTransform", {"scale": 0.0}),
]


@pytest.mark.parametrize("name,kwargs", COLLAPSED)
def test_collapsed_factors_match_keras(name, kwargs):
    ours, theirs = OURS[name](**kwargs), getattr(keras.layers, name)(**kwargs)
    close(ours(X, training=True), theirs(X, training=True), 2e-3)


def test_shear_sign_is_one_of_keras_two():
    ours = RandomShear(x_factor=(0.2, 0.2), y_factor=(0.1, 0.1), seed=1)
    theirs = keras.layers.RandomShear(x_factor=(0.2, 0.2), y_factor=(0.1, 0.1))
    y = np.asarray(ours(X, training=True))
    options = [np.asarray(theirs.transform_images(X, {"shear_factor": np.tile(
        np.array([[0.2, 0.1]], "float32") * s, (3, 1))})) for s in (1.0, -1.0)]
    for i in range(3):
        assert any(np.allclose(y[i], o[i], atol=2e-3) for o in options), i


CONFIGS = [("RandomGaussianBlur", {"factor": 0.4, "kernel_size": 5, "sigma": (0.2, 0.6),
                                   "value_range": (0, 1), "seed": 5}),
           ("RandomShear", {"x_factor": (0.1, 0.3), "y_factor": (0.0, 0.2), "seed": 2,
                            "fill_mode": "constant", "fill_value": 1.0}),
           ("RandomPerspective", {"factor": (0.2, 0.9), "scale": 0.4, "seed": 3,
                                  "interpolation": "nearest"}),
           ("RandomElasticTransform", {"factor": 0.5, "scale": (0.1, 0.4), "seed": 4,
                                       "fill_mode": "mirror", "value_range": (0, 1)})]


@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_inference_and_keras_config(name, kwargs):
    theirs = getattr(keras.layers, name)(**kwargs)
    with kiln.saving.custom_object_scope(OURS):
        ours = L.deserialize(keras.layers.serialize(theirs))
    assert type(ours) is OURS[name]
    close(ours(X, training=False), theirs(X, training=False))
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) == set(theirs_config)
    for key, value in theirs_config.items():
        if key in ("dtype", "name", "trainable"):
            continue
        if isinstance(value, (int, float, tuple, list)) and value is not None:
            assert np.allclose(np.asarray(ours_config[key], float),
                               np.asarray(value, float)), key
        else:
            assert ours_config[key] == value, key
    rebuilt = type(theirs).from_config(ours.get_config())
    assert rebuilt.get_config().keys() == theirs_config.keys()


def test_keras_cannot_rebuild_its_shear_config_but_kiln_can():
    """Keras 3.15 stores x_factor=0.2 as (-0.2, 0.2) and then rejects that pair."""
    config = keras.layers.RandomShear(x_factor=0.2).get_config()
    with pytest.raises((TypeError, ValueError), match="range"):
        keras.layers.RandomShear.from_config(config)
    assert RandomShear.from_config(config).x_factor == (-0.2, 0.2)
