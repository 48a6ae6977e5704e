"""The color augmentation layers in kiln alone: ranges, per-call and per-seed draws, the
training switch, draws advancing in a compiled step, config round trip, fit, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.layers as L
from kiln import _scope
from kiln.layers import (
    AutoContrast,
    RandomColorDegeneration,
    RandomGrayscale,
    RandomHue,
    RandomPosterization,
    RandomSaturation,
    Solarization,
)

X = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)), "float32")
RANDOM = [(RandomGrayscale, {"factor": 0.5}),
          (Solarization, {"addition_factor": 0.3, "threshold_factor": 0.8}),
          (RandomPosterization, {"factor": 8}),
          (RandomColorDegeneration, {"factor": 0.9}),
          (RandomSaturation, {"factor": (0.1, 0.5)}),  # scale <= 1 keeps the range
          (RandomHue, {"factor": 0.8})]


@pytest.mark.parametrize("cls,kwargs", RANDOM)
def test_random_layer_properties(cls, kwargs):
    layer = cls(seed=3, **kwargs)
    a, b = layer(X, training=True), layer(X, training=True)
    assert a.shape == X.shape and a.dtype == X.dtype
    assert float(a.min()) >= 0.0 and float(a.max()) <= 255.0
    # the stream advances between calls (several calls: a per-image coin flip over 4 images,
    # as RandomGrayscale's, repeats its decisions 1 time in 16)
    later = [b] + [layer(X, training=True) for _ in range(5)]
    assert any(not np.allclose(a, c) for c in later)
    same = []
    for layer_ in (cls(seed=3, **kwargs), cls(seed=3, **kwargs)):
        with _scope.bind({}, training=True, key=jax.random.key(5)):
            same.append(layer_(X))
    np.testing.assert_allclose(same[0], same[1])  # same seed, same step key: same draw
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


@pytest.mark.parametrize("cls,kwargs", RANDOM + [(AutoContrast, {"value_range": (0, 1)})])
def test_config_round_trip(cls, kwargs):
    layer = cls(**kwargs)
    clone = L.deserialize(L.serialize(layer))
    assert clone.get_config() == layer.get_config()


def test_every_layer_trains_in_a_model():
    augment = [cls(seed=i, **kwargs) for i, (cls, kwargs) in enumerate(RANDOM)]
    model = kiln.Sequential([kiln.Input((8, 8, 3)), *augment, AutoContrast(), L.Rescaling(1 / 255),
                             L.Conv2D(2, 3), L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.asarray(X), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_deterministic_values():
    gray = RandomGrayscale(1.0)(X, training=True)
    np.testing.assert_allclose(gray[..., 0], gray[..., 2])
    np.testing.assert_allclose(Solarization()(X, training=True), 255.0 - X, atol=1e-4)
    y = AutoContrast()(X * 0.5 + 10.0)
    np.testing.assert_allclose(y.min(axis=(1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(y.max(axis=(1, 2)), 255.0, atol=1e-3)
    np.testing.assert_array_equal(AutoContrast()(jnp.full((1, 2, 2, 3), 7.0)), 7.0)
    one_bit = RandomPosterization((1, 1))(X, training=True)
    assert set(np.unique(one_bit).tolist()) <= {0.0, 128.0}
    for cls in (RandomColorDegeneration, RandomSaturation, RandomHue):
        unbatched = cls((1, 1), data_format="channels_first")
        assert unbatched(jnp.ones((3, 4, 4)), training=True).shape == (3, 4, 4)
        first = cls((1, 1), data_format="channels_first")(jnp.moveaxis(X, -1, 1), training=True)
        np.testing.assert_allclose(jnp.moveaxis(first, 1, -1), cls((1, 1))(X, training=True),
                                   atol=1e-3)
    np.testing.assert_allclose(RandomSaturation((0.5, 0.5))(X, training=True), X, atol=1e-2)


@pytest.mark.parametrize("make,match", [
    (lambda: RandomGrayscale(1.5), r"\[0, 1\]"),
    (lambda: Solarization(addition_factor=2.0), "addition_factor|factor"),
    (lambda: RandomPosterization(9), r"\[1, 8\]"),
    (lambda: RandomColorDegeneration((0.1, 0.2, 0.3)), "pair"),
    (lambda: AutoContrast(value_range=5), "value_range"),
])
def test_bad_arguments_say_what_was_expected(make, match):
    with pytest.raises(ValueError, match=match):
        make()
