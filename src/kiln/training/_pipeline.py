"""What fit/evaluate/predict receive, on its way to the compiled step: adapt -> check -> plan.

- adapt: in-memory arrays are converted once (`Arrays`), a generator or iterable is wrapped
  once (`Stream`); `is_iterable_source` is asked here and nowhere else.
- check: every eager input check, in this file's middle section: values and lengths of
  in-memory data (before anything is split or planned), features against the model's Input
  (before the model is built from the first batch), labels against the losses and outputs
  (once those are built).
- plan: an `ArrayPlan` or an `IterablePlan` (whose first batch, read ahead to build the model,
  opens the first epoch and is not read or checked again).

The run stage (one compiled call per k steps) is `_loop`.

Example:
    >>> import numpy as np
    >>> source = adapt(np.zeros((10, 2)), np.zeros(10), None)
    >>> check_values(source)
    >>> type(source).__name__, source.data[0].dtype, num_samples(source)
    ('Arrays', dtype('float32'), 10)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from .. import _random
from .._types import Batch, PyTree
from . import _checks, _data, _stream
from ._steps import flatten_outputs

DEFAULT_BATCH_SIZE = 32


class Arrays(NamedTuple):
    """In-memory data, converted: `data` is `(x, y, sample_weight)` (y, sw may be None)."""

    data: Batch


class Stream(NamedTuple):
    """A generator or iterable of batches, not read yet."""

    source: Any


# -- adapt ----------------------------------------------------------------------------------------

def adapt(x: PyTree, y: PyTree = None, sw: PyTree = None, class_weight: Any = None,
          with_targets: bool = True) -> Arrays | Stream:
    """Arrays converted once, or the iterable wrapped once."""
    if _stream.is_iterable_source(x):
        if with_targets and (y is not None or sw is not None):
            raise ValueError("When x is a generator or iterable it must yield (x, y) or "
                             "(x, y, sample_weight) batches; do not pass y or sample_weight.")
        if with_targets and class_weight is not None:
            raise ValueError("class_weight is not supported with generators; yield "
                             "(x, y, sample_weight) batches instead.")
        return Stream(x)
    return adapt_arrays(x, y, sw) if with_targets else adapt_arrays(x, None, None)


def adapt_arrays(x: PyTree, y: PyTree = None, sw: PyTree = None) -> Arrays:
    """In-memory data converted once (float64 -> float32, int64 -> int32)."""
    return Arrays((_data.to_arrays(x, "x"), _data.to_arrays(y, "y"),
                   _data.to_arrays(sw, "sample_weight")))


def with_class_weight(source: Arrays, class_weight: Any) -> Arrays:
    """`class_weight` turned into per-sample weights (checked arrays only)."""
    if class_weight is None:
        return source
    x, y, sw = source.data
    return Arrays((x, y, _data.class_weights_to_sample_weights(y, class_weight, sw)))


def split_validation(source: Arrays | Stream, fraction: float) -> tuple[Arrays, Arrays]:
    """validation_split on the adapted (and checked) arrays: (training part, validation part)."""
    if isinstance(source, Stream):
        raise ValueError("validation_split needs array inputs; with a generator pass "
                         "validation_data instead.")
    train, val = _data.split_validation(*source.data, float(fraction))
    return Arrays(train), Arrays(val)


def num_samples(source: Arrays) -> int | None:
    return _data.num_samples(source.data[0])


# -- check ----------------------------------------------------------------------------------------

def check_values(source: Arrays | Stream, with_targets: bool = True) -> None:
    """In-memory data: no empty array, no NaN/inf (x, y, sw), one length for all."""
    if isinstance(source, Stream):
        return
    x, y, sw = source.data
    if with_targets:
        _checks.check_arrays(x, y, sw)
        _data.check_lengths(x, y, sw)
    else:
        _data.check_lengths(x, None, None)


def check_features(model: Any, x: PyTree) -> None:
    """The first batch's features against the model's Input, before building on them."""
    _checks.check_inputs(model, x)


def check_labels(model: Any, plan: Any, example: Batch) -> None:
    """Labels against losses and outputs: every in-memory label, or a stream's first batch."""
    if isinstance(plan, _data.ArrayPlan):
        _checks.check_batch(model, plan.host, first=True, whole_data=True)
    else:
        _checks.check_batch(model, example, first=True)


# -- plan -----------------------------------------------------------------------------------------

def plan(source: Arrays | Stream, batch_size: int | None, shuffle: Any, steps: int | None,
         model: Any = None, with_targets: bool = True) -> Any:
    """An ArrayPlan for arrays (seeded from the global stream), an IterablePlan for a stream
    (its batches checked in debug mode when `model` is given)."""
    if isinstance(source, Stream):
        checked = model is not None and with_targets
        wrap = (lambda batches: _checks.checked_stream(model, batches)) if checked else None
        batches = source.source
        if _stream.is_sequence_source(batches):  # PyDataset: len(ds) batches per epoch
            batches = _stream.SequenceSource(batches)
            steps = steps if steps is not None else len(batches)
        return _stream.IterablePlan(batches, steps, with_targets, wrap=wrap)
    data = source.data if with_targets else source.data[0]
    return _data.ArrayPlan(data, batch_size or DEFAULT_BATCH_SIZE, shuffle, steps,
                           seed=_random.next_seed())


def example(plan: Any) -> Any:
    """The plan's first batch: a stream's read-ahead, or the arrays' first rows."""
    if isinstance(plan, _stream.IterablePlan):
        return plan.first()
    return _data.take(plan.host, np.arange(min(plan.batch_size, plan.n)))


# -- build (from the first batch) -----------------------------------------------------------------

def output_names(model: Any, y_pred: PyTree) -> list[str]:
    names = list(model.output_names)
    count = len(y_pred) if isinstance(y_pred, (list, tuple, dict)) else 1
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    if len(names) == count:
        return names
    return ["output"] if count == 1 else [f"output_{i}" for i in range(count)]


def build(model: Any, batch: Batch, session_for: Any) -> None:
    """Checks the features, builds the model, then losses and metrics, from one example batch
    (shapes only). `session_for(model)` gives the (one) session of this call."""
    x, y, _ = batch
    check_features(model, x)
    model.ensure_built(x)
    spec = model._compiled
    if spec is None or spec.built:
        return
    session = session_for(model)
    ts = session.gather(fresh_metrics=True, with_optimizer=False, copy=False)
    y_pred = jax.eval_shape(session.runner.predict_step, ts, x)
    names = output_names(model, y_pred)
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


def _init_metric_shapes(spec: Any, y_true: list, preds: list) -> None:
    """Creates metric state that depends on shapes (e.g. AUC(multi_label=True)) eagerly."""
    for group in (spec.metrics, spec.weighted):
        for i, metrics in enumerate(group):
            for m in metrics:
                m.stateless_init(y_true[i], preds[i])


# -- the whole way, for fit and evaluate ----------------------------------------------------------

def prepare(model: Any, source: Arrays | Stream, batch_size: int | None, shuffle: Any,
            steps: int | None, session_for: Any, class_weight: Any = None,
            validation_split: float = 0.0) -> tuple[Any, Batch, Arrays | None]:
    """check -> plan -> build -> check labels, for adapted data with targets: (the plan, its
    first batch, the validation part when `validation_split` holds data out)."""
    check_values(source)
    if isinstance(source, Arrays):
        source = with_class_weight(source, class_weight)
    held_out = None
    if validation_split:
        source, held_out = split_validation(source, validation_split)
    the_plan = plan(source, batch_size, shuffle, steps, model=model)
    first = example(the_plan)
    build(model, first, session_for)
    check_labels(model, the_plan, first)
    return the_plan, first, held_out


def validation_plan(data: Any, batch_size: int | None, steps: int | None) -> Any:
    """The plan of fit's validation_data: a tuple of arrays, or a generator."""
    if data is None:
        return None
    if isinstance(data, Arrays):  # from validation_split: adapted and checked already
        return plan(data, batch_size, False, steps)
    if isinstance(data, tuple) and len(data) in (2, 3):
        vx, vy, vsw = (tuple(data) + (None,))[:3]
        source = adapt(vx, vy, vsw)
        check_values(source)
        return plan(source, batch_size, False, steps)
    if _stream.is_iterable_source(data):
        return plan(Stream(data), None, False, steps)
    raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                     f"sample_weight_val), or a generator; received {type(data).__name__}.")
