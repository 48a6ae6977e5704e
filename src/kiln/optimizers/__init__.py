"""Keras's optimizers on JAX: the same names, arguments, defaults and update rules.

Each optimizer is a pure, jittable pair `init(params) -> state` and
`apply(grads, params, state) -> (params, state)` (also available as an optax
`GradientTransformation` through `as_optax()`), under Keras's stateful surface
(`apply_gradients`, `learning_rate`, `iterations`, `variables`, `get_config`).

Example:
    >>> import jax.numpy as jnp
    >>> from kiln import optimizers
    >>> opt = optimizers.get("adam")
    >>> params = {"w": jnp.ones(3)}
    >>> state = opt.init(params)
    >>> params, state = opt.apply({"w": jnp.ones(3)}, params, state)
    >>> int(state.iterations)
    1
"""

from __future__ import annotations

from typing import Any

from .._utils import unknown_name_error
from . import schedules
from ._base import Optimizer
from ._extra import Adafactor, Adamax, Ftrl, Lamb, Lion
from ._optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop
from ._state import OptState

# Keras's `ALL_OBJECTS` as far as kiln implements it. Lamb is deliberately absent: Keras
# has the class but no "lamb" string.
_BY_NAME = {cls.__name__.lower(): cls for cls in (
    SGD, RMSprop, Adam, AdamW, Adadelta, Adagrad, Adamax, Adafactor, Nadam, Ftrl, Lion)}
_CLASSES = {cls.__name__: cls for cls in (*_BY_NAME.values(), Lamb)}
_KERAS_ONLY = ("muon", "schedulefreeadamw", "lossscaleoptimizer", "multioptimizer",
               "optimizermap")


def serialize(optimizer: Optimizer) -> dict:
    """The optimizer as Keras's serialized dict (`module`, `class_name`, `config`)."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Rebuilds an optimizer from `serialize`'s dict; the class name is matched
    case-insensitively among the built-in optimizers, then looked up in `custom_objects`."""
    name = config.get("class_name", "")
    custom = custom_objects or {}
    cls = custom.get(name) or _CLASSES.get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        _raise_unknown(name)
    return cls.from_config(dict(config.get("config", {})), custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """Resolves an optimizer identifier as Keras's `keras.optimizers.get`.

    Args:
        identifier: a name ("adam", "Adam", "RMSprop", "sgd": case-insensitive), a config
            dict (`{"class_name": ..., "config": {...}}`), an `Optimizer` (returned as is),
            or None (returns None).

    Returns:
        An `Optimizer` instance with Keras's defaults for a name.

    Raises:
        ValueError: for an unknown name (with the closest valid names) or another type.
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            _raise_unknown(identifier)
        return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Pass an "
                     "optimizer name such as 'adam', a config dict, or an Optimizer instance.")


def _raise_unknown(name: Any) -> None:
    if str(name).lower() in _KERAS_ONLY:
        raise ValueError(f"Optimizer {name!r} exists in Keras but is not implemented in kiln. "
                         f"Available: {', '.join(sorted(_BY_NAME))}.")
    raise unknown_name_error("optimizer", name, _BY_NAME)


__all__ = ["Optimizer", "OptState", "SGD", "RMSprop", "Adam", "AdamW", "Adadelta", "Adagrad",
           "Nadam", "Adamax", "Lion", "Ftrl", "Lamb", "Adafactor", "get", "serialize",
           "deserialize", "schedules"]
