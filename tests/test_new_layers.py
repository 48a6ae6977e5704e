"""New layers in kiln alone: the random image layers (training only, seeded, in range, under
jit), SpectralNormalization's state update, and tiny fits through EinsumDense,
TimeDistributed and SpectralNormalization."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import _scope
import kiln.layers as L

RANDOM = [(L.RandomFlip, {"mode": "vertical"}),
          (L.RandomBrightness, {"factor": 0.5}), (L.RandomContrast, {"factor": 0.5}), (L.RandomInvert, {})]


def _images():
    return jnp.asarray(np.random.default_rng(0).uniform(0, 255, (4, 5, 5, 3)), "float32")


def _in_step(layer, x, key):
    @jax.jit
    def step(x, key):
        with _scope.bind({}, training=True, key=key):
            return layer(x)
    return step(x, key)


@pytest.mark.parametrize("cls,kwargs", RANDOM)
def test_random_image_layer_training_only_seeded_in_range(cls, kwargs):
    x = _images()
    layer = cls(seed=7, **kwargs)
    np.testing.assert_array_equal(layer(x, training=False), x)
    a = _in_step(layer, x, jax.random.key(1))
    b = _in_step(layer, x, jax.random.key(1))
    c = _in_step(layer, x, jax.random.key(2))
    assert a.shape == x.shape and a.dtype == x.dtype
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) or not np.array_equal(a, x)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 255.0
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_random_flip_flips_whole_images():
    x = _images()
    y = np.asarray(_in_step(L.RandomFlip("horizontal", seed=0), x, jax.random.key(3)))
    for i in range(x.shape[0]):
        assert np.array_equal(y[i], x[i]) or np.array_equal(y[i], x[i, :, ::-1])


def test_spectral_normalization_bounds_the_norm():
    layer = L.SpectralNormalization(L.Dense(4), power_iterations=20)
    x = jnp.ones((2, 6))
    layer(x, training=True)
    sigma = np.linalg.svd(np.asarray(layer.layer.kernel.value), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 1e-3
    assert len(layer.non_trainable_weights) == 1


def test_tiny_fit_through_new_layers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3, 4)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None].astype("float32")
    model = kiln.Sequential([
        kiln.layers.Input((3, 4)),
        L.TimeDistributed(L.Dense(5)),
        L.EinsumDense("abc,bcd->ad", output_shape=1, bias_axes="d"),
        L.Identity(),
    ])
    model.compile(optimizer=kiln.optimizers.Adam(0.05), loss="mse")
    losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert model.predict(x, verbose=0).shape == (16, 1)


def test_spectral_normalization_fits_and_updates_vector_u():
    x = np.random.default_rng(1).normal(size=(8, 4)).astype("float32")
    sn = L.SpectralNormalization(L.Dense(2))
    model = kiln.Sequential([kiln.layers.Input((4,)), sn])
    model.compile(optimizer="sgd", loss="mse")
    before = np.asarray(sn.vector_u.value)
    losses = model.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses))
    assert not np.allclose(np.asarray(sn.vector_u.value), before)
