"""fit: adapt -> check -> plan (`_pipeline`), then the epoch loop over one `Session`.

The session is created once per fit (when the model and its losses are built from the first
batch, or found current from an earlier call), and records in `session.loop` where the fit
is: epoch, step within the epoch, and the seed of the data order.

Example:
    >>> import numpy as np
    >>> import kiln
    >>> model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> history = fit(model, np.ones((8, 2)), np.ones(8), None, FitOptions(epochs=2, verbose=0))
    >>> len(history.history["loss"]), model._session.loop[:2]
    (2, (2, 0))
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config
from .._types import Logs, PyTree
from ..distribution import _placement
from . import _pipeline
from ._data import ArrayPlan
from ._evaluate import callback_list, evaluate_plan, require_compiled
from ._loop import run_calls, steps_per_call, to_float_logs
from ._options import FitOptions, verbosity
from ._session import LoopState, Session, get_session


def fit(model: Any, x: PyTree, y: PyTree, sample_weight: PyTree, options: FitOptions) -> Any:
    """Trains `model`; see `kiln.Model.fit`. Returns the `History` callback."""
    spec = require_compiled(model, "fit")
    opts = _capped(options.check())
    split = opts.validation_split if opts.validation_data is None else 0.0
    source = _pipeline.adapt(x, y, sample_weight, opts.class_weight)
    plan, example, held_out = _pipeline.prepare(
        model, source, opts.batch_size, opts.shuffle, opts.steps_per_epoch, get_session,
        class_weight=opts.class_weight, validation_split=split)
    val = _pipeline.validation_plan(held_out if held_out is not None else opts.validation_data,
                                    opts.validation_batch_size or opts.batch_size,
                                    opts.validation_steps)
    if isinstance(plan, ArrayPlan):
        plan.first_epoch = opts.initial_epoch
    session = get_session(model)
    session.ts = session.gather(fresh_metrics=True)
    session.loop = LoopState(opts.initial_epoch, 0, getattr(plan, "seed", None))
    verbose = verbosity(opts.verbose)
    cbs = callback_list(opts.callbacks, model, add_history=True, verbose=verbose,
                        epochs=opts.epochs, steps=plan.steps)
    model.stop_training = False
    k = steps_per_call(model, session, session.ts, plan, example, example[0], cbs)
    logs: Logs = {}
    cbs.on_train_begin()
    _resume(session, plan, cbs.callbacks)
    try:
        logs = _epochs(session, plan, val, k, cbs, opts, spec.run_eagerly)
    finally:
        if session.ts is not None:
            _finalize(session)
        session.ts = None
    cbs.on_train_end(logs)
    if cbs.history is not None:
        model.history = cbs.history
    return cbs.history


def _capped(opts: FitOptions) -> FitOptions:
    """`opts` under `kiln.config.set_max_epochs` / `set_max_steps_per_epoch`, as Keras caps."""
    max_epochs, max_steps = _config.max_epochs(), _config.max_steps_per_epoch()
    if max_epochs is not None and max_epochs < opts.epochs:
        opts = dataclasses.replace(opts, epochs=max_epochs)
    if max_steps is not None and (opts.steps_per_epoch is None or max_steps < opts.steps_per_epoch):
        opts = dataclasses.replace(opts, steps_per_epoch=max_steps)
    return opts


def _epochs(session: Session, plan: Any, val: Any, k: int, cbs: Any, opts: FitOptions,
            eager: bool) -> Logs:
    """Runs the epochs from `session.loop.epoch` to `opts.epochs`; returns the last logs."""
    model, logs = session.model, {}
    while session.loop.epoch < opts.epochs:
        epoch = session.loop.epoch
        if session.loop.step == 0:  # (a fit resumed mid-epoch keeps its restored metrics)
            session.ts = session.ts._replace(metric_state=session.metric_state(fresh=True))
        cbs.on_epoch_begin(epoch)
        session.refresh()
        logs, done = run_calls(session.train_fn, session, plan, k, cbs, "train", eager)
        if done == 0:
            _warn_out_of_data()
            break
        if not logs:  # resumed after the epoch's last batch: the restored metrics' results
            logs = session.runner.results(session.ts.metric_state)
        logs = to_float_logs(logs)
        session.scatter(session.ts)
        if val is not None and opts.should_validate(epoch):
            val_logs = evaluate_plan(model, session, val, callbacks=cbs, verbose=0,
                                     in_fit=True)
            logs.update({f"val_{name}": v for name, v in val_logs.items()})
        session.loop = session.loop.next_epoch()
        cbs.on_epoch_end(epoch, dict(sorted(logs.items())))
        session.refresh()
        if model.stop_training:
            break
    return logs


def _resume(session: Session, plan: Any, callbacks: list) -> None:
    """Reads back what `on_train_begin` callbacks restored into the model, then starts the
    loop where the first callback with a `resume_point()` says (BackupAndRestore): a dict with
    `epoch` and optionally `step`, `seed` (of the data order), `key` (raw PRNG key data) and
    `metrics` (the running metric state). A mid-epoch step is resumed only for in-memory data
    with a stored seed (the batches are then the rest of the uninterrupted epoch's); a
    generator restarts the epoch, as in Keras."""
    session.refresh()
    point = next((p for p in (getattr(c, "resume_point", lambda: None)() for c in callbacks)
                  if p), None)
    if point is None:
        return
    seed, step = point.get("seed"), int(point.get("step") or 0)
    exact = isinstance(plan, ArrayPlan) and seed is not None
    if exact:
        plan.seed = int(seed)
    session.loop = LoopState(int(point["epoch"]), step if exact else 0, getattr(plan, "seed", None))
    ts, key = session.ts, point.get("key")
    if key is not None and np.shape(key) == np.shape(ts.key):
        ts = ts._replace(key=jnp.asarray(np.asarray(key, ts.key.dtype)))
    fresh = session.metric_state(fresh=True)
    metrics = point.get("metrics")
    same = metrics is not None and _same_shapes(metrics, fresh)
    kept = jax.tree_util.tree_map(jnp.asarray, metrics) if same and session.loop.step else fresh
    # Laid out as `Session.gather` lays out its state (a no-op without a distribution).
    variables = {**session.runner.trainable, **session.runner.non_trainable}
    session.ts = _placement.place_state(ts._replace(metric_state=kept), variables)


def _same_shapes(a: Any, b: Any) -> bool:
    """Whether two pytrees have one structure and the same leaf shapes."""
    if jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b):
        return False
    return all(np.shape(x) == np.shape(y) for x, y in
               zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def _finalize(session: Session) -> None:
    """Writes the final state back; with use_ema the EMA weights replace the weights (Keras's
    `finalize_variable_values` at the end of fit)."""
    ts = session.ts
    opt = session.model._compiled.optimizer
    if getattr(opt, "use_ema", False) and ts.opt_state is not None:
        ts = ts._replace(params=opt.finalize_params(ts.params, ts.opt_state))
    session.scatter(ts)


def _warn_out_of_data() -> None:
    warnings.warn("Your input ran out of data; training stopped. Make sure the generator can "
                  "yield steps_per_epoch * epochs batches (or re-iterate it each epoch).",
                  stacklevel=4)
