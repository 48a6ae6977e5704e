"""kiln.regularizers: penalties equal Keras's; lookup, configs, errors, jit and gradients."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kiln import regularizers
from kiln._variables import Variable


@pytest.fixture
def weights(rng):
    return rng.normal(size=(7, 5)).astype(np.float32)


@pytest.mark.parametrize("make", [
    lambda m: m.L1(), lambda m: m.L1(0.3), lambda m: m.L2(), lambda m: m.L2(0.25),
    lambda m: m.L1L2(), lambda m: m.L1L2(l1=0.1), lambda m: m.L1L2(l2=0.2),
    lambda m: m.L1L2(0.05, 0.07), lambda m: m.l1_l2(l1=0.01, l2=0.01),
    lambda m: m.OrthogonalRegularizer(), lambda m: m.OrthogonalRegularizer(0.5, "columns"),
])
def test_penalty_equals_keras(make, weights):
    ours, theirs = make(regularizers), make(keras.regularizers)
    # A jax array, not NumPy: Keras's NumPy branch of `normalize` mishandles axis=0.
    weights = jnp.asarray(weights)
    got, want = np.asarray(ours(weights)), np.asarray(theirs(weights))
    assert got.shape == () and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert ours.get_config() == pytest.approx(theirs.get_config())


def test_l2_has_no_half_factor():
    np.testing.assert_allclose(regularizers.L2(0.1)(jnp.array([1.0, 2.0])), 0.5, rtol=1e-7)
    np.testing.assert_allclose(regularizers.L1(0.1)(jnp.array([-1.0, 2.0])), 0.3, rtol=1e-7)


def test_get_accepts_keras_strings_only():
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    assert isinstance(regularizers.get("l1l2"), regularizers.L1L2)
    assert isinstance(regularizers.get("orthogonal_regularizer"),
                      regularizers.OrthogonalRegularizer)
    # Keras rejects "l1_l2" (its snake_case of L1L2 is "l1l2"); we do too, with a hint.
    with pytest.raises(ValueError):
        keras.regularizers.get("l1_l2")
    with pytest.raises(ValueError, match="Unknown regularizer 'l1_l2'.*'l1l2'"):
        regularizers.get("l1_l2")


def test_lowercase_names_are_the_classes():
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.l1_l2(l1=0.1).get_config() == {"l1": 0.1, "l2": 0.0}


def test_get_passes_through_instances_classes_callables_and_none():
    reg = regularizers.L2(0.2)
    assert regularizers.get(reg) is reg
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    fn = lambda w: jnp.sum(w)  # noqa: E731
    assert regularizers.get(fn) is fn
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        regularizers.get(0.1)


def test_keras_serialized_configs_load():
    for theirs in (keras.regularizers.L1L2(0.1, 0.2), keras.regularizers.L2(0.3),
                   keras.regularizers.OrthogonalRegularizer(0.2, "columns")):
        ours = regularizers.get(keras.regularizers.serialize(theirs))
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.get_config() == pytest.approx(theirs.get_config())
        assert regularizers.serialize(ours)["class_name"] == type(theirs).__name__
        assert type(regularizers.deserialize(regularizers.serialize(ours))) is type(ours)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_invalid_factors_are_rejected(bad):
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(bad)
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L1L2(l1=bad)


def test_orthogonal_regularizer_checks():
    with pytest.raises(ValueError, match="'rows' or 'columns'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="2-D"):
        regularizers.OrthogonalRegularizer()(jnp.ones((2, 2, 2)))
    q = jnp.eye(4)  # orthonormal rows: no penalty
    assert float(regularizers.OrthogonalRegularizer()(q)) == 0.0


def test_base_regularizer_is_zero_and_needs_get_config():
    assert regularizers.Regularizer()(jnp.ones(3)) == 0.0
    with pytest.raises(NotImplementedError, match="get_config"):
        regularizers.Regularizer().get_config()


def test_accepts_variables_jits_and_differentiates(weights):
    reg = regularizers.L1L2(l1=0.01, l2=0.02)
    v = Variable(weights, name="kernel")
    np.testing.assert_allclose(reg(v), reg(weights))
    np.testing.assert_allclose(jax.jit(reg)(weights), reg(weights), rtol=1e-6)
    grad = jax.grad(regularizers.L2(0.1))(jnp.asarray(weights))
    np.testing.assert_allclose(grad, 0.2 * weights, rtol=1e-6)
    assert reg(jnp.ones(3, jnp.float16)).dtype == jnp.float16
