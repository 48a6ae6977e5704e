"""`train_step` / `test_step` / `predict_step` overrides in Keras's JAX form run as in Keras.

The classes are the patterns of Keras's guide "Customizing what happens in fit() with JAX",
written once against either library (`lib` is `keras` or `kiln`); both train the same weights
on the same data without shuffling, and the weights, history, evaluate and predict results
are compared.
"""

import jax
import keras
import numpy as np

import kiln

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 5)).astype("float32")
Y = rng.normal(size=(64, 1)).astype("float32")


def _metric_loop(model, metrics_variables, loss, y, y_pred):
    """The guide's loop over `self.metrics`: the loss tracker gets the loss, others y/y_pred."""
    new, logs = [], {}
    for metric in model.metrics:
        own = metrics_variables[len(new):len(new) + len(metric.variables)]
        if metric.name == "loss":
            own = metric.stateless_update_state(own, loss)
        else:
            own = metric.stateless_update_state(own, y, y_pred)
        logs[metric.name] = metric.stateless_result(own)
        new += own
    return logs, new


def compiled_metrics_class(lib):
    class CustomModel(lib.Model):
        def compute_loss_and_updates(self, trainable, non_trainable, x, y, training=False):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=training)
            return self.compute_loss(x, y, y_pred), (y_pred, non_trainable)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_vars, metrics_vars = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y,
                                                             training=True)
            trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads,
                                                                       trainable)
            logs, metrics_vars = _metric_loop(self, metrics_vars, loss, y, y_pred)
            return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)

        def test_step(self, state, data):
            trainable, non_trainable, metrics_vars = state
            x, y = data
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=False)
            loss = self.compute_loss(x, y, y_pred)
            logs, metrics_vars = _metric_loop(self, metrics_vars, loss, y, y_pred)
            return logs, (trainable, non_trainable, metrics_vars)

        def predict_step(self, state, data):
            trainable, non_trainable = state
            x = data[0] if isinstance(data, tuple) else data
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=False)
            return 2.0 * y_pred, non_trainable
    return CustomModel


def own_trackers_class(lib):
    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def compute_loss_and_updates(self, trainable, non_trainable, x, y, training=False):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=training)
            return self.loss_fn(y, y_pred), (y_pred, non_trainable)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_vars, metrics_vars = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y,
                                                             training=True)
            trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads,
                                                                       trainable)
            n = len(self.loss_tracker.variables)
            loss_vars = self.loss_tracker.stateless_update_state(metrics_vars[:n], loss)
            mae_vars = self.mae_metric.stateless_update_state(metrics_vars[n:], y, y_pred)
            logs = {"loss": self.loss_tracker.stateless_result(loss_vars),
                    "mae": self.mae_metric.stateless_result(mae_vars)}
            return logs, (trainable, non_trainable, optimizer_vars, loss_vars + mae_vars)

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]
    return CustomModel


def _build(lib, make, weights=None):
    inputs = lib.Input((5,))
    hidden = lib.layers.Dense(8, activation="relu")(inputs)
    hidden = lib.layers.BatchNormalization()(hidden)
    model = make(lib)(inputs, lib.layers.Dense(1)(hidden))
    if weights is not None:
        model.set_weights(weights)
    return model


def _pair(make, **compile_kwargs):
    ours = _build(kiln, make)
    theirs = _build(keras, make, ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="adam", **compile_kwargs)
    return ours, theirs


def _fit_both(ours, theirs, **kwargs):
    histories = [m.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0, **kwargs)
                 for m in (ours, theirs)]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    return [h.history for h in histories]


def test_compiled_metrics_pattern_matches_keras():
    # Four steps per compiled call: the override runs inside kiln's fused loop.
    ours, theirs = _pair(compiled_metrics_class, loss="mse", metrics=["mae"],
                         steps_per_execution=4)
    h_ours, h_theirs = _fit_both(ours, theirs)
    assert sorted(h_ours) == sorted(h_theirs) == ["loss", "mae"]
    for name in h_ours:
        np.testing.assert_allclose(h_ours[name], h_theirs[name], rtol=1e-5)
    got = ours.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    want = theirs.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    assert sorted(got) == sorted(want)
    for name in got:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5)
    np.testing.assert_allclose(ours.predict(X, batch_size=16, verbose=0),
                               theirs.predict(X, batch_size=16, verbose=0), atol=1e-5)


def test_own_trackers_and_metrics_property_match_keras():
    ours, theirs = _pair(own_trackers_class)
    h_ours, h_theirs = _fit_both(ours, theirs, validation_data=None)
    assert sorted(h_ours) == sorted(h_theirs) == ["loss", "mae"]
    for name in h_ours:
        np.testing.assert_allclose(h_ours[name], h_theirs[name], rtol=1e-5)
    # The trackers' variables hold the last epoch's state, as in Keras.
    np.testing.assert_allclose(ours.loss_tracker.result(), theirs.loss_tracker.result(),
                               rtol=1e-5)
    # The optimizer's variables in Keras's order (model.trainable_variables order, not
    # sorted by path): the same values at the same positions.
    got = [np.asarray(v) for v in ours.optimizer.variables]
    want = [np.asarray(v) for v in theirs.optimizer.variables]
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)
