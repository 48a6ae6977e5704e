"""`compile()`: resolve every name to an object, early, and fail with the fix in the message.

Names are checked here (Keras waits until the first fit). What depends on the labels' shapes
(`"accuracy"` choosing binary/sparse/categorical, one loss for several outputs) is finished
by `CompiledSpec.build` on the first batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from . import _checks
from ._own_loss import defines_own_loss, own_loss_verdict

__all__ = ["CompiledSpec", "compile_model", "defines_own_loss", "metrics_names"]

_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")


class CompiledSpec:
    """What compile() resolved, plus the per-output objects built on the first batch."""

    def __init__(self, optimizer: Any, loss: Any, loss_weights: Any, metrics: Any,
                 weighted_metrics: Any, steps_per_execution: Any, run_eagerly: bool,
                 jit_compile: Any):
        self.optimizer = optimizer
        self.loss = loss
        self.loss_weights = loss_weights
        self.metrics_arg = metrics
        self.weighted_metrics_arg = weighted_metrics
        self.steps_per_execution = steps_per_execution
        self.run_eagerly = run_eagerly
        self.jit_compile = jit_compile
        self.built = False
        self.output_names: list[str] = []
        self.losses: list[Any] = []
        self.weights: list[float] = []
        self.metrics: list[list[Any]] = []
        self.weighted: list[list[Any]] = []
        self.loss_tracker = metrics_mod.Mean(name="loss")
        self.output_loss_trackers: list[Any] = []
        # A model compiled with loss=None whose own loss could not be seen yet (its input
        # shape was unknown): checked on the first batch, once the model is built.
        self.pending_loss_check: Any = None
        self.own_loss: bool | None = None  # own_loss_verdict, once known (see defines_own_loss)

    # -- building on the first batch ---------------------------------------------------------
    def build(self, output_names: list[str], y_true: list[Any], y_pred: list[Any]) -> None:
        """Maps losses and metrics onto the outputs, given one batch of labels and predictions.

        Args:
            output_names: one name per output.
            y_true / y_pred: one array (or shape-carrying struct) per output.
        """
        model, self.pending_loss_check = self.pending_loss_check, None
        if model is not None and not self.defines_own_loss(model):
            _checks.raise_missing_loss(model)
        n = len(output_names)
        self.output_names = list(output_names)
        if self.loss is not None:
            per_output = _per_output(self.loss, output_names, "loss", broadcast=True)
            self.losses = [None if l is None else _build_loss(l, yt, yp)
                           for l, yt, yp in zip(per_output, y_true, y_pred)]
        else:
            self.losses = [None] * n
        self.weights = _loss_weights(self.loss_weights, output_names)
        self.metrics = self._build_metric_lists(self.metrics_arg, y_true, y_pred, "metrics")
        self.weighted = self._build_metric_lists(self.weighted_metrics_arg, y_true, y_pred,
                                                 "weighted_metrics")
        self._name_metrics(n)
        active = [i for i, l in enumerate(self.losses) if l is not None]
        self.output_loss_trackers = []
        # Keras adds `<output>_loss` trackers only when more than one output has a loss
        # (CompileLoss.build: `len(self._flat_losses) > 1`).
        if len(active) > 1:
            self.output_loss_trackers = [(i, metrics_mod.Mean(name=f"{output_names[i]}_loss"))
                                         for i in active]
        self.built = True

    def _build_metric_lists(self, arg: Any, y_true: list, y_pred: list, argument: str) -> list[list]:
        n = len(y_pred)
        if not arg:
            return [[] for _ in range(n)]
        if n == 1:
            entries = [arg if isinstance(arg, (list, tuple)) else [arg]]
            if isinstance(arg, dict):
                entries = [[m for v in arg.values() for m in _as_list(v)]]
        else:
            entries = _per_output(arg, self.output_names, argument, broadcast=False)
        return [[_build_metric(m, yt, yp) for m in _as_list(e)]
                for e, yt, yp in zip(entries, y_true, y_pred)]

    def _name_metrics(self, n: int) -> None:
        """Keras's log names: `<output>_<metric>` with several outputs; `_1` on duplicates;
        `weighted_` before a weighted metric whose name is also unweighted."""
        taken = {"loss"} | {f"{o}_loss" for o in self.output_names}
        plain = set()
        for i, group in enumerate(self.metrics):
            for m in group:
                m.log_name = _unique(_prefixed(m.name, i, n, self.output_names), taken)
                plain.add(m.name)
        for i, group in enumerate(self.weighted):
            for m in group:
                base = f"weighted_{m.name}" if m.name in plain else m.name
                m.log_name = _unique(_prefixed(base, i, n, self.output_names), taken)

    def defines_own_loss(self, model: Any) -> bool:
        """`defines_own_loss(model)`, with the verdict kept once known: the abstract trace
        it may need runs at most once per compile, not again in every fit."""
        if self.own_loss is None:
            self.own_loss = own_loss_verdict(model)
        return self.own_loss is not False

    def all_metrics(self) -> list[Any]:
        """Trackers and metrics in Keras's `model.metrics` order."""
        out = [self.loss_tracker] + [t for _, t in self.output_loss_trackers]
        for group in self.metrics + self.weighted:
            out.extend(group)
        return out

    def log_names(self) -> list[str]:
        return [getattr(m, "log_name", m.name) for m in self.all_metrics()]


def compile_model(model: Any, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                  metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                  steps_per_execution: Any = "auto", jit_compile: Any = "auto",
                  auto_scale_loss: bool = True) -> None:
    """Configures `model` for training; see `kiln.Model.compile`."""
    opt = optimizers_mod.get(optimizer)
    if (auto_scale_loss and opt is not None and model.dtype_policy.name == "mixed_float16"
            and not isinstance(opt, optimizers_mod.LossScaleOptimizer)):
        opt = optimizers_mod.LossScaleOptimizer(opt, name="loss_scale_optimizer")
    _validate_loss_names(loss)
    _validate_metric_container(metrics, "metrics")
    _validate_metric_container(weighted_metrics, "weighted_metrics")
    for arg, name in ((metrics, "metrics"), (weighted_metrics, "weighted_metrics")):
        _validate_metric_names(arg, name)
    if loss_weights is not None and not isinstance(loss_weights, (int, float, list, tuple, dict)):
        raise ValueError("compile(loss_weights=...) must be a float, or a list or dict with one "
                         f"entry per output; received {loss_weights!r}.")
    if not _is_steps_arg(steps_per_execution):
        raise ValueError("compile(steps_per_execution=...) must be a positive int or 'auto'; "
                         f"received {steps_per_execution!r}.")
    verdict = own_loss_verdict(model) if loss is None else True
    if verdict is False:
        _checks.raise_missing_loss(model)
    _checks.check_compile(model, loss, metrics)
    model.optimizer = opt
    model._compiled = CompiledSpec(opt, loss, loss_weights, metrics, weighted_metrics,
                                   steps_per_execution, bool(run_eagerly), jit_compile)
    if loss is None:
        model._compiled.own_loss = verdict
    if verdict is None:
        model._compiled.pending_loss_check = model
    model._session = None


def metrics_names(model: Any) -> list[str]:
    spec = model._compiled
    if spec is None or not spec.built:
        return ["loss"] if spec is not None else []
    return spec.log_names()


# -- helpers -------------------------------------------------------------------------------------

def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _per_output(arg: Any, names: list[str], argument: str, broadcast: bool) -> list[Any]:
    n = len(names)
    if isinstance(arg, dict):
        unknown = [k for k in arg if k not in names]
        if unknown:
            raise ValueError(f"compile({argument}=...) has keys {unknown} that are not outputs of "
                             f"the model; the output names are {names}.")
        if argument == "loss" and any(k not in arg for k in names):
            missing = [k for k in names if k not in arg]
            raise ValueError(f"compile(loss=...) as a dict needs one entry per output; missing "
                             f"{missing}. Give None for an output that has no loss.")
        return [arg.get(k) for k in names]
    if isinstance(arg, (list, tuple)):
        if len(arg) == n:
            return list(arg)
        if broadcast or n == 1:
            raise ValueError(f"compile({argument}=...) is a list of {len(arg)} entries but the "
                             f"model has {n} outputs {names}; give one entry per output.")
        raise ValueError(f"compile({argument}=...) for a model with {n} outputs {names} must be a "
                         f"list with one entry (a metric or a list of metrics) per output, or a "
                         f"dict keyed by output name; received {arg!r}.")
    if broadcast:
        return [arg] * n
    raise ValueError(f"compile({argument}=...) must be a list or dict; received {arg!r}.")


def _loss_weights(arg: Any, names: list[str]) -> list[float]:
    if arg is None:
        return [1.0] * len(names)
    if isinstance(arg, (int, float)):
        if len(names) != 1:
            return [float(arg)] * len(names)
        return [float(arg)]
    values = _per_output(arg, names, "loss_weights", broadcast=False)
    return [1.0 if v is None else float(v) for v in values]


def _build_loss(identifier: Any, y_true: Any, y_pred: Any) -> Any:
    if isinstance(identifier, str) and identifier.lower() in _CROSSENTROPY:
        identifier = _shape_rule(y_true, y_pred, ("binary_crossentropy",
                                                  "sparse_categorical_crossentropy",
                                                  "categorical_crossentropy"))
    obj = losses_mod.get(identifier)
    if isinstance(obj, losses_mod.Loss):
        return obj
    name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "loss")
    return losses_mod.LossFunctionWrapper(obj, name=name)


def _build_metric(identifier: Any, y_true: Any, y_pred: Any) -> Any:
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY:
        cls = _shape_rule(y_true, y_pred, (metrics_mod.BinaryAccuracy,
                                           metrics_mod.SparseCategoricalAccuracy,
                                           metrics_mod.CategoricalAccuracy))
        return cls(name=identifier)
    if isinstance(identifier, str):
        return metrics_mod.get(identifier, name=identifier)
    return metrics_mod.get(identifier)


def _shape_rule(y_true: Any, y_pred: Any, choices: tuple) -> Any:
    """Keras's choice between binary, sparse and categorical from shapes alone."""
    true_shape, pred_shape = np.shape(y_true), np.shape(y_pred)
    if pred_shape and pred_shape[-1] == 1:
        return choices[0]
    sparse = len(true_shape) < len(pred_shape) or (
        bool(true_shape) and true_shape[-1] == 1 and pred_shape[-1] > 1)
    return choices[1] if sparse else choices[2]


def _prefixed(name: str, i: int, n: int, names: list[str]) -> str:
    return f"{names[i]}_{name}" if n > 1 else name


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 0
    while out in taken:
        k += 1
        out = f"{name}_{k}"
    taken.add(out)
    return out


def _is_steps_arg(value: Any) -> bool:
    if value == "auto":
        return True
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _validate_loss_names(loss: Any) -> None:
    for item in _leaves(loss):
        if isinstance(item, str) and item.lower() not in _CROSSENTROPY:
            losses_mod.get(item)  # raises with the closest valid names


def _validate_metric_container(arg: Any, argument: str) -> None:
    if arg is not None and not isinstance(arg, (list, tuple, dict)):
        raise ValueError(f"compile({argument}=...) must be a list, tuple or dict, e.g. "
                         f"{argument}=[{arg!r}]; received {arg!r}.")


def _validate_metric_names(arg: Any, argument: str) -> None:
    for item in _leaves(arg):
        if isinstance(item, str) and item.lower() not in _ACCURACY:
            try:
                metrics_mod.get(item)
            except ValueError as err:
                raise ValueError(f"{err} (in compile({argument}=...))") from None


def _leaves(arg: Any) -> list[Any]:
    if isinstance(arg, dict):
        return [x for v in arg.values() for x in _leaves(v)]
    if isinstance(arg, (list, tuple)):
        return [x for v in arg for x in _leaves(v)]
    return [] if arg is None else [arg]
