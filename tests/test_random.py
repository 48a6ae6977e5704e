"""kiln.random: seeds, SeedGenerator state inside traced steps, unseeded draws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.random as kr
from kiln import _scope


def test_int_seed_is_repeatable_and_raw_key_accepted():
    a, b = kr.normal((3,), seed=5), kr.normal((3,), seed=5)
    np.testing.assert_array_equal(a, b)
    key = jnp.array([5, 0], jnp.uint32)
    np.testing.assert_array_equal(kr.normal((3,), seed=key), a)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True, "7"])
def test_bad_seed_says_what_to_pass(bad):
    with pytest.raises(ValueError, match="seed"):
        kr.uniform((2,), seed=bad)


def test_dtype_checks():
    with pytest.raises(ValueError, match="floating point dtype"):
        kr.uniform((2,), dtype="int32", seed=0)
    with pytest.raises(ValueError, match="integer dtype"):
        kr.randint((2,), 0, 3, dtype="float32", seed=0)
    with pytest.raises(ValueError, match="2-D logits"):
        kr.categorical(jnp.zeros((3,)), 2, seed=0)


def test_seed_generator_advances_inside_jit_through_the_scope():
    gen = kr.SeedGenerator(7)

    @jax.jit
    def step(state):
        with _scope.bind({gen.state: state}) as scope:
            x = kr.normal((2,), seed=gen)
        return x, scope.writes[id(gen.state)]

    state = gen.state.value
    x1, state = step(state)
    x2, state = step(state)
    assert [int(v) for v in state] == [7, 2]
    assert [int(v) for v in gen.state.value] == [7, 0]  # the object is untouched
    np.testing.assert_array_equal(x1, kr.normal((2,), seed=jnp.array([7, 0], jnp.uint32)))
    assert not np.array_equal(x1, x2)


def test_seed_generator_in_jit_without_scope_is_refused():
    gen = kr.SeedGenerator(1)
    with pytest.raises(ValueError, match="traced function"):
        jax.jit(lambda: kr.normal((2,), seed=gen))()


def test_unseeded_draws():
    kiln.utils.set_random_seed(3)
    a = kr.normal((3,))
    kiln.utils.set_random_seed(3)
    np.testing.assert_array_equal(kr.normal((3,)), a)
    with pytest.raises(ValueError, match="freeze one value"):
        jax.jit(lambda: kr.normal((2,)))()

    @jax.jit
    def keyed(key):
        with _scope.bind({}, key=jax.random.wrap_key_data(key)) as scope:
            out = kr.uniform((2,)), kr.uniform((2,))
        assert scope.keys_drawn == 2
        return out

    u, v = keyed(jnp.array([0, 1], jnp.uint32))
    assert not np.array_equal(u, v)


def test_seed_generator_config_round_trip():
    gen = kr.SeedGenerator(11, name="g")
    again = kr.SeedGenerator.from_config(gen.get_config())
    assert again.get_config() == {"seed": 11, "name": "g"}
    assert again.state.path == "g/seed_generator_state"
    assert not again.state.trainable and again.state.dtype == jnp.uint32
