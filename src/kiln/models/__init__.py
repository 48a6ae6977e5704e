"""Models: `Model` (functional or subclassed) and `Sequential`, and whole-model helpers.

Example:
    >>> import kiln
    >>> model = Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    >>> isinstance(model, Model), [type(layer).__name__ for layer in model.layers]
    (True, ['Dense'])
"""

import json
from typing import Any

from .. import _serialization
from ..saving import load_model as load_model
from ..saving import save_model as save_model
from ._clone import clone_model as clone_model
from ._model import Model as Model
from ._sequential import Sequential as Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json",
           "save_model"]


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuilds a model (with fresh weights) from `Model.to_json()`'s string.

    Example:
        >>> import kiln
        >>> model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
        >>> type(model_from_json(model.to_json())).__name__
        'Sequential'
    """
    return _serialization.deserialize(json.loads(json_string), "models", custom_objects)
