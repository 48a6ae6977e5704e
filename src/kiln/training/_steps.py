"""The pure train, test and predict steps, and `k` of them fused with `lax.scan`.

Every function here is pure: values come in through a `TrainState`, are bound to the model's
Variables for the duration of the call (one `kiln._scope.bind` scope, which also carries the
training flag, the step's key and the `add_loss` values), and leave through a new
`TrainState`. `jax.jit` compiles them; nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from .. import _scope
from .._utils import overrides
from .._types import Batch, Params, State
from ..distribution import _placement
from ._custom_step import flat_logs, metric_entries
from ._data import SharedRows


class TrainState(NamedTuple):
    """Everything a training step reads and writes, keyed by variable path or metric name.

    Fields:
        params: trainable weights, `{path: array}`.
        state: non-trainable weights (e.g. moving statistics), `{path: array}`.
        opt_state: the optimizer's state (iterations, learning rate, slots).
        metric_state: `{log name: {variable name: array}}` for the loss trackers and metrics.
        key: raw PRNG key data (uint32), split once per step for dropout and other random
            layers. Raw data rather than a typed key keeps the per-call pytree handling in
            jit's C++ fast path.
    """

    params: dict[str, jax.Array]
    state: dict[str, jax.Array]
    opt_state: Any
    metric_state: dict[str, dict[str, jax.Array]]
    key: jax.Array


def default_compute_loss(model: Any, y: Any, y_pred: Any, sample_weight: Any) -> jax.Array:
    """The compiled loss, `sum_i w_i * loss_i(y_i, y_pred_i, sample_weight)`, plus
    `sum(model.losses)` (regularization penalties and `add_loss` values), as Keras computes it."""
    spec = model._compiled
    y_true = flatten_outputs(model, y)
    preds = flatten_outputs(model, y_pred)
    per_output = []
    total = jnp.zeros((), jnp.float32)
    for loss_fn, weight, yt, yp in zip(spec.losses, spec.weights, y_true, preds):
        if loss_fn is None:
            per_output.append(None)
            continue
        value = loss_fn(yt, yp, sample_weight)
        per_output.append(value)
        total = total + weight * value
    scope = _scope.current()
    if scope is not None:
        scope.output_losses = per_output
    extra = model.losses
    if extra:
        total = total + jnp.sum(jnp.stack([jnp.asarray(l, jnp.float32) for l in extra]))
    return total


def flatten_outputs(model: Any, tree: Any) -> list[Any]:
    """Per-output values in `output_names` order, from a dict, a list or a single array."""
    names = model._compiled.output_names
    if isinstance(tree, dict):
        return [tree[n] for n in names]
    if isinstance(tree, (list, tuple)) and len(names) > 1:
        return list(tree)
    if isinstance(tree, (list, tuple)) and len(tree) == 1:
        return [tree[0]]
    return [tree]


class Runner:
    """Holds one model's pure step functions and the mapping of paths to its Variables."""

    def __init__(self, model: Any, trainable: list[Any], non_trainable: list[Any]):
        self.model = model
        self.spec = model._compiled
        self.trainable = {v.path: v for v in trainable}
        self.non_trainable = {v.path: v for v in non_trainable}
        self.constraints = {v.path: v.constraint for v in trainable
                            if getattr(v, "constraint", None) is not None}
        # A class that overrides Keras's `compute_metrics` (kiln's default carries the mark).
        self.own_metrics = overrides(model, "compute_metrics")

    # -- the forward pass ---------------------------------------------------------------------
    def _bound(self, params: dict, state: dict) -> dict:
        values = {self.trainable[p]: v for p, v in params.items()}
        values.update({self.non_trainable[p]: v for p, v in state.items()})
        return values

    def _new_state(self, scope: Any, state: dict) -> dict:
        return {p: scope.writes.get(id(v), state[p]) for p, v in self.non_trainable.items()}

    def forward(self, params: Params, state: State, x: Any, training: bool, key: Any) -> tuple:
        with _scope.bind(self._bound(params, state), training=training, key=key) as scope:
            y_pred = self.model(x, training=training)
        return y_pred, self._new_state(scope, state)

    def loss_and_updates(self, params: Params, state: State, batch: Batch, training: bool,
                         key: Any) -> tuple:
        """(total loss, (y_pred, new non-trainable state, per-output losses)).

        With `key=None` the random layers draw from the enclosing scope's key (train_step's).
        """
        x, y, sw = batch
        with _scope.bind(self._bound(params, state), training=training, key=key) as scope:
            y_pred = self.model(x, training=training)
            loss = self.model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sw,
                                           training=training)
        per_output = scope.output_losses or []
        return jnp.asarray(loss, jnp.float32), (y_pred, self._new_state(scope, state), per_output)

    def scaled_loss_and_updates(self, params: Params, state: State, batch: Batch,
                                opt_state: Any = None) -> tuple:
        """What train_step differentiates: `optimizer.scale_loss(loss)` (Keras's order; the
        optimizer divides the gradients back), with the unscaled loss kept for the logs. A
        LossScaleOptimizer reads its current scale from the step's optimizer state."""
        loss, aux = self.loss_and_updates(params, state, batch, True, None)
        opt = self.spec.optimizer
        if getattr(opt, "scales_with_state", False):
            return opt.scale_loss(loss, opt_state), (loss, aux)
        return opt.scale_loss(loss), (loss, aux)

    # -- one step -----------------------------------------------------------------------------
    def update_metrics(self, ms: dict, batch: tuple, y_pred: Any, loss: Any,
                       per_output: list) -> tuple[dict, Any]:
        """`(new metric state, logs)`: the loss trackers, then the compiled metrics, or a
        `compute_metrics` override whose return value becomes the step's logs (else None)."""
        x, y, sw = batch
        spec = self.spec
        ms = dict(ms)
        n = jnp.asarray(jax.tree_util.tree_leaves(x)[0].shape[0], jnp.float32)
        tracker = spec.loss_tracker
        ms["loss"] = tracker.stateless_update(ms["loss"], loss, sample_weight=n)
        for i, t in spec.output_loss_trackers:
            if i < len(per_output) and per_output[i] is not None:
                ms[t.name] = t.stateless_update(ms[t.name], per_output[i], sample_weight=n)
        if self.own_metrics:
            return self._own_metrics(ms, batch, y_pred)
        if y is not None and (any(spec.metrics) or any(spec.weighted)):
            y_true, preds = flatten_outputs(self.model, y), flatten_outputs(self.model, y_pred)
            for group, weight in ((spec.metrics, None), (spec.weighted, sw)):
                for i, metrics in enumerate(group):
                    for m in metrics:
                        ms[m.log_name] = m.stateless_update(ms[m.log_name], y_true[i], preds[i],
                                                            sample_weight=weight)
        return ms, None

    def _own_metrics(self, ms: dict, batch: tuple, y_pred: Any) -> tuple[dict, Any]:
        """The model's `compute_metrics(x, y, y_pred, sample_weight)`, run as Keras runs it:
        every metric variable bound to the step's state, its writes kept, its result the
        logs."""
        x, y, sw = batch
        entries = [(k, m) for k, m in metric_entries(self.model) if k in ms]
        values = {var: ms[k][name] for k, m in entries for name, var in m._state_items()}
        with _scope.bind(values) as scope:
            logs = self.model.compute_metrics(x, y, y_pred, sw)
        for k, m in entries:
            ms[k] = {name: scope.writes.get(id(var), ms[k][name]) for name, var in m._state_items()}
        return ms, flat_logs(logs, "compute_metrics")

    def step_result(self, ts: TrainState, logs: Any) -> Any:
        """What a step returns: the state, with the logs when `compute_metrics` is the
        model's own (the fused loop then keeps the last step's logs, as for an override)."""
        return (ts, logs) if self.own_metrics else ts

    def train_step(self, ts: TrainState, batch: Batch) -> Any:
        key = jax.random.wrap_key_data(ts.key)
        grad_fn = jax.value_and_grad(self.scaled_loss_and_updates, has_aux=True)
        with _scope.bind(training=True, key=key, pure=False) as step:
            (_, (loss, (y_pred, state, per_output))), grads = grad_fn(ts.params, ts.state, batch,
                                                                       ts.opt_state)
        # Random layers drew fold_in(key, 1), fold_in(key, 2), ...; the next step's key is
        # fold_in(key, 0). A model that drew none keeps its key: no hashing per step.
        new_key = ts.key if not step.keys_drawn else jax.random.key_data(
            jax.random.fold_in(key, 0))
        params, opt_state = ts.params, ts.opt_state
        if ts.params:  # no trainable weights (a frozen model): nothing to apply, as in Keras
            params, opt_state = self.spec.optimizer.apply(grads, ts.params, ts.opt_state)
        for path, constraint in self.constraints.items():
            params[path] = constraint(params[path])
        ms, logs = self.update_metrics(ts.metric_state, batch, y_pred, loss, per_output)
        return self.step_result(TrainState(params, state, opt_state, ms, new_key), logs)

    def test_step(self, ts: TrainState, batch: tuple) -> Any:
        loss, (y_pred, _, per_output) = self.loss_and_updates(ts.params, ts.state, batch, False,
                                                              jax.random.wrap_key_data(ts.key))
        ms, logs = self.update_metrics(ts.metric_state, batch, y_pred, loss, per_output)
        return self.step_result(ts._replace(metric_state=ms), logs)

    def predict_step(self, ts: TrainState, x: Any) -> Any:
        return self.forward(ts.params, ts.state, x, False, jax.random.wrap_key_data(ts.key))[0]

    def results(self, ms: dict) -> dict[str, jax.Array]:
        """Current value of every tracker and metric, by log name."""
        return {getattr(m, "log_name", m.name): m.stateless_result(ms[getattr(m, "log_name", m.name)])
                for m in self.spec.all_metrics()}

    # -- k steps in one compiled call -------------------------------------------------------
    def multi(self, step: Callable, with_logs: bool = False) -> Callable:
        """`(ts, data, idx, n_valid) -> (ts, logs)`: up to `k` steps in one compiled program.

        `data` holds whole arrays on the device and `idx` the `[k, batch]` sample indices of
        each step; each step gathers its own batch inside the loop. With `idx=None`, `data` is
        already stacked as `[k, batch, ...]`. The loop runs `n_valid` times (a dynamic value),
        so one program serves every call of an epoch, the shorter last one included, and the
        padding of a short call is never computed. With `k == 1` the step runs directly.
        `with_logs`: `step` returns `(ts, logs)` (a user's step override) and the call's logs
        are the last step's; otherwise they are the metrics' results.
        """
        if not with_logs:
            step_logs = lambda ts, batch: (step(ts, batch), None)
        else:
            step_logs = step

        def run(ts: TrainState, data: Any, idx: Any, n_valid: Any) -> tuple:
            steps = _steps_in(data, idx)
            if steps == 1:
                ts, logs = step_logs(ts, _batch(data, idx, 0))
            else:
                logs = _zeros_like(jax.eval_shape(step_logs, ts, _batch(data, idx, 0))[1])
                trips = steps if static_trip_count() else jnp.asarray(n_valid, jnp.int32)
                ts, logs = jax.lax.fori_loop(
                    0, trips,
                    lambda i, carry: step_logs(carry[0], _batch(data, idx, i)), (ts, logs))
            # kiln.distribution: the state leaves with its layout (unchanged without one).
            ts = _placement.constrain_state(ts, {**self.trainable, **self.non_trainable})
            return ts, (logs if with_logs else self.results(ts.metric_state))
        return run

    def multi_predict(self, step: Callable | None = None) -> Callable:
        """`(ts, data, idx) -> outputs` stacked `[k, batch, ...]` (the host drops padding);
        `step(ts, x)` defaults to the model's forward pass."""
        step = step or self.predict_step

        def run(ts: TrainState, data: Any, idx: Any) -> Any:
            k = _steps_in(data, idx)
            if k == 1:
                out = step(ts, _batch(data, idx, 0))
                return jax.tree_util.tree_map(lambda a: a[None], out)
            _, out = jax.lax.scan(
                lambda carry, i: (carry, step(ts, _batch(data, idx, i))),
                0, jnp.arange(k))
            return out
        return run


def static_trip_count() -> bool:
    """Whether a fused call loops over exactly the steps it is given (a static trip count)
    rather than over its first `n_valid` (a dynamic one).

    On GPUs and TPUs a loop with a dynamic trip count copies its condition to the host on
    every step (an H200 ran kiln's MLP epochs at half of a hand-written `lax.scan`'s speed);
    there the host trims a short call's padding (`trim_call`) and that call compiles once more.
    On the CPU the dynamic loop costs nothing and one program serves every call of an epoch.

    >>> static_trip_count() == (jax.default_backend() != "cpu")
    True
    """
    return jax.default_backend() != "cpu"


def trim_call(kk: int, data: Any, idx: Any) -> tuple[Any, Any]:
    """`(data, idx)` of a call holding `kk` real steps, its padding dropped where the fused
    loop's trip count is static (else unchanged).

    >>> import numpy as np
    >>> idx = np.zeros((4, 2), np.int32)
    >>> trim_call(3, None, idx)[1].shape == ((3, 2) if static_trip_count() else (4, 2))
    True
    """
    if not static_trip_count() or _steps_in(data, idx) <= kk:
        return data, idx
    if idx is not None:
        return data, idx[:kk]
    return jax.tree_util.tree_map(lambda a: a[:kk], data), None


def _zeros_like(shapes: Any) -> Any:
    return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def _steps_in(data: Any, idx: Any) -> int:
    return (idx if idx is not None else jax.tree_util.tree_leaves(data)[0]).shape[0]


def _batch(data: Any, idx: Any, i: Any) -> Any:
    """Step `i`'s batch: rows `idx[i]` of the device-resident arrays, or slice `i` of a stack."""
    if idx is None:
        batch = jax.tree_util.tree_map(lambda a: a[i], data)
    else:
        rows = idx[i]
        batch = jax.tree_util.tree_map(lambda a: a[rows], data, is_leaf=_is_shared)
    # kiln.distribution: split along the batch axis of the global distribution, if any.
    return _placement.constrain_batch(batch)


def _is_shared(a: Any) -> bool:
    return isinstance(a, SharedRows)
