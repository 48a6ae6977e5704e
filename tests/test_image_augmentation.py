"""The geometric augmentation layers in kiln alone: shapes, dtypes, ranges, per-image
draws, same draw for the same key, training switch, jit, config round trip, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import _scope
import kiln.layers as L
from kiln.layers._image_affine import affine_transform

X = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)), "float32")
LAYERS = [(L.RandomRotation, {"factor": 0.2}),
          (L.RandomZoom, {"height_factor": 0.3, "width_factor": (-0.2, 0.4)}),
          (L.RandomTranslation, {"height_factor": 0.3, "width_factor": 0.3})]


_STEPS = {}


def _in_step(layer, x, key):
    """Calls `layer` in a compiled training step (one compiled step per layer)."""
    if id(layer) not in _STEPS:
        def step(x, key):
            with _scope.bind({}, training=True, key=key):
                return layer(x)
        _STEPS[id(layer)] = (layer, jax.jit(step))
    return _STEPS[id(layer)][1](x, key)


@pytest.mark.parametrize("cls,kwargs", LAYERS)
def test_affine_layer_properties(cls, kwargs):
    layer = cls(seed=3, fill_mode="constant", **kwargs)
    np.testing.assert_array_equal(layer(X, training=False), X)
    a, b = _in_step(layer, X, jax.random.key(1)), _in_step(layer, X, jax.random.key(1))
    c = _in_step(layer, X, jax.random.key(2))
    assert a.shape == X.shape and a.dtype == X.dtype
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 255.0
    same_as_first = [np.allclose(a[i], a[0]) for i in range(1, 4)]
    a_x = [np.allclose(a[i] - X[i], a[0] - X[0]) for i in range(1, 4)]
    assert not all(a_x) and not all(same_as_first)  # one draw per image
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_unbatched_channels_first_and_bfloat16():
    layer = L.RandomRotation(0.3, seed=0, data_format="channels_first", dtype="bfloat16")
    y = layer(jnp.transpose(X[0], (2, 0, 1)), training=True)
    assert y.shape == (3, 8, 8) and y.dtype == jnp.bfloat16


def test_affine_transform_identity_and_shift():
    identity = jnp.array([1.0, 0, 0, 0, 1, 0, 0, 0])
    np.testing.assert_allclose(affine_transform(X, identity), X, atol=1e-4)
    shift = jnp.array([1.0, 0, -1, 0, 1, 0, 0, 0])  # content moves one pixel right
    y = affine_transform(X, shift, interpolation="nearest", fill_value=-1.0)
    np.testing.assert_array_equal(y[:, :, 1:], X[:, :, :-1])
    np.testing.assert_array_equal(y[:, :, 0], -1.0)


def test_random_crop_windows():
    layer = L.RandomCrop(5, 6, seed=0)
    np.testing.assert_array_equal(layer(X, training=False), X[:, 1:6, 1:7])
    crops = [np.asarray(_in_step(layer, X, jax.random.key(k))) for k in range(6)]
    assert all(c.shape == (4, 5, 6, 3) for c in crops)
    flat = np.asarray(X)
    starts = {next((i, j) for i in range(4) for j in range(3)
                   if np.array_equal(c, flat[:, i:i + 5, j:j + 6])) for c in crops}
    assert len(starts) > 1
    assert layer.from_config(layer.get_config()).get_config() == layer.get_config()
    assert L.RandomCrop(10, 10)(X, training=True).shape == (4, 10, 10, 3)


def test_random_crop_trains_in_a_model():
    model = kiln.Sequential([kiln.Input((8, 8, 3)), L.RandomCrop(6, 6, seed=1), L.Flatten(),
                             L.Dense(2)])
    model.compile("sgd", "mse")
    model.fit(np.asarray(X), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert model.predict(np.asarray(X), verbose=0).shape == (4, 2)


@pytest.mark.parametrize("make,match", [
    (lambda: L.RandomRotation(0.1, fill_mode="mirror"), "fill_mode"),
    (lambda: L.RandomZoom(0.1, interpolation="bicubic"), "interpolation"),
    (lambda: L.RandomZoom((-1.5, 0.0)), ">= -1"),
    (lambda: L.RandomTranslation((0.1, 0.2, 0.3), 0.1), "pair"),
])
def test_bad_arguments_say_what_was_expected(make, match):
    with pytest.raises(ValueError, match=match):
        make()
