"""Name resolution for `kiln.optimizers`: `get`, `serialize`, `deserialize`."""

from __future__ import annotations

from typing import Any

from .. import _registry, _serialization
from .._utils import unknown_name_error
from ._base import Optimizer
from ._extra import Adafactor, Adamax, Ftrl, Lamb, Lion
from ._optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

# Keras's `ALL_OBJECTS` as far as kiln implements it. Lamb is deliberately absent: Keras
# has the class but no "lamb" string.
_BY_NAME = {cls.__name__.lower(): cls for cls in (
    SGD, RMSprop, Adam, AdamW, Adadelta, Adagrad, Adamax, Adafactor, Nadam, Ftrl, Lion)}
_CLASSES = {cls.__name__: cls for cls in (*_BY_NAME.values(), Lamb)}
for _opt_cls in _CLASSES.values():
    _registry.register(_opt_cls, "optimizers")
for _lower, _opt_cls in _BY_NAME.items():
    _registry.register_alias("optimizers", _lower, _opt_cls)
_KERAS_ONLY = ("muon", "schedulefreeadamw", "lossscaleoptimizer", "multioptimizer",
               "optimizermap")


def serialize(optimizer: Optimizer) -> dict:
    """The optimizer as Keras's serialized dict (`module`, `class_name`, `config`)."""
    return _serialization.serialize(optimizer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Rebuilds an optimizer from `serialize`'s dict; the class name is matched
    case-insensitively among the built-in optimizers, then looked up in `custom_objects`."""
    name = config.get("class_name", "")
    if _registry.lookup(name, "optimizers", custom_objects) is None and \
            _registry.lookup(str(name).lower(), "optimizers") is not None:
        config = {**config, "class_name": str(name).lower(), "registered_name": None}
    elif _registry.lookup(name, "optimizers", custom_objects) is None:
        _raise_unknown(name)
    return _serialization.deserialize(config, "optimizers", custom_objects, label="optimizer")


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
