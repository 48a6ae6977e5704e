"""evaluate / predict and the *_on_batch methods, over the model's one `Session`.

Example:
    >>> import numpy as np
    >>> import kiln
    >>> model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> predict(model, np.ones((5, 2)), PredictOptions(verbose=0)).shape
    (5, 1)
    >>> type(evaluate(model, np.ones((5, 2)), np.ones(5), None, EvaluateOptions(verbose=0)))
    <class 'float'>
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .. import callbacks as callbacks_mod
from .._types import Logs, PyTree
from ..distribution import _placement
from . import _checks, _data, _pipeline
from ._loop import batches, run_calls, steps_per_call, to_float_logs
from ._options import EvaluateOptions, PredictOptions, verbosity
from ._session import Session, get_session
from ._steps import TrainState


def require_compiled(model: Any, method: str) -> Any:
    if model._compiled is None:
        raise ValueError(f"You must call compile() before {method}(): e.g. "
                         "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                         "metrics=['accuracy']).")
    return model._compiled


class _EvalSession:
    """Evaluation's own state (weights shared with fit's, metrics its own)."""

    def __init__(self, session: Session, ts: TrainState):
        self.session = session
        self.model = session.model
        self.ts = ts

    def refresh(self) -> None:
        pass


def callback_list(callbacks: Any, model: Any, add_history: bool = False, **params: Any) -> Any:
    """`callbacks` as a `CallbackList`: one given is used as it is (Keras's rule; kiln also
    gives it the model and params when it has none), anything else is wrapped."""
    if not isinstance(callbacks, callbacks_mod.CallbackList):
        return callbacks_mod.CallbackList(callbacks, add_history=add_history,
                                          add_progbar=params["verbose"] != 0, model=model,
                                          **params)
    if callbacks._model is None:
        callbacks.set_model(model)
    if not callbacks.params:
        callbacks.set_params(params)
    return callbacks


def evaluate_plan(model: Any, session: Session, plan: Any, callbacks: Any, verbose: Any,
                  in_fit: bool = False) -> Logs:
    """Runs the test step over `plan` with fresh metrics on the current weights; `in_fit`:
    fit's validation, driving fit's own `CallbackList`. `on_test_begin` runs first and what
    it changes in the model (e.g. `SwapEMAWeights`) is read back before the first step."""
    cbs = callback_list(callbacks, model, verbose=verbose, epochs=1, steps=plan.steps)
    cbs.on_test_begin()
    session.refresh()
    live = session.ts
    base = live if live is not None else session.gather(fresh_metrics=True)
    ts = base._replace(metric_state=session.metric_state(fresh=True))
    eval_session = _EvalSession(session, ts)
    example = _pipeline.example(plan)
    # Validation inside fit: the fit's progress bar draws nothing here, so only user batch
    # hooks make the calls shorter (as before, nothing else reads the test batch logs).
    k_cbs = cbs if not in_fit or cbs.user_batch_hooks else callbacks_mod.CallbackList()
    k = steps_per_call(model, session, ts, plan, example, example[0], k_cbs)
    logs, _ = run_calls(session.test_fn, eval_session, plan, k, cbs, "test",
                        model._compiled.run_eagerly)
    logs = to_float_logs(logs)
    if live is None:
        session.scatter(eval_session.ts._replace(opt_state=None), metrics=True)
    cbs.on_test_end(logs)
    session.refresh()
    return logs


def evaluate(model: Any, x: PyTree, y: PyTree, sample_weight: PyTree,
             options: EvaluateOptions) -> Any:
    """Loss and metrics on the given data; see `kiln.Model.evaluate`."""
    require_compiled(model, "evaluate")
    opts = options.check()
    source = _pipeline.adapt(x, y, sample_weight)
    plan, _, _ = _pipeline.prepare(model, source, opts.batch_size, False, opts.steps,
                                   get_session)
    session = get_session(model)
    logs = evaluate_plan(model, session, plan, opts.callbacks, verbosity(opts.verbose))
    return logs if opts.return_dict else _flatten_logs(model, logs)


def _flatten_logs(model: Any, logs: Logs) -> Any:
    names = [n for n in model._compiled.log_names() if n in logs]
    values = [logs[n] for n in names]
    return values[0] if len(values) == 1 else values


def predict(model: Any, x: PyTree, options: PredictOptions) -> Any:
    """Model outputs for `x`, as NumPy arrays concatenated over batches."""
    opts = options.check()
    source = _pipeline.adapt(x, with_targets=False)
    _pipeline.check_values(source, with_targets=False)
    plan = _pipeline.plan(source, opts.batch_size, False, opts.steps, with_targets=False)
    example = _pipeline.example(plan)
    _pipeline.check_features(model, example)
    model.ensure_built(example)
    session = get_session(model)
    verbose = verbosity(opts.verbose)
    cbs = callback_list(opts.callbacks, model, verbose=verbose, epochs=1, steps=plan.steps)
    cbs.on_predict_begin()  # first: what it changes in the model is what predict reads
    ts = session.gather(fresh_metrics=True, with_optimizer=False, copy=False)
    k = steps_per_call(model, session, ts, plan, example, example, cbs)
    chunks = _predict_calls(session, ts, plan, k, cbs)
    outputs = jax.tree_util.tree_map(
        lambda *parts: np.concatenate([_placement.to_host(p).reshape((-1,) + p.shape[2:])
                                       for p in parts]),
        *chunks)
    cbs.on_predict_end()
    return outputs


def _predict_calls(session: Session, ts: TrainState, plan: Any, k: int, cbs: Any) -> list:
    """One pass of predict calls; the outputs of each call, padding dropped."""
    chunks, step = [], 0
    for kk, data, idx in batches(plan, k):
        cbs.on_predict_batch_begin(step)
        out = session.predict_fn(ts, data, idx)
        chunk = jax.tree_util.tree_map(lambda a, n=kk: a[:n], out)
        chunks.append(chunk)
        step += kk
        # Keras hands the hook this call's outputs as (batch, ...) arrays: the steps of one
        # call concatenated, the leading steps axis merged away, padding steps dropped.
        cbs.on_predict_batch_end(step - 1, {"outputs": jax.tree_util.tree_map(
            lambda a: a.reshape((-1,) + a.shape[2:]), chunk)})
    return chunks


# -- single batches -----------------------------------------------------------------------------

def _one_batch(model: Any, x: PyTree, y: PyTree, sw: PyTree, class_weight: Any,
               fn_name: str) -> Logs:
    require_compiled(model, fn_name)
    source = _pipeline.adapt_arrays(x, y, sw)
    _pipeline.check_values(source)
    batch = _pipeline.with_class_weight(source, class_weight).data
    _pipeline.build(model, batch, get_session)
    _checks.check_batch(model, batch, first=True, whole_data=True)
    session = get_session(model)
    ts = session.gather(fresh_metrics=False)
    data = jax.device_put(jax.tree_util.tree_map(lambda a: a[None], batch))
    fn = session.train_fn if fn_name == "train_on_batch" else session.test_fn
    ts, logs = fn(ts, data, None, 1)
    session.scatter(ts, metrics=True)
    return to_float_logs(logs)


def train_on_batch(model: Any, x: PyTree, y: PyTree = None, sample_weight: PyTree = None,
                   class_weight: Any = None, return_dict: bool = False) -> Any:
    """One training step on one batch; metrics keep accumulating across calls (as Keras)."""
    logs = _one_batch(model, x, y, sample_weight, class_weight, "train_on_batch")
    return logs if return_dict else _flatten_logs(model, logs)


def test_on_batch(model: Any, x: PyTree, y: PyTree = None, sample_weight: PyTree = None,
                  return_dict: bool = False) -> Any:
    """Loss and metrics on one batch."""
    logs = _one_batch(model, x, y, sample_weight, None, "test_on_batch")
    return logs if return_dict else _flatten_logs(model, logs)


def predict_on_batch(model: Any, x: PyTree) -> Any:
    """Model outputs for one batch, as NumPy arrays."""
    x = _data.to_arrays(x, "x")
    _pipeline.check_features(model, x)
    model.ensure_built(x)
    session = get_session(model)
    ts = session.gather(fresh_metrics=True, with_optimizer=False, copy=False)
    out = session.predict_fn(ts, jax.tree_util.tree_map(lambda a: a[None], x), None)
    return jax.tree_util.tree_map(lambda a: _placement.to_host(a)[0], out)
