"""The run stage: how many steps one compiled call runs, and one pass of calls over a plan.

The host prepares index blocks, calls one compiled function per `k` steps, and drives the
callbacks. Values reach the host only at log points (the progress bar reads them lazily).

Example:
    >>> to_float_logs({"loss": np.float32(0.5), "acc": np.float32(1.0)})
    {'acc': 1.0, 'loss': 0.5}
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np

from .._types import Logs
from . import _data
from ._prefetch import prefetch
from ._steps import trim_call

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


def steps_per_call(model: Any, session: Any, ts: Any, plan: Any, batch: Any, x: Any,
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
        lowered = session.lower_predict(ts, x)
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


def to_float_logs(logs: Logs) -> Logs:
    out = {}
    for k in sorted(logs):
        v = np.asarray(logs[k])
        out[k] = float(v) if v.ndim == 0 else v
    return out


def batches(plan: Any, k: int, epoch: int = 0, start: int = 0) -> Any:
    """The calls of `plan`'s epoch `epoch` from step `start`; data prepared on the host
    (generators, arrays too large for the device) is prefetched on a background thread."""
    calls = plan.epoch(k, epoch, start)
    if isinstance(plan, _data.ArrayPlan) and plan.on_device:
        return calls
    return prefetch(calls)


def run_calls(fn: Any, session: Any, plan: Any, k: int, cbs: Any, hook: str,
              eager: bool) -> tuple[Logs, int]:
    """Runs one pass over `plan`, calling `fn` per k steps: (the last logs, steps run).

    Training starts at `session.loop`'s step of its epoch and advances it after each call
    (before `on_train_batch_end`, so a callback reads where the fit is)."""
    train = hook == "train"
    step, logs = (session.loop.step if train else 0), {}
    calls = batches(plan, k, session.loop.epoch, step) if train else batches(plan, k)
    for kk, data, idx in calls:
        data, idx = trim_call(kk, data, idx)
        getattr(cbs, f"on_{hook}_batch_begin")(step)
        # A batch-begin hook that read the model (or set the learning rate, the weights)
        # made the model's objects the live state: read them back before the step runs, or
        # the refresh after `on_batch_end` would bring back these pre-step values.
        session.refresh()
        if eager:
            with jax.disable_jit():
                session.ts, logs = fn(session.ts, data, idx, kk)
        else:
            session.ts, logs = fn(session.ts, data, idx, kk)
        step += kk
        if train:
            session.loop = session.loop.advance(kk)
        getattr(cbs, f"on_{hook}_batch_end")(step - 1, logs)
        session.refresh()
        if train and session.model.stop_training:
            break
    return logs, step
