"""kiln.random draws equal keras.random's (JAX backend) for int seeds and SeedGenerators."""

import keras
import numpy as np
import pytest

import kiln.random as kr

X = np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(3, 4)
CASES = {
    "normal": lambda m, s: m.normal((3, 4), mean=1.0, stddev=2.0, seed=s),
    "uniform": lambda m, s: m.uniform((5,), -1.0, 3.0, seed=s),
    "randint": lambda m, s: m.randint((6,), 0, 10, seed=s),
    "truncated_normal": lambda m, s: m.truncated_normal((7,), 0.5, 1.5, seed=s),
    "categorical": lambda m, s: m.categorical(X, 5, seed=s),
    "dropout": lambda m, s: m.dropout(X, 0.5, noise_shape=(None, 4), seed=s),
    "shuffle": lambda m, s: m.shuffle(X, axis=1, seed=s),
    "gamma": lambda m, s: m.gamma((4,), 2.0, seed=s),
    "binomial": lambda m, s: m.binomial((4,), 10, 0.3, seed=s),
    "beta": lambda m, s: m.beta((4,), 2.0, 3.0, seed=s),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_int_seed_matches_keras(name):
    fn = CASES[name]
    np.testing.assert_array_equal(np.asarray(fn(kr, 42)), np.asarray(fn(keras.random, 42)))


def test_seed_generator_sequence_matches_keras():
    ours, theirs = kr.SeedGenerator(1337), keras.random.SeedGenerator(1337)
    for _ in range(3):
        for name in ("normal", "uniform", "dropout"):
            np.testing.assert_array_equal(np.asarray(CASES[name](kr, ours)),
                                          np.asarray(CASES[name](keras.random, theirs)))
    np.testing.assert_array_equal(np.asarray(ours.state.value),
                                  np.asarray(theirs.state.value))
    assert ours.get_config() == theirs.get_config()
