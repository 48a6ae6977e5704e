"""kiln.initializers: distributions, fans, shapes, dtypes, seeding, lookup and configs."""

import math

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kiln import _random, initializers
from kiln._variables import Variable

BIG = (300, 200)  # 60,000 draws: sample mean and std are good to well under 2%


def _stats(initializer, shape=BIG):
    x = np.asarray(initializer(shape), np.float64)
    return x, x.mean(), x.std()


@pytest.mark.parametrize("shape,fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((3, 5), (3, 5)),
    ((3, 3, 4, 8), (36, 72)), ((2, 3, 3, 4, 8), (72, 144)),
])
def test_compute_fans_as_keras(shape, fans):
    assert initializers.compute_fans(shape) == fans
    assert initializers.compute_fans((2, 3, 4), input_axes=(0, 1), output_axes=(2,)) == (6, 4)


def test_random_normal_and_uniform_statistics():
    _, mean, std = _stats(initializers.RandomNormal(mean=1.0, stddev=2.0, seed=1))
    assert abs(mean - 1.0) < 0.03 and abs(std - 2.0) < 0.03
    x, mean, std = _stats(initializers.RandomUniform(-2.0, 4.0, seed=2))
    assert x.min() >= -2.0 and x.max() < 4.0
    assert abs(mean - 1.0) < 0.03 and abs(std - 6 / math.sqrt(12)) < 0.02
    x, mean, std = _stats(initializers.get("uniform"))  # Keras default: U(-0.05, 0.05)
    assert x.min() >= -0.05 and x.max() < 0.05


def test_truncated_normal_statistics():
    x, mean, std = _stats(initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=3))
    assert x.min() >= 0.5 - 0.2 - 1e-6 and x.max() <= 0.5 + 0.2 + 1e-6
    # A unit normal cut at +-2 has stddev 0.8796; the initializer does not rescale it.
    assert abs(mean - 0.5) < 0.002 and abs(std - 0.1 * 0.87962566) < 0.002


@pytest.mark.parametrize("name,variance,uniform", [
    ("glorot_uniform", 2 / (300 + 200), True), ("glorot_normal", 2 / (300 + 200), False),
    ("he_uniform", 2 / 300, True), ("he_normal", 2 / 300, False),
    ("lecun_uniform", 1 / 300, True), ("lecun_normal", 1 / 300, False),
])
def test_variance_scaling_family_statistics(name, variance, uniform):
    x, mean, std = _stats(initializers.get(name))
    assert abs(mean) < 0.01 * math.sqrt(variance) * 3
    assert abs(std / math.sqrt(variance) - 1) < 0.02
    bound = math.sqrt(3 * variance) if uniform else 2 * math.sqrt(variance) / 0.87962566
    assert np.abs(x).max() <= bound * (1 + 1e-6)


def test_variance_scaling_modes_on_conv_kernel():
    shape = (3, 3, 16, 32)  # fan_in 144, fan_out 288
    for mode, n in (("fan_in", 144), ("fan_out", 288), ("fan_avg", 216)):
        init = initializers.VarianceScaling(scale=3.0, mode=mode, distribution="untruncated_normal",
                                            seed=0)
        _, _, std = _stats(init, shape)
        assert abs(std / math.sqrt(3.0 / n) - 1) < 0.05
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="scale > 0"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution must be one of"):
        initializers.VarianceScaling(distribution="cauchy")


@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (5, 5), (3, 3, 4, 8)])
def test_orthogonal_is_orthogonal(shape):
    q = np.asarray(initializers.Orthogonal(gain=2.0, seed=4)(shape), np.float64)
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1]) / 2.0
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)
    with pytest.raises(ValueError, match="rank >= 2"):
        initializers.Orthogonal()((4,))


def test_constant_initializers():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("one")((2,)), np.ones(2))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(initializers.Constant([1, 2])((3, 2)), [[1, 2]] * 3)
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2-D shape"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("name", ["zeros", "ones", "constant", "random_normal", "random_uniform",
                                  "truncated_normal", "glorot_uniform", "he_normal",
                                  "orthogonal", "identity"])
def test_shapes_and_dtypes(name):
    for dtype in (None, "bfloat16") if name in ("glorot_uniform", "orthogonal") else (None,):
        x = initializers.get(name)((4, 4), dtype=dtype)
        assert isinstance(x, jax.Array) and x.shape == (4, 4)
        assert x.dtype == jnp.dtype(dtype or "float32")
    assert initializers.get(name)((3, 2), dtype="float16").dtype == jnp.float16


def test_seeding_follows_keras():
    a = initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(a((3, 4)), a((3, 4)))  # same instance, same values
    np.testing.assert_array_equal(a((3, 4)), initializers.GlorotUniform(seed=7)((3, 4)))
    assert not np.allclose(a((3, 4)), initializers.GlorotUniform(seed=8)((3, 4)))
    # An int seed gives Keras's own numbers (same key, same jax.random calls), so the
    # values are fixed across processes and equal to keras.initializers' for that seed.
    for cls in ("RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform",
                "HeNormal", "Orthogonal"):
        want = getattr(keras.initializers, cls)(seed=11)((5, 4))
        np.testing.assert_array_equal(getattr(initializers, cls)(seed=11)((5, 4)), want)


def test_unseeded_initializers_follow_set_random_seed():
    def draw():
        _random.set_random_seed(123)
        return [np.asarray(initializers.HeNormal()((3, 3))) for _ in range(2)]

    first, second = draw(), draw()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.allclose(first[0], first[1])  # two instances draw two seeds
    # Same seed, same construction order as Keras: the same initial weights.
    keras.utils.set_random_seed(123)
    np.testing.assert_array_equal(first[0], keras.initializers.HeNormal()((3, 3)))


def test_sample_is_pure_and_jittable():
    init = initializers.get("glorot_normal")
    k1, k2 = jax.random.split(jax.random.key(0))
    sample = jax.jit(lambda key: init.sample(key, (4, 3)), static_argnums=())
    np.testing.assert_array_equal(sample(k1), init.sample(k1, (4, 3)))
    assert not np.allclose(sample(k1), sample(k2))
    np.testing.assert_array_equal(init.sample(None, (4, 3)), init((4, 3)))
    assert initializers.Zeros().sample(k1, (2,), "int32").dtype == jnp.int32


def test_get_accepts_every_keras_identifier_form():
    from keras.src.initializers import ALL_OBJECTS_DICT
    for name in ALL_OBJECTS_DICT:
        if "STFT" in name or name == "stft":
            continue
        assert type(initializers.get(name)).__name__ == ALL_OBJECTS_DICT[name].__name__
    inst = initializers.HeUniform(seed=1)
    assert initializers.get(inst) is inst
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    fn = lambda shape, dtype=None: jnp.ones(shape)  # noqa: E731
    assert initializers.get(fn) is fn
    assert initializers.get(None) is None
    from_array = initializers.get(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(from_array((2, 3)), np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="shape"):
        from_array((3, 2))
    np.testing.assert_array_equal(initializers.get(Variable(np.ones(2), name="w"))((2,)), [1, 1])


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_unifrom'.*'glorot_uniform'"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get(3.5)
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="x")


@pytest.mark.parametrize("make", [
    lambda m: m.RandomNormal(0.1, 0.2, seed=3), lambda m: m.RandomUniform(seed=2),
    lambda m: m.TruncatedNormal(stddev=0.3), lambda m: m.GlorotUniform(),
    lambda m: m.HeNormal(seed=5), lambda m: m.Orthogonal(gain=2.0),
    lambda m: m.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
    lambda m: m.Constant(3.0), lambda m: m.Zeros(),
])
def test_configs_match_keras_and_round_trip(make):
    ours, theirs = make(initializers), make(keras.initializers)
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == keras.initializers.serialize(theirs)
    rebuilt = initializers.get(keras.initializers.serialize(theirs))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    assert type(ours.clone()) is type(ours)


def test_identity_keeps_gain_and_loads_keras_configs():
    assert initializers.Identity(2.0).clone().gain == 2.0
    assert initializers.get({"class_name": "Identity", "config": {}}).gain == 1.0


def test_keras_style_subclass_with_only_call_works():
    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return jnp.full(shape, 0.5, dtype or "float32")

    np.testing.assert_array_equal(Halves().sample(jax.random.key(0), (2,)), [0.5, 0.5])
    with pytest.raises(NotImplementedError, match="must define"):
        initializers.Initializer()((2,))
