"""Does the loss fit the model and the labels? Checks that teach the fix.

Keras 3 on JAX trains silently on a zero loss when `loss` is missing, gives loss 0 for sparse
labels out of range, and reports integer labels given to categorical_crossentropy as a bare
shape mismatch. kiln checks, before the first training step:

- at compile(): the output layer's activation against each loss (`check_compile`);
- on in-memory data: empty arrays, NaN and infinity (`check_arrays`, see `_input_checks`);
- on the first batch (or all in-memory labels) once the losses are built: features against the
  model's Input, and labels against each loss and output width (`check_batch`).

What is certainly wrong raises ValueError. What is unusual but legal (the seeds compile a
10-unit softmax with binary_crossentropy for multi-label targets) warns with a
`ConfigurationWarning` pointing at the user's line.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .. import _config, activations
from .. import losses as losses_mod
from .._variables import bind
from ._input_checks import (ConfigurationWarning, check_features, check_finite, check_not_empty,
                            warn)
from ._label_checks import LABEL_CHECKS, Case, LossInfo, Output, check_metrics, one_unit_error
from ._steps import flatten_outputs

__all__ = ["ConfigurationWarning", "check_arrays", "check_batch", "check_compile",
           "check_inputs", "checked_stream"]


def output_layer(model: Any) -> Any:
    """The layer producing the (first) output, or None when it cannot be known yet."""
    try:
        if getattr(model, "_functional", None) is not None:
            outputs = model._functional[1]
            first = next(iter(outputs.values())) if isinstance(outputs, dict) else outputs
            first = first[0] if isinstance(first, (list, tuple)) else first
            return first.node.layer
        layers = model.layers
        return layers[-1] if layers else None
    except (AttributeError, IndexError, StopIteration):
        return None


def describe_output(layer: Any) -> tuple[str, int | None]:
    """(activation name, units) of an output layer, as far as it can be told."""
    act = getattr(layer, "activation", None)
    name = activations.serialize(act) if act is not None else "linear"
    units = getattr(layer, "units", None)
    return (name if isinstance(name, str) else "custom"), units


def suggest_loss(model: Any) -> str:
    """A sentence naming the loss that suits the model's output layer."""
    layer = output_layer(model)
    if layer is None:
        return ("For two classes with a sigmoid output use loss='binary_crossentropy'; for N "
                "classes with a softmax output use 'sparse_categorical_crossentropy' (integer "
                "labels) or 'categorical_crossentropy' (one-hot labels); for regression use "
                "'mean_squared_error' or 'mean_absolute_error'.")
    act, units = describe_output(layer)
    where = f"Your output layer '{layer.name}' has {units or '?'} unit(s) with {act!r} activation"
    if act == "sigmoid":
        return f"{where}: use loss='binary_crossentropy'."
    if act == "softmax":
        return (f"{where}: use loss='sparse_categorical_crossentropy' for integer labels or "
                "loss='categorical_crossentropy' for one-hot labels.")
    if act == "linear":
        return (f"{where}: for regression use loss='mean_squared_error' (or "
                "'mean_absolute_error'); for classification on logits use e.g. "
                "kiln.losses.SparseCategoricalCrossentropy(from_logits=True).")
    return f"{where}: choose the loss that matches your labels."


def raise_missing_loss(model: Any) -> None:
    raise ValueError(
        "compile() needs a loss: without one there is nothing to minimize and training would "
        "not change the weights. " + suggest_loss(model) + " A model that computes its own loss "
        "(overriding compute_loss or train_step, or calling add_loss) may compile without one."
    )


# -- what each loss and each output expect --------------------------------------------------------

_KINDS = {
    "binary_crossentropy": "binary", "binary_focal_crossentropy": "binary",
    "categorical_crossentropy": "categorical", "categorical_focal_crossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse",
    "mean_squared_error": "regression", "mean_absolute_error": "regression",
    "mean_absolute_percentage_error": "regression",
    "mean_squared_logarithmic_error": "regression", "huber": "regression", "log_cosh": "regression",
}
_PROBABILITY = ("binary", "categorical", "sparse")


def loss_info(identifier: Any) -> LossInfo | None:
    """What a built-in loss expects, or None for a custom loss (nothing is checked then)."""
    if identifier is None or (isinstance(identifier, str)
                               and identifier.lower() in ("crossentropy", "ce")):
        return None  # "crossentropy" is resolved from the label shapes, as in Keras
    if isinstance(identifier, (str, type, dict)):
        try:
            identifier = losses_mod.get(identifier)
        except (ValueError, TypeError):
            return None
    fn = identifier.fn if isinstance(identifier, losses_mod.LossFunctionWrapper) else identifier
    name = getattr(fn, "__name__", None)
    if name not in _KINDS or getattr(losses_mod, name, None) is not fn:
        return None
    kwargs = getattr(identifier, "fn_kwargs", {})
    return LossInfo(_KINDS[name], name, bool(kwargs.get("from_logits", False)),
                    kwargs.get("ignore_class"))


def _activation(layer: Any) -> str | None:
    act = getattr(layer, "activation", None)
    if not callable(act):
        return None  # a layer without an activation argument: its output range is unknown
    try:
        return activations.serialize(act)
    except ValueError:
        return None


def model_outputs(model: Any) -> list[Output]:
    """The outputs whose producing layer is known (functional and Sequential models); [] for a
    subclassed model, whose last-created layer need not be its output."""
    try:
        functional = getattr(model, "_functional", None)
        if functional is not None:
            outs = functional[1]
            # output_names orders dict outputs by name (as Keras does): pair each name with
            # its own tensor, not with the dict's insertion order.
            leaves = ([outs[n] for n in model.output_names] if isinstance(outs, dict)
                      else list(outs) if isinstance(outs, (list, tuple)) else [outs])
            return [Output(n, t.node.layer, _activation(t.node.layer),
                           t.shape[-1] if t.shape else None)
                    for n, t in zip(model.output_names, leaves)]
        if hasattr(model, "_input_layer") and model.layers:  # a Sequential: its last layer
            layer, shape = model.layers[-1], getattr(model, "output_shape_info", None)
            width = shape[-1] if isinstance(shape, tuple) and shape else getattr(layer, "units", None)
            return [Output(layer.name, layer, _activation(layer), width)]
    except (AttributeError, IndexError, TypeError):
        pass
    return []


# -- compile(): the output activation against the loss ---------------------------------------------

def check_compile(model: Any, loss: Any, metrics: Any) -> None:
    """Checks that depend on the model and the compile arguments alone (called by compile())."""
    del metrics  # which accuracy "accuracy" means is only known from the labels
    outputs = model_outputs(model)
    if isinstance(loss, dict):
        per_output = [loss.get(o.name) for o in outputs]
    elif isinstance(loss, (list, tuple)):
        per_output = list(loss) if len(loss) == len(outputs) else []
    else:
        per_output = [loss] * len(outputs)
    for out, identifier in zip(outputs, per_output):
        _check_activation(out, loss_info(identifier))


def _check_activation(out: Output, info: LossInfo | None) -> None:
    act, k = out.activation, out.width
    units = f"{k if k is not None else '?'} unit{'' if k == 1 else 's'}"
    where = f"the output layer '{out.layer.name}' ({units}, activation {act!r})"
    if act == "softmax" and k == 1:
        raise ValueError(
            f"In {where}, softmax over a single unit always outputs 1.0, so the model cannot "
            "learn. Fix: for two classes use Dense(1, activation='sigmoid') with "
            "loss='binary_crossentropy', or Dense(2, activation='softmax') with "
            "loss='sparse_categorical_crossentropy'.")
    if info is None:
        return
    if info.kind in ("categorical", "sparse") and k == 1:
        raise one_unit_error(info, where)
    if act is None:
        return
    if info.kind in _PROBABILITY and act == "linear" and not info.from_logits:
        final = "sigmoid" if info.kind == "binary" else "softmax"
        warn(f"loss='{info.name}' expects probabilities, but {where} outputs unbounded values "
             "(logits); the loss clips them to [1e-7, 1 - 1e-7] as if they were probabilities, "
             "which gives wrong losses and vanishing gradients. Fix: use "
             f"loss=kiln.losses.{_class_name(info.name)}(from_logits=True), or give the output "
             f"layer activation='{final}'.")
    elif info.from_logits and act in ("sigmoid", "softmax"):
        warn(f"loss='{info.name}' has from_logits=True, but {where} already applies {act}: its "
             f"outputs are probabilities, not logits, and the loss applies {act} a second time. "
             "Fix: drop from_logits=True, or remove the output layer's activation.")
    elif info.kind == "binary" and act == "softmax":
        warn(f"loss='{info.name}' with {where}: softmax makes the units compete (they sum to 1) "
             "while binary cross-entropy scores each unit as its own yes/no. Fix: for one class "
             "per sample use loss='categorical_crossentropy' (one-hot labels) or "
             "'sparse_categorical_crossentropy' (integer labels); for multi-label targets use "
             "activation='sigmoid'.")
    elif info.kind in ("categorical", "sparse") and act == "sigmoid":
        warn(f"loss='{info.name}' with {where}: sigmoid units do not sum to 1, so they are not a "
             "distribution over classes. Fix: use activation='softmax' for one class per sample, "
             "or loss='binary_crossentropy' for multi-label targets.")


def _class_name(fn_name: str) -> str:
    return "".join(part.capitalize() for part in fn_name.split("_"))


# -- in-memory arrays, then each checked batch ----------------------------------------------------

def check_arrays(x: Any, y: Any, sample_weight: Any, argument_prefix: str = "") -> None:
    """Eager checks of in-memory inputs before anything is traced: no empty array, and (unless
    `kiln.config.set_check_finite(False)`) no NaN or infinity in x, y or sample_weight."""
    named = ((x, "x"), (y, "y"), (sample_weight, "sample_weight"))
    # An empty y or sample_weight next to a non-empty x is a length mismatch (check_lengths).
    check_not_empty(x if x is not None else y, argument_prefix + ("x" if x is not None else "y"))
    for tree, name in named:
        check_finite(tree, argument_prefix + name)


def check_inputs(model: Any, x: Any) -> None:
    """Features against the model's Input (structure, dict keys, rank, width), before the model
    is built or traced on them. Called by the loop before building from the first batch."""
    check_features(model, x)


def check_batch(model: Any, batch: Any, first: bool, whole_data: bool = False) -> None:
    """Checks of one batch against the model, its losses and its outputs.

    Called with the first batch of every fit/evaluate (first=True) after the losses and metrics
    are built, and with every generator batch when debug checks are on.

    Args:
        model: the compiled model.
        batch: `(x, y, sample_weight)` of NumPy arrays (structures of them for several inputs
            or outputs).
        first: whether this is the first batch (only changes the messages).
        whole_data: the batch is all of the in-memory data, already checked by `check_arrays`
            (the finite check is skipped, the label checks see every label).
    """
    x, y, sw = (tuple(batch) + (None, None))[:3] if isinstance(batch, tuple) else (batch, None, None)
    if not whole_data:
        where = " of the first batch" if first else " of a batch from the generator"
        for tree, name in ((x, "x"), (y, "y"), (sw, "sample_weight")):
            check_finite(tree, name, where)
    if not first:  # the first batch's features were checked before the model was built
        check_features(model, x)
    spec = getattr(model, "_compiled", None)
    if spec is None or not spec.built:
        return
    if y is None:
        _check_labels_given(model, spec)
    else:
        _check_outputs(model, spec, x, y)


def _check_outputs(model: Any, spec: Any, x: Any, y: Any) -> None:
    """Each output's labels against its loss and its metrics."""
    labels, shapes = flatten_outputs(model, y), _prediction_shapes(model, spec, x)
    known = {o.name: o for o in model_outputs(model)}
    n = len(spec.output_names)
    for i, name in enumerate(spec.output_names):
        if i >= len(labels) or labels[i] is None or shapes is None:
            continue
        info = loss_info(spec.losses[i]) if i < len(spec.losses) else None
        case = Case(info, np.asarray(labels[i]), tuple(shapes[i]), known.get(name),
                     "y" if n == 1 else f"y for output '{name}'", "y" if n == 1 else "labels")
        if info is not None:
            LABEL_CHECKS[info.kind](case)
        check_metrics(case, spec.metrics[i] + spec.weighted[i])


def checked_stream(model: Any, batches: Any) -> Any:
    """Yields the `(x, y, sample_weight)` batches of a generator; with
    `kiln.config.enable_debug_checks()` each one is checked by `check_batch` first."""
    for batch in batches:
        if _config.debug_checks_enabled():
            check_batch(model, batch, first=False)
        yield batch


def _check_labels_given(model: Any, spec: Any) -> None:
    if any(l is not None for l in spec.losses) and not spec.defines_own_loss(model):
        raise ValueError(
            "No labels: y is None, but compile() set a loss, which compares predictions with "
            "labels. Fix: pass them, model.fit(x, y, ...), or make the generator yield (x, y) "
            "tuples.")


def _prediction_shapes(model: Any, spec: Any, x: Any) -> list[tuple] | None:
    """One output shape per output name, from the model's structure or one abstract trace."""
    shapes = getattr(spec, "output_shapes", None)
    if shapes is not None:
        return [tuple(s) for s in shapes]
    info, names = getattr(model, "output_shape_info", None), spec.output_names
    is_shape = lambda s: isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s)
    if isinstance(info, dict):
        info = [info.get(n) for n in names]
    elif is_shape(info):
        info = [info]
    if isinstance(info, (list, tuple)) and len(info) == len(names) and all(map(is_shape, info)):
        return list(info)
    return _traced_shapes(model, x)


def _traced_shapes(model: Any, x: Any) -> list[tuple] | None:
    def struct(a: Any) -> Any:
        dtype = np.asarray(a).dtype
        return jax.ShapeDtypeStruct(np.shape(a), np.float32 if dtype == np.float64 else dtype)

    try:
        with bind({}):
            out = jax.eval_shape(lambda v: model(v, training=False), jax.tree_util.tree_map(struct, x))
    except Exception:  # noqa: BLE001 - best effort: the training step reports the real error
        return None
    finally:
        model._clear_losses()
    return [tuple(o.shape) for o in flatten_outputs(model, out)]
