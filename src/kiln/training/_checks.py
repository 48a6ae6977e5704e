"""Does the loss fit the model and the labels? Checks that teach the fix.

Keras 3 on JAX trains silently on a zero loss when `loss` is missing; kiln refuses at
compile() and names the loss that suits the model's output layer.
"""

from __future__ import annotations

from typing import Any


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
    from .. import activations

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


# -- hooks called by compile() and the training loop ------------------------------------------

def check_compile(model: Any, loss: Any, metrics: Any) -> None:
    """Checks that depend on the model and the compile arguments alone (called by compile())."""


def check_arrays(x: Any, y: Any, sample_weight: Any, argument_prefix: str = "") -> None:
    """Eager checks of in-memory inputs before anything is traced (called for arrays)."""


def check_batch(model: Any, batch: tuple, first: bool) -> None:
    """Checks of one batch of labels against the losses and the outputs.

    Called with the first batch of every fit/evaluate (first=True) after the losses and metrics
    are built, and with every generator batch when debug checks are on.
    """
