"""Name resolution for `kiln.losses`: `get`, `names`, `serialize`, `deserialize`."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ._base import Loss, LossFunctionWrapper
from ._functions import FUNCTIONS
from ._classes import (
    LOSS_CLASSES,
)
from ._crossentropy import (
    binary_crossentropy,
    kl_divergence,
)
from ._regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from .. import _registry, _serialization

_FUNCTIONS: dict[str, Callable] = FUNCTIONS
_CLASSES: dict[str, type] = {cls.__name__: cls for cls in LOSS_CLASSES}
# Keras's only string aliases; note "huber_loss", "logcosh" and "kullback_leibler_divergence"
# are NOT accepted by Keras 3's `get` (legacy exports only), so kiln rejects them too.
_ALIASES: dict[str, Callable] = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
}
# Registered in the one registry (nothing is imported by a name read from a config).
for _obj in (*_FUNCTIONS.values(), *_CLASSES.values(), Loss, LossFunctionWrapper):
    _registry.register(_obj, "losses")
for _alias, _fn in _ALIASES.items():
    _registry.register_alias("losses", _alias, _fn)


def names() -> list[str]:
    """Every string `get` accepts as a loss: function names, class names and aliases, sorted."""
    return sorted({**_FUNCTIONS, **_CLASSES, **_ALIASES})


def _lookup(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    return _serialization.deserialize(name, "losses", custom_objects, label="loss")


def get(identifier: Any) -> Any:
    """Resolves a loss identifier as Keras's `keras.losses.get` does.

    Args:
        identifier: None; a name (exact, case-sensitive): a function name or alias gives the
            function, a class name gives an instance with default arguments; a config dict (as
            from `serialize`); a `Loss` class (instantiated); a `Loss` instance or any callable
            `fn(y_true, y_pred)` (returned as is).

    Returns:
        A loss function, a `Loss` instance, or None.

    Raises:
        ValueError: for an unknown name (listing the closest valid names) or an identifier that
            is neither a string, a dict nor callable.

    Example:
        >>> get("mse") is mean_squared_error, type(get("MeanSquaredError")).__name__
        (True, 'MeanSquaredError')
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _lookup(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret loss identifier {identifier!r} (type {type(identifier).__name__}). "
        "Expected a loss name such as 'mse' or 'categorical_crossentropy', a kiln.losses.Loss "
        "instance, a function fn(y_true, y_pred) returning per-sample losses, or a config dict."
    )


def serialize(loss: Any) -> Any:
    """A JSON-serialisable description of a loss, in Keras's format.

    Args:
        loss: a `Loss` instance, a loss function, or a name (returned as is).

    Returns:
        `{"module", "class_name", "config", "registered_name"}` for instances and functions.
    """
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Loss) or inspect.isfunction(loss):
        return _serialization.serialize(loss)
    raise ValueError(f"Cannot serialize loss {loss!r} of type {type(loss).__name__}: expected a "
                     "kiln.losses.Loss instance or a loss function.")


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuilds a loss from `serialize`'s output (or a name).

    Args:
        config: a name, or a dict with `class_name` and `config` (Keras's format; a function is
            `{"class_name": "function", "config": "<name>"}`).
        custom_objects: extra name -> class or function mappings, for user-defined losses.

    Returns:
        A `Loss` instance or a loss function.
    """
    if not isinstance(config, (str, dict)) or (isinstance(config, dict)
                                               and "class_name" not in config):
        raise ValueError(f"Cannot deserialize loss from {config!r}: expected a name or a dict "
                         "with 'class_name' and 'config' keys, as produced by serialize().")
    return _serialization.deserialize(config, "losses", custom_objects, label="loss")
