"""Keras's guide "Writing a training loop from scratch in JAX", run as written: the state tuple
of `model.trainable_variables`, `optimizer.variables` and `metric.variables` goes straight
into `jax.jit`. Kiln's Variables enter a JAX transformation as their values (a pytree), so
this works. Keras 3.15 itself fails here on JAX 0.10 ("Triggering __jax_array__() during
abstractification is no longer supported"), so the check is against kiln's own `fit` on the
same batches, which must give the same weights."""

import jax
import numpy as np

import kiln

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 8)).astype("float32")
Y = kiln.utils.to_categorical(RNG.integers(0, 3, 64), 3)


def _model(weights=None):
    inputs = kiln.Input((8,))
    hidden = kiln.layers.Dense(6, activation="relu")(inputs)
    model = kiln.Model(inputs, kiln.layers.Dense(3)(hidden))
    if weights is not None:
        model.set_weights(weights)
    return model


def test_the_guides_loop_trains_as_fit_does():
    model = _model()
    weights = model.get_weights()
    loss_fn = kiln.losses.CategoricalCrossentropy(from_logits=True)
    optimizer = kiln.optimizers.Adam(learning_rate=1e-2)
    metric = kiln.metrics.CategoricalAccuracy()

    def compute_loss_and_updates(trainable, non_trainable, x, y):
        y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x)
        return loss_fn(y, y_pred), (y_pred, non_trainable)

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable, non_trainable, opt_vars, metric_vars = state
        x, y = data
        (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        metric_vars = metric.stateless_update_state(metric_vars, y, y_pred)
        return loss, (trainable, non_trainable, opt_vars, metric_vars)

    optimizer.build(model.trainable_variables)
    state = (model.trainable_variables, model.non_trainable_variables, optimizer.variables,
             metric.variables)  # Variables, as the guide passes them
    for step in range(4):
        batch = (X[step * 16:(step + 1) * 16], Y[step * 16:(step + 1) * 16])
        loss, state = train_step(state, batch)
    for variable, value in zip(model.trainable_variables, state[0]):
        variable.assign(value)
    assert 0.0 <= float(metric.stateless_result(state[3])) <= 1.0 and np.isfinite(loss)

    reference = _model(weights)
    reference.compile(optimizer=kiln.optimizers.Adam(learning_rate=1e-2), loss=loss_fn)
    reference.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_variable_flattens_to_its_value():
    v = kiln.Variable(np.arange(3.0), name="v")
    leaves, treedef = jax.tree_util.tree_flatten({"v": v})
    assert len(leaves) == 1 and np.asarray(leaves[0]).tolist() == [0.0, 1.0, 2.0]
    doubled = jax.jit(lambda tree: jax.tree_util.tree_map(lambda a: a * 2, tree))({"v": v})
    assert np.asarray(doubled["v"]).tolist() == [0.0, 2.0, 4.0]
