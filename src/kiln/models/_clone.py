"""`clone_model`: a model of the same architecture with fresh weights, as Keras clones it.

Each layer is rebuilt by its own class's `from_config` (so a custom layer needs no
registration) or by the caller's `clone_function`; a functional graph is re-run on fresh
inputs (or on `input_tensors`); a subclassed model is rebuilt from its config.

Example:
    >>> import kiln
    >>> model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    >>> clone = clone_model(model)
    >>> clone.layers[0].units, clone.layers[0].kernel is model.layers[0].kernel
    (2, False)
"""

from __future__ import annotations

from typing import Any

from .. import _serialization
from ._functional import _is_functional, _leaves, functional_from_config
from ._model import Model
from ._sequential import Sequential


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


def _fresh_layer(layer: Any) -> Any:
    """Keras's default clone of one layer: its own class rebuilt from its config (so a custom
    layer needs no registration)."""
    return type(layer).from_config(layer.get_config())


def _clone(model: Any, input_tensors: Any, clone_function: Any) -> Any:
    fn = clone_function or _fresh_layer
    if isinstance(model, Sequential):
        layers = [fn(layer) for layer in model.layers]
        if model._input_layer is not None:
            return Sequential([_fresh_layer(model._input_layer)] + layers, name=model.name)
        return Sequential(layers, name=model.name)
    if _is_functional(model) and (clone_function is not None or input_tensors is not None
                                  or type(model).get_config is Model.get_config):
        return _clone_functional(model, fn, input_tensors)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            f"clone_model(clone_function=..., input_tensors=...) rebuilds a Sequential or "
            f"functional graph; received a subclassed {type(model).__name__}, whose layers are "
            "made by its own __init__. Fix: call clone_model(model) without them (the model "
            "is rebuilt from its get_config()), or construct a new instance yourself.")
    return _serialization.deserialize(_serialization.serialize(model), "models",
                                      {type(model).__name__: type(model)})


def _clone_functional(model: Any, fn: Any, input_tensors: Any) -> Any:
    """Rebuilds the graph of `model` from its config, each layer made by `fn(layer)` (input
    layers recreated, or taken from `input_tensors`), as Keras's `_clone_functional_model`."""
    by_name = {layer.name: layer for layer in model.layers}
    given = {}
    if input_tensors is not None:
        old, new = model.inputs, _leaves(input_tensors)
        if len(old) != len(new):
            raise ValueError(f"`input_tensors` must match the model's {len(old)} input(s); "
                             f"received {len(new)}.")
        given = {t.node.layer.name: n.node.layer for t, n in zip(old, new)}

    def make(data: dict) -> Any:
        layer = by_name[data["name"]]
        if data["name"] in given:
            return given[data["name"]]
        # An InputLayer is always made afresh, as Keras.
        return _fresh_layer(layer) if hasattr(layer, "batch_shape") else fn(layer)

    return functional_from_config(type(model), model.get_config(), make_layer=make)
