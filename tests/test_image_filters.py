"""RandomSharpness, Equalization and RandomColorJitter in kiln alone: ranges, per-call and
per-seed draws, the training switch, draws advancing in a compiled step, formulas, config
round trip, one fit, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.layers as L
from kiln import _scope
from kiln._scope import next_rng_key
from kiln.layers import Equalization, RandomColorJitter, RandomSharpness
from kiln.layers._image_filters import equalize_channels, smooth_images

X = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)), "float32")
JITTER = {"brightness_factor": 0.2, "contrast_factor": 0.3, "saturation_factor": (0.3, 0.5),
              "hue_factor": 0.2}
RANDOM = [(RandomSharpness, {"factor": 0.9}), (RandomColorJitter, JITTER)]


@pytest.mark.parametrize("cls,kwargs", RANDOM)
def test_random_layer_properties(cls, kwargs):
    layer = cls(seed=3, **kwargs)
    a, b = layer(X, training=True), layer(X, training=True)
    assert a.shape == X.shape and a.dtype == X.dtype
    assert float(a.min()) >= -1e-3 and float(a.max()) <= 255.0 + 1e-3
    assert not np.allclose(a, b)  # the stream advances between calls
    same = []
    for layer_ in (cls(seed=3, **kwargs), cls(seed=3, **kwargs)):
        with _scope.bind({}, training=True, key=jax.random.key(5)):
            same.append(layer_(X))
    np.testing.assert_allclose(same[0], same[1])
    np.testing.assert_array_equal(layer(X, training=False), X)


@pytest.mark.parametrize("cls,kwargs", RANDOM)
def test_draws_advance_inside_a_compiled_step(cls, kwargs):
    layer = cls(**kwargs)

    @jax.jit
    def step(x, key):
        with _scope.bind({}, training=True, key=key):
            return layer(x)
    a = step(X, jax.random.key(0))
    assert not np.allclose(a, step(X, jax.random.key(1)))
    np.testing.assert_allclose(a, step(X, jax.random.key(0)))


def test_sharpness_formula():
    np.testing.assert_allclose(RandomSharpness((0.5, 0.5))(X, training=True), X, atol=1e-4)
    flat = jnp.full((1, 5, 5, 2), 13.0)
    smooth = smooth_images(flat)
    np.testing.assert_allclose(smooth[0, 1:-1, 1:-1], 13.0, atol=1e-5)  # the kernel sums to 1
    np.testing.assert_allclose(smooth[0, 0, 0], 8.0, atol=1e-5)  # zero padding: 3/13 + 5/13
    blurred = RandomSharpness((0.0, 0.0))(X, training=True)
    np.testing.assert_allclose(blurred, smooth_images(X), atol=1e-4)
    sharp = RandomSharpness((1.0, 1.0), value_range=(-1e4, 1e4))(X, training=True)
    np.testing.assert_allclose(sharp, 2 * X - smooth_images(X), atol=1e-3)
    first = RandomSharpness((0.2, 0.2), data_format="channels_first")
    y = first(jnp.moveaxis(X, -1, 1), training=True)
    np.testing.assert_allclose(jnp.moveaxis(y, 1, -1),
                               RandomSharpness((0.2, 0.2))(X, training=True), atol=1e-4)
    assert RandomSharpness(0.3)(X[0], training=True).shape == X[0].shape


def test_equalization_values():
    y = Equalization()(X)
    assert y.shape == X.shape and y.dtype == X.dtype
    assert float(y.min()) == 0.0 and float(y.max()) == 255.0
    counts = np.histogram(np.asarray(y[..., 0]), bins=4, range=(0, 255))[0]
    assert counts.min() > 0.15 * counts.sum()  # spread out over the range
    np.testing.assert_array_equal(Equalization()(X, training=False), X)
    constant = X.at[..., 1].set(40.0)
    np.testing.assert_array_equal(Equalization()(constant)[..., 1], 40.0)  # one level: kept
    unit = Equalization(value_range=(0, 1))(X / 255.0)
    np.testing.assert_allclose(unit * 255.0, y, atol=1e-3)
    first = Equalization(data_format="channels_first")(jnp.moveaxis(X, -1, 1))
    np.testing.assert_allclose(jnp.moveaxis(first, 1, -1), y)
    np.testing.assert_allclose(jax.jit(equalize_channels)(X), equalize_channels(X))
    assert len(np.unique(Equalization(bins=4)(X)[..., 0])) <= 4


def test_color_jitter_chains_the_four_layers():
    layer = RandomColorJitter(**JITTER, seed=2)
    assert [type(s).__name__ for s in layer.steps] == [
        "RandomBrightness", "RandomContrast", "RandomSaturation", "RandomHue"]
    with _scope.bind({}, training=True, key=jax.random.key(7)):
        expected = X
        for step, step_key in zip(layer.steps, jax.random.split(next_rng_key(2), 4)):
            expected = step.transform(expected, step_key)
    with _scope.bind({}, training=True, key=jax.random.key(7)):
        np.testing.assert_allclose(layer(X), expected, atol=1e-4)
    only = RandomColorJitter(brightness_factor=(0.1, 0.1))
    assert len(only.steps) == 1
    np.testing.assert_allclose(only(X, training=True), jnp.clip(X + 25.5, 0, 255), atol=1e-4)
    np.testing.assert_array_equal(RandomColorJitter()(X, training=True), X)


@pytest.mark.parametrize("layer", [RandomSharpness((0.2, 0.7), value_range=(0, 1), seed=4),
                                   Equalization(value_range=(0, 1), bins=64),
                                   RandomColorJitter((0, 1), **JITTER, seed=1)])
def test_config_round_trip(layer):
    clone = L.deserialize(L.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_layers_train_in_a_model():
    model = kiln.Sequential([kiln.Input((8, 8, 3)), RandomSharpness(0.8, seed=0), Equalization(),
                             RandomColorJitter(**JITTER, seed=1), L.Rescaling(1 / 255),
                             L.Conv2D(2, 3), L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.asarray(X), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("make,match", [
    (lambda: RandomSharpness(1.5), r"\[0, 1\]"),
    (lambda: RandomSharpness(0.5, value_range=3), "value_range"),
    (lambda: Equalization(bins=0), "positive int"),
    (lambda: Equalization(value_range=(0, 1, 2)), "pair"),
    (lambda: RandomColorJitter(brightness_factor=2.0), r"\[-1, 1\]"),
    (lambda: RandomColorJitter(value_range="0-255"), "value_range"),
])
def test_bad_arguments_say_what_was_expected(make, match):
    with pytest.raises(ValueError, match=match):
        make()
