"""Running a user's `train_step` / `test_step` / `predict_step` in Keras's JAX form.

A model may override the steps the way Keras's guide "Customizing what happens in fit() with
JAX" teaches: `train_step(self, state, data)` receives `state = (trainable_variables,
non_trainable_variables, optimizer_variables, metrics_variables)` as lists of arrays and
returns `(logs, new_state)`; `test_step` gets and returns the 3-tuple without the optimizer;
`predict_step` gets `(trainable_variables, non_trainable_variables)` and returns
`(outputs, non_trainable_variables)`. `data` is packed as Keras packs it: `x`, `(x, y)` or
`(x, y, sample_weight)`.

`CustomSteps` maps kiln's `TrainState` to those tuples and back inside the compiled step, so
the override runs jitted, `k` steps per call, exactly where kiln's own step would. The lists
follow Keras's orders: `model.trainable_variables`, `model.non_trainable_variables`,
`model.optimizer.variables`, and the variables of each metric of `model.metrics` in turn.

Example:
    >>> class Plain:
    ...     pass
    >>> overridden_steps(Plain())
    []
    >>> pack(1, None, None), pack(1, 2, None), pack([1], None, None)
    (1, (1, 2), ([1],))
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp

from .. import _scope
from .._utils import overrides
from ..optimizers._state import state_from_list, state_to_list

STEP_METHODS = ("train_step", "test_step", "predict_step")


def overridden_steps(model: Any) -> list[str]:
    """Names of the step methods that `model`'s class defines itself (kiln's Model has Keras's
    defaults for `super()` calls, marked `_kiln_default`; fit runs its own step for those)."""
    return [name for name in STEP_METHODS if overrides(model, name)]


def check_step_overrides(model: Any) -> None:
    """Raises TypeError for an override that is not in Keras's JAX form `(self, state, data)`
    (e.g. the TensorFlow form `train_step(self, data)`, which needs `tf.GradientTape`)."""
    for name in overridden_steps(model):
        params = [p for p in inspect.signature(getattr(model, name)).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(params) != 2:
            raise TypeError(
                f"{type(model).__name__}.{name} takes {[p.name for p in params]}; kiln runs "
                f"Keras's JAX form `{name}(self, state, data)` (state: the tuple of variable "
                "value lists). Received another form, e.g. the TensorFlow/PyTorch "
                f"`{name}(self, data)`, which relies on tf.GradientTape or loss.backward(). "
                "Fix: write it as in Keras's guide 'Customizing what happens in fit() with "
                "JAX' (stateless_call, jax.value_and_grad, optimizer.stateless_apply), or "
                "override `compute_loss` instead."
            )


def pack(x: Any, y: Any, sample_weight: Any) -> Any:
    """Keras's `pack_x_y_sample_weight`: the `data` a step override receives."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def metric_key(metric: Any) -> str:
    return getattr(metric, "log_name", metric.name)


def metric_entries(model: Any) -> list[tuple[str, Any]]:
    """`(state key, metric)` for the compiled metrics (once built) and then for the other
    metrics of `model.metrics` (trackers the model creates itself, e.g. in `__init__`)."""
    spec = model._compiled
    compiled = list(spec.all_metrics()) if spec is not None else []
    entries = [(metric_key(m), m) for m in compiled] if spec is not None and spec.built else []
    seen = {id(m) for m in compiled}
    for i, m in enumerate(model.metrics):
        if id(m) not in seen:
            seen.add(id(m))
            entries.append((f"{m.name}~{i}", m))
    return entries


def flat_logs(logs: Any, step: str) -> dict[str, jax.Array]:
    """Nested dicts flattened into one level (Keras's `pythonify_logs`), values as arrays."""
    if not isinstance(logs, dict):
        raise TypeError(f"{step} must return `(logs, state)` with logs a dict of metric "
                        f"values; received logs of type {type(logs).__name__}. Fix: return "
                        "e.g. `{'loss': loss}, state`.")
    out: dict[str, jax.Array] = {}
    for name, value in logs.items():
        if isinstance(value, dict):
            out.update(flat_logs(value, step))
        else:
            out[name] = jnp.asarray(value)
    return out


def _expect_tuple(value: Any, size: int, step: str, names: str) -> tuple:
    if not isinstance(value, (list, tuple)) or len(value) != size:
        raise TypeError(f"{step} must return its state as the {size}-tuple ({names}); "
                        f"received {type(value).__name__}"
                        f"{f' of length {len(value)}' if isinstance(value, (list, tuple)) else ''}."
                        " Fix: return `logs, (" + names + ")` with the updated lists.")
    return tuple(value)


class CustomSteps:
    """The user's step overrides as kiln steps over a `TrainState` (see the module docstring).

    `train_step(ts, batch)` and `test_step(ts, batch)` return `(new ts, logs)`;
    `predict_step(ts, x)` returns the outputs.
    """

    def __init__(self, runner: Any):
        self.runner = runner
        self.model = runner.model

    # -- TrainState -> Keras's lists ----------------------------------------------------------
    def _trainable(self, ts: Any) -> list:
        return [ts.params[p] for p in self.runner.trainable]

    def _non_trainable(self, ts: Any) -> list:
        return [ts.state[p] for p in self.runner.non_trainable]

    def _optimizer_layout(self) -> tuple:
        return self.model._compiled.optimizer._layout()

    def _metric_slices(self) -> list[tuple[str, list[str]]]:
        keys = {id(m): k for k, m in metric_entries(self.model)}
        return [(keys[id(m)], [name for name, _ in m._state_items()])
                for m in self.model.metrics]

    def _metrics(self, ts: Any) -> list:
        return [ts.metric_state[key][name] for key, names in self._metric_slices()
                for name in names]

    # -- Keras's lists -> TrainState ----------------------------------------------------------
    def _with(self, ts: Any, step: str, trainable: Any = None, non_trainable: Any = None,
              optimizer: Any = None, metrics: Any = None) -> Any:
        runner = self.runner
        if trainable is not None:
            ts = ts._replace(params=self._by_path(runner.trainable, trainable, step,
                                                  "trainable_variables"))
        if non_trainable is not None:
            ts = ts._replace(state=self._by_path(runner.non_trainable, non_trainable, step,
                                                 "non_trainable_variables"))
        if optimizer is not None:
            ts = ts._replace(opt_state=state_from_list(list(optimizer), ts.opt_state,
                                                       *self._optimizer_layout()))
        if metrics is not None:
            ts = ts._replace(metric_state=self._metric_state(ts.metric_state, list(metrics),
                                                             step))
        return ts

    @staticmethod
    def _by_path(variables: dict, values: Any, step: str, kind: str) -> dict:
        values = list(values)
        if len(values) != len(variables):
            raise ValueError(f"{step} returned {len(values)} {kind}; the model has "
                             f"{len(variables)}. Fix: return one value per entry of "
                             f"`model.{kind}`, in that order.")
        return {p: getattr(v, "value", v) for p, v in zip(variables, values)}

    def _metric_state(self, old: dict, values: list, step: str) -> dict:
        slices = self._metric_slices()
        count = sum(len(names) for _, names in slices)
        if len(values) != count:
            raise ValueError(f"{step} returned {len(values)} metrics_variables; the metrics "
                             f"of `model.metrics` have {count}. Fix: return the updated "
                             "variables of every metric, in `model.metrics` order.")
        new, pos = dict(old), 0
        for key, names in slices:
            new[key] = {name: values[pos + i] for i, name in enumerate(names)}
            pos += len(names)
        return new

    # -- the steps ----------------------------------------------------------------------------
    def train_step(self, ts: Any, batch: Any) -> tuple:
        opt = state_to_list(ts.opt_state, *self._optimizer_layout())
        state = (self._trainable(ts), self._non_trainable(ts), opt, self._metrics(ts))
        key = jax.random.wrap_key_data(ts.key)
        with _scope.bind(training=True, key=key, pure=False) as scope:
            logs, new = self.model.train_step(state, pack(*batch))
        new = _expect_tuple(new, 4, "train_step", "trainable_variables, "
                            "non_trainable_variables, optimizer_variables, metrics_variables")
        ts = self._with(ts, "train_step", *new)
        if scope.keys_drawn:  # as kiln's own step: the next key is fold_in(key, 0)
            ts = ts._replace(key=jax.random.key_data(jax.random.fold_in(key, 0)))
        return ts, flat_logs(logs, "train_step")

    def test_step(self, ts: Any, batch: Any) -> tuple:
        state = (self._trainable(ts), self._non_trainable(ts), self._metrics(ts))
        key = jax.random.wrap_key_data(ts.key)
        with _scope.bind(training=False, key=key, pure=False):
            logs, new = self.model.test_step(state, pack(*batch))
        new = _expect_tuple(new, 3, "test_step", "trainable_variables, "
                            "non_trainable_variables, metrics_variables")
        return self._with(ts, "test_step", metrics=new[2]), flat_logs(logs, "test_step")

    def predict_step(self, ts: Any, x: Any) -> Any:
        state = (self._trainable(ts), self._non_trainable(ts))
        key = jax.random.wrap_key_data(ts.key)
        with _scope.bind(training=False, key=key, pure=False):
            result = self.model.predict_step(state, pack(x, None, None))
        outputs, _ = _expect_tuple(result, 2, "predict_step",
                                   "outputs, non_trainable_variables")
        return outputs
