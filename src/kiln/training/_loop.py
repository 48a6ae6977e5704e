"""fit / evaluate / predict and the *_on_batch methods: the host side of training.

The host prepares index blocks, calls one compiled function per `k` steps, and drives the
callbacks. Values reach the host only at log points (the progress bar reads them lazily).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import jax
import numpy as np

from .. import callbacks as callbacks_mod
from . import _checks, _data
from ._prefetch import prefetch
from ._session import get_session
from ._steps import flatten_outputs


# -- preparation ------------------------------------------------------------------------------

def _require_compiled(model: Any, method: str) -> Any:
    if model._compiled is None:
        raise ValueError(f"You must call compile() before {method}(): e.g. "
                         "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                         "metrics=['accuracy']).")
    return model._compiled


def _check_int(name: str, value: Any, minimum: int, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; received {value!r}.")


def _output_names(model: Any, y_pred: Any) -> list[str]:
    names = list(model.output_names)
    count = len(y_pred) if isinstance(y_pred, (list, tuple, dict)) else 1
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    if len(names) == count:
        return names
    return ["output"] if count == 1 else [f"output_{i}" for i in range(count)]


def _build(model: Any, batch: tuple) -> None:
    """Builds the model, then losses and metrics, from one example batch (shapes only)."""
    x, y, sw = batch
    _checks.check_inputs(model, x)
    model.ensure_built(x)
    spec = model._compiled
    if spec is None or spec.built:
        return
    session = get_session(model)
    ts = session.gather(fresh_metrics=True, with_optimizer=False, copy=False)
    y_pred = jax.eval_shape(lambda t, v: session.runner.predict_step(t, v), ts, x)
    names = _output_names(model, y_pred)
    spec.output_names = names
    if isinstance(y_pred, dict) and y is not None and not isinstance(y, dict) and len(names) > 1:
        raise ValueError(f"The model's outputs are a dict {names}; pass y as a dict keyed by "
                         f"those names (received a {type(y).__name__}).")
    y_true = flatten_outputs(model, y) if y is not None else [None] * len(names)
    preds = flatten_outputs(model, y_pred)
    if len(y_true) != len(preds):
        raise ValueError(f"The model has {len(preds)} outputs {names} but y has {len(y_true)} "
                         "entries; give one label array per output (a list, or a dict keyed by "
                         "output name).")
    spec.build(names, y_true, preds)
    spec.output_shapes = [tuple(p.shape) for p in preds]
    _init_metric_shapes(spec, y_true, preds)
    model._session = None


def _init_metric_shapes(spec: Any, y_true: list, preds: list) -> None:
    """Creates metric state that depends on shapes (e.g. AUC(multi_label=True)) eagerly."""
    for group in (spec.metrics, spec.weighted):
        for i, metrics in enumerate(group):
            for m in metrics:
                m.stateless_init(y_true[i], preds[i])


def _check_data(model: Any, plan: Any, example: Any) -> None:
    """Labels against losses and outputs: every in-memory label, or a stream's first batch."""
    if isinstance(plan, _data.ArrayPlan):
        _checks.check_batch(model, plan.host, first=True, whole_data=True)
    else:
        _checks.check_batch(model, example, first=True)


def _first_batch(plan: Any, batch_size: int) -> Any:
    if isinstance(plan, _data.ArrayPlan):
        return _data.take(plan.host, np.arange(min(batch_size, plan.n)))
    return None


def _prepare_arrays(x: Any, y: Any, sw: Any, class_weight: Any = None) -> tuple:
    x = _data.to_arrays(x, "x")
    y = _data.to_arrays(y, "y")
    sw = _data.to_arrays(sw, "sample_weight")
    _checks.check_arrays(x, y, sw)
    if class_weight is not None:
        sw = _data.class_weights_to_sample_weights(y, class_weight, sw)
    _data.check_lengths(x, y, sw)
    return x, y, sw


def _plan(x: Any, y: Any, sw: Any, batch_size: int | None, shuffle: Any, steps: int | None,
          class_weight: Any = None, with_targets: bool = True, model: Any = None) -> Any:
    """An ArrayPlan for in-memory data, an IterablePlan for generators and iterables."""
    if _data.is_iterable_source(x):
        if y is not None or sw is not None:
            raise ValueError("When x is a generator or iterable it must yield (x, y) or "
                             "(x, y, sample_weight) batches; do not pass y or sample_weight.")
        if class_weight is not None:
            raise ValueError("class_weight is not supported with generators; yield "
                             "(x, y, sample_weight) batches instead.")
        return _PeekedPlan(_data.IterablePlan(x, steps, with_targets), model)
    if with_targets:
        data = _prepare_arrays(x, y, sw, class_weight)
    else:
        data = _data.to_arrays(x, "x")
        _data.check_lengths(data, None, None)
    return _data.ArrayPlan(data, batch_size or 32, shuffle, steps, seed=_seed())


def _seed() -> int:
    from .. import _random

    return _random.next_seed()


class _PeekedPlan:
    """An IterablePlan whose first batch is read ahead (to build the model) and not lost."""

    def __init__(self, plan: Any, model: Any = None):
        self.plan = plan
        self.model = model
        self.steps = plan.steps
        self._first = None
        self._source = self._checked(plan.batches())

    def _checked(self, batches: Any) -> Any:
        # With kiln.config.enable_debug_checks(), every generator batch is checked.
        if self.model is None or not self.plan.with_targets:
            return batches
        return _checks.checked_stream(self.model, batches)

    def first(self) -> Any:
        if self._first is None:
            try:
                self._first = next(self._source)
            except StopIteration:
                raise ValueError("The generator or iterable passed as x yielded no batch.") from None
        return self._first

    def epoch(self, k: int) -> Any:
        if self._first is not None:  # the read-ahead batch opens the first epoch
            head, self._first = [self._first], None
            return self.plan.epoch(k, itertools.chain(head, self._source))
        return self.plan.epoch(k, self._checked(self.plan.batches()))

    @property
    def exhausted(self) -> bool:
        return self.plan.exhausted


def _example(plan: Any, batch_size: int | None) -> Any:
    return plan.first() if isinstance(plan, _PeekedPlan) else _first_batch(plan, batch_size or 32)


# Rough sustained throughput per platform (flop/s), used only to pick steps_per_execution.
_FLOP_RATE = {"cpu": 2e11, "gpu": 2e13, "cuda": 2e13, "rocm": 2e13, "tpu": 5e13}
# With a live progress bar, "auto" aims at about this much device time per compiled call: the
# ~0.1-0.5 ms of Python, dispatch and per-call XLA work is amortised, and the bar still moves
# ten times a second. With nothing reading batch logs, a call runs AUTO_MAX_STEPS steps.
AUTO_CALL_SECONDS = 0.1
AUTO_MAX_STEPS = 128


def _steps_per_execution(model: Any, session: Any = None, ts: Any = None, example: Any = None,
                         steps: int | None = None, cbs: Any = None) -> int:
    """The explicit steps_per_execution, or for "auto" a power of two: 1 when user callbacks
    have batch-level hooks (they then see every batch), as many as AUTO_MAX_STEPS when nothing
    reads batch logs, else what the compiled forward pass's flop count says fills about
    AUTO_CALL_SECONDS."""
    k = model._compiled.steps_per_execution if model._compiled is not None else "auto"
    if k != "auto":
        return int(k)
    if session is None or (cbs is not None and cbs.user_batch_hooks):
        return 1
    key = tuple(np.shape(a) for a in jax.tree_util.tree_leaves(example))
    if key not in session.auto_k:
        session.auto_k[key] = _auto_k(session, ts, example)
    step_seconds, single = session.auto_k[key]
    if single:
        return 1
    live = cbs is None or cbs.needs_batch_logs
    best = AUTO_CALL_SECONDS / step_seconds if live else AUTO_MAX_STEPS
    limit = min(steps, AUTO_MAX_STEPS) if steps else AUTO_MAX_STEPS
    return 1 << int(math.log2(max(1, min(best, limit))))


def _steps_per_call(model: Any, session: Any, ts: Any, plan: Any, batch: Any, x: Any,
                    cbs: Any) -> int:
    """Steps per compiled call for `plan`, whose first batch is `batch` (with inputs `x`)."""
    k = _steps_per_execution(model, session, ts, x, plan.steps, cbs)
    return _stream_cap(plan, batch, k, model)


# Host-prepared calls (generators, arrays kept off the device) stack their k batches in one
# buffer; "auto" keeps that buffer under this size.
STREAM_CALL_BYTES = 64 * 1024**2


def _stream_cap(plan: Any, example: Any, k: int, model: Any) -> int:
    """`k`, lowered for streamed data so a call's stacked batches stay under STREAM_CALL_BYTES
    (only when "auto" chose it: an explicit steps_per_execution is honoured)."""
    explicit = model._compiled is not None and model._compiled.steps_per_execution != "auto"
    if explicit or (isinstance(plan, _data.ArrayPlan) and plan.on_device):
        return k
    batch = sum(np.asarray(a).nbytes for a in jax.tree_util.tree_leaves(example))
    fits = max(1, STREAM_CALL_BYTES // max(1, batch))
    return min(k, 1 << int(math.log2(fits)))


def _auto_k(session: Any, ts: Any, x: Any) -> tuple[float, bool]:
    """(estimated seconds per training step, whether to run one step per call)."""
    try:
        lowered = jax.jit(session.runner.predict_step).lower(ts, x)
        flops = float(lowered.cost_analysis().get("flops", 0.0))
        has_conv = "convolution" in lowered.as_text()
    except Exception:  # cost analysis is best effort; fall back to a safe middle value
        return AUTO_CALL_SECONDS / 8, False
    platform = jax.devices()[0].platform
    # XLA CPU leaves the weight-gradient convolutions of a step inside a loop off its fast
    # path (measured 10-20x slower per step with lax.scan), so conv nets run one step per
    # call there.
    single = platform == "cpu" and has_conv
    return max(3.0 * flops / _FLOP_RATE.get(platform, 1e11), 1e-6), single


def _to_float_logs(logs: dict) -> dict:
    out = {}
    for k in sorted(logs):
        v = np.asarray(logs[k])
        out[k] = float(v) if v.ndim == 0 else v
    return out


def _batches(plan: Any, k: int) -> Any:
    """The plan's calls; data prepared on the host (generators, arrays too large for the
    device) is prefetched on a background thread."""
    if isinstance(plan, _data.ArrayPlan) and plan.on_device:
        return plan.epoch(k)
    return prefetch(plan.epoch(k))


def _run_calls(fn: Any, session: Any, plan: Any, k: int, cbs: Any, hook: str,
               eager: bool) -> Any:
    """Runs one pass over `plan`, calling `fn` per k steps; returns the last logs."""
    step, logs = 0, {}
    for kk, data, idx in _batches(plan, k):
        getattr(cbs, f"on_{hook}_batch_begin")(step)
        if eager:
            with jax.disable_jit():
                session.ts, logs = fn(session.ts, data, idx, kk)
        else:
            session.ts, logs = fn(session.ts, data, idx, kk)
        step += kk
        getattr(cbs, f"on_{hook}_batch_end")(step - 1, logs)
        session.refresh()
        if hook == "train" and session.model.stop_training:
            break
    return logs, step


# -- fit ----------------------------------------------------------------------------------------

def fit(model: Any, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
        verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
        validation_data: Any = None, shuffle: Any = True, class_weight: Any = None,
        sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
        validation_steps: int | None = None, validation_batch_size: int | None = None,
        validation_freq: Any = 1) -> Any:
    """Trains `model`; see `kiln.Model.fit`. Returns the `History` callback."""
    spec = _require_compiled(model, "fit")
    _check_int("batch_size", batch_size, 1)
    _check_int("epochs", epochs, 1, allow_none=False)
    _check_int("initial_epoch", initial_epoch, 0, allow_none=False)
    _check_int("steps_per_epoch", steps_per_epoch, 1)
    _check_int("validation_steps", validation_steps, 1)
    _check_int("validation_batch_size", validation_batch_size, 1)
    _check_validation_freq(validation_freq)
    if validation_split and validation_data is None:
        if _data.is_iterable_source(x):
            raise ValueError("validation_split needs array inputs; with a generator pass "
                             "validation_data instead.")
        x, y, sample_weight = _prepare_arrays(x, y, sample_weight, class_weight)
        class_weight = None
        (x, y, sample_weight), validation_data = _data.split_validation(
            x, y, sample_weight, float(validation_split))
    plan = _plan(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, class_weight,
                 model=model)
    example = _example(plan, batch_size)
    _build(model, example)
    _check_data(model, plan, example)
    val = _validation(validation_data, validation_batch_size or batch_size, validation_steps)

    session = get_session(model)
    session.ts = session.gather(fresh_metrics=True)
    verbose = 1 if verbose == "auto" else verbose
    steps = plan.steps
    cbs = callbacks_mod.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=model, verbose=verbose, epochs=epochs, steps=steps)
    model.stop_training = False
    k = _steps_per_call(model, session, session.ts, plan, example, example[0], cbs)
    logs: dict = {}
    cbs.on_train_begin()
    try:
        for epoch in range(initial_epoch, epochs):
            session.ts = session.ts._replace(metric_state=session.metric_state(fresh=True))
            cbs.on_epoch_begin(epoch)
            logs, done = _run_calls(session.train_fn, session, plan, k, cbs, "train",
                                    spec.run_eagerly)
            if done == 0:
                _warn_out_of_data()
                break
            logs = _to_float_logs(logs)
            session.scatter(session.ts)
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = _evaluate_plan(model, session, val, callbacks=None, verbose=0)
                logs.update({f"val_{k_}": v for k_, v in val_logs.items()})
            cbs.on_epoch_end(epoch, dict(sorted(logs.items())))
            session.refresh()
            if model.stop_training:
                break
    finally:
        if session.ts is not None:
            _finalize(session)
        session.ts = None
    cbs.on_train_end(logs)
    model.history = cbs.history
    return cbs.history


def _finalize(session: Any) -> None:
    """Writes the final state back; with use_ema the EMA weights replace the weights (Keras's
    `finalize_variable_values` at the end of fit)."""
    ts = session.ts
    opt = session.model._compiled.optimizer
    if getattr(opt, "use_ema", False) and ts.opt_state is not None:
        ts = ts._replace(params=opt.finalize_params(ts.params, ts.opt_state))
    session.scatter(ts)


def _check_validation_freq(freq: Any) -> None:
    if isinstance(freq, (list, tuple, set)):
        if all(isinstance(e, (int, np.integer)) and e >= 1 for e in freq):
            return
    elif isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq >= 1:
        return
    raise ValueError("validation_freq must be a positive int (validate every N epochs) or a list "
                     f"of 1-based epoch numbers; received {freq!r}.")


def _should_validate(epoch: int, freq: Any) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _warn_out_of_data() -> None:
    import warnings

    warnings.warn("Your input ran out of data; training stopped. Make sure the generator can "
                  "yield steps_per_epoch * epochs batches (or re-iterate it each epoch).",
                  stacklevel=3)


def _validation(data: Any, batch_size: int | None, steps: int | None) -> Any:
    if data is None:
        return None
    if isinstance(data, tuple) and len(data) in (2, 3):
        vx, vy, vsw = (tuple(data) + (None,))[:3]
        return _plan(vx, vy, vsw, batch_size, False, steps)
    if _data.is_iterable_source(data):
        return _plan(data, None, None, None, False, steps)
    raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                     f"sample_weight_val), or a generator; received {type(data).__name__}.")


# -- evaluate / predict -------------------------------------------------------------------------

def _evaluate_plan(model: Any, session: Any, plan: Any, callbacks: Any, verbose: Any) -> dict:
    """Runs the test step over `plan` with fresh metrics on the current weights."""
    live = session.ts
    base = live if live is not None else session.gather(fresh_metrics=True)
    ts = base._replace(metric_state=session.metric_state(fresh=True))
    cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=model,
                                     verbose=verbose, epochs=1, steps=plan.steps)
    eval_session = _EvalSession(session, ts)
    example = _example(plan, plan_batch_size(plan))
    k = _steps_per_call(model, session, ts, plan, example, example[0], cbs)
    cbs.on_test_begin()
    logs, _ = _run_calls(session.test_fn, eval_session, plan, k, cbs, "test",
                         model._compiled.run_eagerly)
    logs = _to_float_logs(logs)
    if live is None:
        session.scatter(eval_session.ts._replace(opt_state=None), metrics=True)
    cbs.on_test_end(logs)
    return logs


def plan_batch_size(plan: Any) -> int:
    return getattr(plan, "batch_size", 32)


class _EvalSession:
    """Evaluation's own state (weights shared with fit's, metrics its own)."""

    def __init__(self, session: Any, ts: Any):
        self.session = session
        self.model = session.model
        self.ts = ts

    def refresh(self) -> None:
        pass


def evaluate(model: Any, x: Any = None, y: Any = None, batch_size: int | None = None,
             verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
             callbacks: Any = None, return_dict: bool = False) -> Any:
    """Loss and metrics on the given data; see `kiln.Model.evaluate`."""
    _require_compiled(model, "evaluate")
    _check_int("batch_size", batch_size, 1)
    _check_int("steps", steps, 1)
    plan = _plan(x, y, sample_weight, batch_size, False, steps, model=model)
    example = _example(plan, batch_size)
    _build(model, example)
    _check_data(model, plan, example)
    session = get_session(model)
    logs = _evaluate_plan(model, session, plan, callbacks, 1 if verbose == "auto" else verbose)
    return logs if return_dict else _flatten_logs(model, logs)


def _flatten_logs(model: Any, logs: dict) -> Any:
    names = [n for n in model._compiled.log_names() if n in logs]
    values = [logs[n] for n in names]
    return values[0] if len(values) == 1 else values


def predict(model: Any, x: Any, batch_size: int | None = None, verbose: Any = "auto",
            steps: int | None = None, callbacks: Any = None) -> Any:
    """Model outputs for `x`, as NumPy arrays concatenated over batches."""
    _check_int("batch_size", batch_size, 1)
    _check_int("steps", steps, 1)
    plan = _plan(x, None, None, batch_size, False, steps, with_targets=False)
    example = plan.first() if isinstance(plan, _PeekedPlan) else _data.take(
        plan.host, np.arange(min(batch_size or 32, plan.n)))
    _checks.check_inputs(model, example)
    model.ensure_built(example)
    session = get_session(model)
    ts = session.gather(fresh_metrics=True, with_optimizer=False, copy=False)
    verbose = 1 if verbose == "auto" else verbose
    cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=model,
                                     verbose=verbose, epochs=1, steps=plan.steps)
    cbs.on_predict_begin()
    chunks, step = [], 0
    k = _steps_per_call(model, session, ts, plan, example, example, cbs)
    for kk, data, idx in _batches(plan, k):
        cbs.on_predict_batch_begin(step)
        out = session.predict_fn(ts, data, idx)
        chunks.append(jax.tree_util.tree_map(lambda a, n=kk: a[:n], out))
        step += kk
        cbs.on_predict_batch_end(step - 1, {"outputs": out})
    outputs = jax.tree_util.tree_map(
        lambda *parts: np.concatenate([np.asarray(p).reshape((-1,) + p.shape[2:]) for p in parts]),
        *chunks)
    cbs.on_predict_end()
    return outputs


# -- single batches -----------------------------------------------------------------------------

def _one_batch(model: Any, x: Any, y: Any, sw: Any, class_weight: Any, fn_name: str) -> dict:
    _require_compiled(model, fn_name)
    x, y, sw = _prepare_arrays(x, y, sw, class_weight)
    _build(model, (x, y, sw))
    _checks.check_batch(model, (x, y, sw), first=True, whole_data=True)
    session = get_session(model)
    ts = session.gather(fresh_metrics=False)
    data = jax.device_put(jax.tree_util.tree_map(lambda a: a[None], (x, y, sw)))
    fn = session.train_fn if fn_name == "train_on_batch" else session.test_fn
    ts, logs = fn(ts, data, None, 1)
    session.scatter(ts, metrics=True)
    return _to_float_logs(logs)


def train_on_batch(model: Any, x: Any, y: Any = None, sample_weight: Any = None,
                   class_weight: Any = None, return_dict: bool = False) -> Any:
    """One training step on one batch; metrics keep accumulating across calls (as Keras)."""
    logs = _one_batch(model, x, y, sample_weight, class_weight, "train_on_batch")
    return logs if return_dict else _flatten_logs(model, logs)


def test_on_batch(model: Any, x: Any, y: Any = None, sample_weight: Any = None,
                  return_dict: bool = False) -> Any:
    """Loss and metrics on one batch."""
    logs = _one_batch(model, x, y, sample_weight, None, "test_on_batch")
    return logs if return_dict else _flatten_logs(model, logs)


def predict_on_batch(model: Any, x: Any) -> Any:
    """Model outputs for one batch, as NumPy arrays."""
    x = _data.to_arrays(x, "x")
    _checks.check_inputs(model, x)
    model.ensure_built(x)
    session = get_session(model)
    ts = session.gather(fresh_metrics=True, with_optimizer=False, copy=False)
    out = session.predict_fn(ts, jax.tree_util.tree_map(lambda a: a[None], x), None)
    return jax.tree_util.tree_map(lambda a: np.asarray(a)[0], out)
