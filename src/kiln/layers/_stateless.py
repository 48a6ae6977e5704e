"""`Layer.stateless_call`: Keras's pure call of a layer on given variable values.

The values are bound to the layer's Variables for the call by the one scope
(`kiln._scope.bind`), so the call reads them instead of the layers' own values, and the
assignments it makes (BatchNormalization's moving statistics) come back as new values instead
of being applied. Random layers draw from the enclosing scope's key stream (a custom
`train_step`'s), or from kiln's global stream outside a step.

Example:
    >>> import numpy as np, kiln
    >>> layer = kiln.layers.Dense(1, kernel_initializer="ones")
    >>> layer.build((None, 2))
    >>> kernel, bias = np.full((2, 1), 2.0, "float32"), np.zeros(1, "float32")
    >>> out, non_trainable = layer.stateless_call([kernel, bias], [], np.ones((1, 2), "float32"))
    >>> float(out[0, 0]), non_trainable, float(layer.kernel.value[0, 0])
    (4.0, [], 1.0)
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import _scope


def _values(kind: str, variables: list, values: Sequence[Any], layer: Any) -> dict:
    values = list(values)
    if len(values) != len(variables):
        raise ValueError(
            f"stateless_call on layer '{layer.name}' expected {len(variables)} {kind} values "
            f"(one per entry of `layer.{kind}_variables`, in that order); received "
            f"{len(values)}. Pass the values in the order of `layer.{kind}_variables`."
        )
    return {var: getattr(val, "value", val) for var, val in zip(variables, values)}


def stateless_call(layer: Any, trainable_variables: Sequence[Any],
                   non_trainable_variables: Sequence[Any], *args: Any,
                   return_losses: bool = False, **kwargs: Any) -> tuple:
    """Calls `layer(*args, **kwargs)` with its variables set to the given values.

    Returns `(outputs, new non-trainable values)`, plus the call's losses (`add_loss` values
    and weight penalties, computed from the given values) with `return_losses=True`. Nothing
    on the layer changes.
    """
    if not (layer.built or layer.weights):
        raise ValueError(
            f"To call stateless_call, layer '{layer.name}' must be built (its variables "
            "created). Call it once on an example input, or `layer.build(input_shape)`, first."
        )
    trainable = layer.trainable_variables
    non_trainable = layer.non_trainable_variables
    bound = _values("trainable", trainable, trainable_variables, layer)
    nt_bound = _values("non_trainable", non_trainable, non_trainable_variables, layer)
    bound.update(nt_bound)
    with _scope.bind(bound, training=kwargs.get("training")) as scope:
        outputs = layer(*args, **kwargs)
        losses = list(layer.losses) if return_losses else None
    new = [scope.writes.get(id(v), val) for v, val in nt_bound.items()]
    return (outputs, new, losses) if return_losses else (outputs, new)
