"""Models: `Model` (functional or subclassed) and `Sequential`, and whole-model helpers.

Example:
    >>> import kiln
    >>> model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    >>> clone = clone_model(model)
    >>> clone.layers[0].units, clone.layers[0].kernel is model.layers[0].kernel
    (2, False)
"""

import json
from typing import Any

from .. import _serialization
from ..saving import load_model as load_model
from ..saving import save_model as save_model
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


def clone_model(model: Any, input_tensors: Any = None, clone_function: Any = None,
                **kwargs: Any) -> Any:
    """A new model with the same architecture and freshly initialized weights, as Keras.

    Args:
        model: a Sequential or functional model.
        input_tensors: new `kiln.Input` tensors to call the clone on (functional models).
        clone_function: `layer -> new layer`, applied to each layer instead of rebuilding it
            from its config (Sequential models, or functional models with `input_tensors`).
    """
    clone = _clone(model, input_tensors, clone_function)
    if getattr(model, "compiled", False):  # Keras compiles the clone the same way
        clone.compile_from_config(model.get_compile_config())
    return clone


def _clone(model: Any, input_tensors: Any, clone_function: Any) -> Any:
    if clone_function is None and input_tensors is None:
        return _serialization.deserialize(_serialization.serialize(model), "models")
    fn = clone_function or (lambda layer: type(layer).from_config(layer.get_config()))
    if isinstance(model, Sequential):
        layers = [fn(layer) for layer in model.layers]
        if model._input_layer is not None:
            return Sequential([model._input_layer.__class__.from_config(
                model._input_layer.get_config())] + layers, name=model.name)
        return Sequential(layers, name=model.name)
    raise ValueError("clone_model with clone_function or input_tensors supports Sequential "
                     f"models; received {type(model).__name__}. Clone a functional model "
                     "without them (it is rebuilt from its config).")
