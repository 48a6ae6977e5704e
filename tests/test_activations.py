"""kiln.activations: registry, lookup, serialization, formulas, Variables and jit."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kiln import activations
from kiln._variables import Variable

# Arguments for the activations that need more than `x`.
EXTRA_ARGS = {"threshold": {"threshold": 0.5, "default_value": -1.0}}


def _call(name, x):
    return activations.get(name)(x, **EXTRA_ARGS.get(name, {}))


def test_get_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    custom = lambda x: x * 2  # noqa: E731
    assert activations.get(custom) is custom


def test_get_resolves_names_and_aliases():
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.get({"module": "keras.activations", "class_name": "function",
                            "config": "gelu", "registered_name": "gelu"}) is activations.gelu


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Unknown activation 'rleu'.*'relu'"):
        activations.get("rleu")
    with pytest.raises(ValueError, match="Could not interpret activation identifier 3"):
        activations.get(3)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_serialize_round_trips(name):
    fn = activations.get(name)
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_serialize_uses_canonical_names_and_rejects_lambdas():
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(activations.hard_swish) == "hard_silu"

    def my_act(x):
        return x

    assert activations.serialize(my_act) == "my_act"
    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match="Cannot serialize activation"):
        activations.serialize(lambda x: x)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_accepts_variables_and_jits(name):
    x = np.linspace(-3, 3, 8, dtype=np.float32).reshape(2, 4)
    eager = _call(name, x)
    assert isinstance(eager, jax.Array)
    np.testing.assert_allclose(_call(name, Variable(x, name="v")), eager)
    jitted = jax.jit(functools.partial(_call, name))(x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7)


def test_relu_options_by_hand():
    x = jnp.array([-4.0, -1.0, 0.5, 2.0, 8.0])
    np.testing.assert_allclose(activations.relu(x), [0, 0, 0.5, 2, 8])
    np.testing.assert_allclose(activations.relu(x, max_value=6.0), [0, 0, 0.5, 2, 6])
    np.testing.assert_allclose(activations.relu(x, threshold=1.0), [0, 0, 0, 2, 8])
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.5), [-2, -0.5, 0.5, 2, 8])
    # slope below the threshold, cap above: -0.5 * (1 - x) under 1, x capped at 6.
    np.testing.assert_allclose(activations.relu(x, 0.5, 6.0, 1.0), [-2.5, -1, -0.25, 2, 6])


def test_defaults_match_keras_documentation():
    x = jnp.array([-1.0, 3.0])
    np.testing.assert_allclose(activations.leaky_relu(x), [-0.2, 3.0])  # slope 0.2
    np.testing.assert_allclose(activations.hard_sigmoid(jnp.array([-4.0, 0.0, 1.5, 4.0])),
                               [0.0, 0.5, 0.75, 1.0])  # x/6 + 1/2, Keras 3's formula
    exact = activations.gelu(jnp.array(1.0))  # approximate=False by default
    np.testing.assert_allclose(exact, 0.8413447, rtol=1e-6)


def test_softmax_normalises_and_warns_on_size_one_axis():
    x = jnp.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1000.0]])
    np.testing.assert_allclose(activations.softmax(x).sum(-1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(jnp.exp(activations.log_softmax(x)), activations.softmax(x),
                               rtol=1e-6)
    with pytest.warns(UserWarning, match="size 1"):
        activations.softmax(jnp.ones((4, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        activations.softmax(jnp.ones((4, 2)))


def _sparsemax_reference(z):
    # The simplex projection by sorting (Martins & Astudillo, 2016), one row at a time.
    out = []
    for row in np.asarray(z, np.float64):
        s = np.sort(row)[::-1]
        k = np.arange(1, len(s) + 1)
        support = 1 + k * s > np.cumsum(s)
        kz = k[support][-1]
        tau = (np.cumsum(s)[kz - 1] - 1) / kz
        out.append(np.maximum(row - tau, 0))
    return np.array(out)


def test_sparsemax_is_the_simplex_projection(rng):
    z = rng.normal(size=(6, 5)).astype(np.float32)
    got = activations.sparsemax(z)
    np.testing.assert_allclose(got, _sparsemax_reference(z), atol=1e-6)
    np.testing.assert_allclose(got.sum(-1), np.ones(6), rtol=1e-6)
    np.testing.assert_allclose(activations.sparsemax(z.T, axis=0), got.T, atol=1e-6)
