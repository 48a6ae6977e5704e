"""Keras's default steps in its JAX form, for overrides that call `super()`.

`fit` runs kiln's own fused step unless a class overrides `train_step` / `test_step` /
`predict_step`; an override written as in Keras's JAX guide may then call
`super().train_step(state, data)` (or `compute_loss_and_updates`, `test_step`,
`predict_step`), and gets what Keras's would compute: the same state tuples, the same logs.
Each default carries the `_kiln_default` mark, so kiln knows a class that merely inherits it
is not overriding anything.

Example:
    >>> import numpy as np, kiln
    >>> class Logged(kiln.Model):
    ...     def train_step(self, state, data):
    ...         logs, state = super().train_step(state, data)
    ...         return {**logs, "twice": 2 * logs["loss"]}, state
    >>> inputs = kiln.Input((2,))
    >>> model = Logged(inputs, kiln.layers.Dense(1)(inputs))
    >>> model.compile("sgd", "mse")
    >>> h = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    >>> bool(np.isclose(h.history["twice"][0], 2 * h.history["loss"][0]))
    True
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .. import _scope
from .._utils import kiln_default
from ..utils import unpack_x_y_sample_weight


class KerasSteps:
    """`train_step`, `test_step`, `predict_step` and their helpers, as Keras's JAX trainer."""

    @kiln_default
    def compute_loss_and_updates(self, trainable_variables: Any, non_trainable_variables: Any,
                                 metrics_variables: Any, x: Any, y: Any, sample_weight: Any,
                                 training: bool = False, optimizer_variables: Any = None
                                 ) -> tuple:
        """`(loss, (unscaled_loss, y_pred, non_trainable_variables, metrics_variables))`:
        the forward pass and `compute_loss` on the given values; the loss is scaled by the
        optimizer in training, as Keras differentiates it."""
        values = dict(zip(self.trainable_variables, trainable_variables))
        nt = dict(zip(self.non_trainable_variables, non_trainable_variables))
        metrics = self._metric_values(metrics_variables)
        with _scope.bind({**values, **nt, **metrics}, training=training) as scope:
            y_pred = self(x, training=training)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=training)
            self._track_output_losses(scope.output_losses or [], y_pred)
        new_nt = [scope.writes.get(id(v), value) for v, value in nt.items()]
        new_metrics = [scope.writes.get(id(v), value) for v, value in metrics.items()]
        unscaled = loss
        if training and self.optimizer is not None:
            loss = self.optimizer.scale_loss(loss)
        return loss, (unscaled, y_pred, new_nt, new_metrics)

    def _metric_values(self, metrics_variables: Any) -> dict:
        """`{metric variable: value}` in `metrics` order (the order of `metrics_variables`)."""
        return dict(zip([v for m in self.metrics for _, v in m._state_items()],
                        metrics_variables))

    def _track_output_losses(self, per_output: list, y_pred: Any) -> None:
        """The per-output loss trackers of a multi-output model, updated as Keras's
        compiled loss updates them (inside `compute_loss_and_updates`)."""
        spec = self._compiled
        if spec is None:
            return
        n = jnp.asarray(jax.tree_util.tree_leaves(y_pred)[0].shape[0], jnp.float32)
        for i, tracker in spec.output_loss_trackers:
            if i < len(per_output) and per_output[i] is not None:
                tracker.update_state(per_output[i], sample_weight=n)

    def _update_metrics_variables(self, metrics_variables: Any, unscaled_loss: Any, x: Any,
                                  y: Any, y_pred: Any, sample_weight: Any) -> tuple:
        """`(logs, new metrics_variables)`: the loss trackers and `compute_metrics` run with
        every metric variable set to the given values."""
        bound = self._metric_values(metrics_variables)
        n = jnp.asarray(jax.tree_util.tree_leaves(x)[0].shape[0], jnp.float32)
        with _scope.bind(bound) as scope:
            if self._compiled is not None:
                self._compiled.loss_tracker.update_state(unscaled_loss, sample_weight=n)
            logs = self.compute_metrics(x, y, y_pred, sample_weight)
        return logs, [scope.writes.get(id(v), value) for v, value in bound.items()]

    @kiln_default
    def train_step(self, state: tuple, data: Any) -> tuple:
        """One training step on `state = (trainable, non_trainable, optimizer, metrics
        values)`: `(logs, new state)`."""
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (_, aux), grads = grad_fn(trainable, non_trainable, metrics_vars, x, y, sample_weight,
                                  training=True, optimizer_variables=optimizer_vars)
        unscaled, y_pred, non_trainable, metrics_vars = aux
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads,
                                                                   trainable)
        logs, metrics_vars = self._update_metrics_variables(metrics_vars, unscaled, x, y,
                                                            y_pred, sample_weight)
        return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)

    @kiln_default
    def test_step(self, state: tuple, data: Any) -> tuple:
        """One evaluation step on `state = (trainable, non_trainable, metrics values)`."""
        trainable, non_trainable, metrics_vars = state
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        _, aux = self.compute_loss_and_updates(trainable, non_trainable, metrics_vars, x, y,
                                               sample_weight, training=False)
        unscaled, y_pred, non_trainable, metrics_vars = aux
        logs, metrics_vars = self._update_metrics_variables(metrics_vars, unscaled, x, y,
                                                            y_pred, sample_weight)
        return logs, (trainable, non_trainable, metrics_vars)

    @kiln_default
    def predict_step(self, state: tuple, data: Any) -> tuple:
        """`(outputs, non_trainable values)` of the forward pass on `state = (trainable,
        non_trainable values)`."""
        trainable, non_trainable = state
        x, _, _ = unpack_x_y_sample_weight(data)
        return self.stateless_call(trainable, non_trainable, x, training=False)
