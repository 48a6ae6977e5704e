"""The one call scope (`kiln._scope`): bound values and writes, the training flag, keys, name
paths and `add_loss` values, inside and outside `jax.jit`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import _scope
from kiln._variables import Variable
from kiln.layers import Layer


def test_bound_values_are_read_and_writes_recorded_not_applied():
    v = Variable(jnp.zeros(()), name="v")
    with _scope.bind({v: jnp.ones(())}) as scope:
        v.assign(v.value + 1)
        assert float(v.value) == 2.0  # later reads see the write
    assert float(scope.writes[id(v)]) == 2.0
    assert scope.collect_writes() == {v: scope.writes[id(v)]}
    assert float(v.value) == 0.0


def test_an_impure_scope_lets_assign_mutate():
    v = Variable(jnp.zeros(()), name="v")
    with _scope.bind(training=True, pure=False) as scope:
        v.assign(3.0)
    assert float(v.value) == 3.0 and not scope.writes


def test_nested_scope_writes_go_to_the_scope_binding_the_variable():
    outer_v, inner_v = Variable(jnp.zeros(()), name="a"), Variable(jnp.zeros(()), name="b")
    with _scope.bind({outer_v: jnp.ones(())}) as outer:
        with _scope.bind({inner_v: jnp.ones(())}) as inner:
            outer_v.assign(5.0)
            inner_v.assign(6.0)
    assert set(outer.writes) == {id(outer_v)} and set(inner.writes) == {id(inner_v)}


def test_training_flag_is_inherited_by_nested_scopes_and_sublayers():
    seen = []

    class Probe(Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Parent(Layer):
        def __init__(self):
            super().__init__()
            self.child = Probe()

        def call(self, x, training=None):
            return self.child(x)  # no training= given: inherited from the scope

    with _scope.bind({}, training=True):
        with _scope.bind({}) as inner:
            assert inner.training is True
        Parent()(jnp.ones((1, 2)))
    Parent()(jnp.ones((1, 2)), training=False)
    assert seen == [True, False]


def test_keys_fold_from_the_scope_key_and_nested_scopes_share_the_stream():
    key = jax.random.key(0)
    with _scope.bind({}, key=key) as scope:
        a = _scope.next_rng_key()
        with _scope.bind({}):
            b = _scope.next_rng_key()
    assert scope.keys_drawn == 2
    data = lambda k: np.asarray(jax.random.key_data(k))
    np.testing.assert_array_equal(data(a), data(jax.random.fold_in(key, 1)))
    np.testing.assert_array_equal(data(b), data(jax.random.fold_in(key, 2)))
    with _scope.bind({}, key=key) as quiet:
        pass
    assert quiet.keys_drawn == 0


def test_name_scope_builds_variable_paths():
    with _scope.name_scope("model"), _scope.name_scope("block"):
        assert _scope.scoped_path("kernel") == "model/block/kernel"
    assert _scope.scoped_path("kernel") == "kernel"
    inp = kiln.Input((3,))
    model = kiln.Model(inp, kiln.layers.Dense(2, name="d")(inp))
    assert [v.path for v in model.weights] == ["d/kernel", "d/bias"]


class _AddsLoss(Layer):
    def call(self, x):
        self.add_loss(jnp.sum(x))
        return x * 2.0


def test_add_loss_in_a_jitted_step_is_collected_in_the_scope_and_leaves_nothing_behind():
    layer = _AddsLoss()

    @jax.jit
    def step(x):
        with _scope.bind({}, training=True) as scope:
            out = layer(x)
            total = sum(layer.losses)
        assert len(scope.losses) == 1 and scope.sources == [layer]
        return out, total

    out, total = step(jnp.ones((2, 3)))
    assert float(total) == 6.0
    np.testing.assert_array_equal(out, 2.0 * np.ones((2, 3)))
    assert layer.losses == []  # no tracer kept on the layer


def test_eager_call_keeps_its_add_loss_values_until_the_next_call():
    layer = _AddsLoss()
    layer(jnp.ones((1, 2)))
    assert [float(l) for l in layer.losses] == [2.0]
    layer(jnp.ones((1, 3)))
    assert [float(l) for l in layer.losses] == [3.0]


def test_per_output_losses_are_read_from_the_scope():
    inp = kiln.Input((2,))
    model = kiln.Model(inp, kiln.layers.Dense(1)(inp))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0)  # builds the compiled spec
    with _scope.bind({}, training=False) as scope:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x))
    assert len(scope.output_losses) == 1
    np.testing.assert_allclose(float(scope.output_losses[0]), float(loss), rtol=1e-6)


def test_dropout_in_a_traced_step_draws_from_the_step_key():
    drop = kiln.layers.Dropout(0.5)

    @jax.jit
    def run(key):
        with _scope.bind({}, training=True, key=key):
            return drop(jnp.ones((64,)))

    a, b = run(jax.random.key(1)), run(jax.random.key(1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, run(jax.random.key(2)))


@pytest.mark.parametrize("pure", [True, False])
def test_scopes_are_closed_after_an_error(pure):
    with pytest.raises(RuntimeError):
        with _scope.bind({}, pure=pure):
            raise RuntimeError("boom")
    assert _scope.current() is None and _scope.binding_scopes() == []
