"""`Sequential`: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from typing import Any, Sequence

import jax

from .. import _registry, _serialization
from ..layers._core import InputLayer
from ..layers._layer import Layer
from ..layers._symbolic import KerasTensor
from .. import _scope
from ._model import Model


class Sequential(Model):
    """A linear stack of layers.

    The input shape comes from a first `kiln.Input(shape)`, from the first layer's legacy
    `input_shape=` / `input_dim=` argument, or from the first batch the model sees.

    Args:
        layers: the layers, in order (optional; add more with `add`).
        trainable: whether the weights are trained.
        name: the model's name.

    Example:
        >>> import kiln
        >>> model = kiln.Sequential([kiln.Input((4,)), kiln.layers.Dense(2)])
        >>> model.output_shape
        (None, 2)
    """

    def __init__(self, layers: Sequence[Any] | None = None, trainable: bool = True,
                 name: str | None = None):
        super().__init__(name=name, trainable=trainable)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self.built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._build_if_shape_known()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Appends a layer (or a `kiln.Input(...)` tensor as the first entry)."""
        if isinstance(layer, KerasTensor):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a kiln layer; received {layer!r}.")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError("An Input can only be the first entry of a Sequential model.")
            self._input_layer = layer
            return
        if layer.name in {l.name for l in self._layers}:
            raise ValueError(f"All layers in a Sequential model need unique names; "
                             f"'{layer.name}' is already used.")
        if not self._layers and self._input_layer is None:
            # the first layer's input shape: given to it, or a built model's (a frozen base)
            shape = layer._batch_input_shape or _model_input_shape(layer)
            if shape is not None:
                self._input_layer = InputLayer(batch_shape=shape)
        self._layers.append(layer)
        self.built = False
        if rebuild:
            self._build_if_shape_known()

    def pop(self) -> Layer:
        """Removes and returns the last layer."""
        layer = self._layers.pop()
        self.built = False
        self._build_if_shape_known()
        return layer

    @property
    def layers(self) -> list[Layer]:
        # Keras does not list the InputLayer of a Sequential model.
        return list(self._layers)

    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def input_shape(self) -> tuple | None:
        return self._input_layer.batch_shape if self._input_layer else None

    @property
    def output_shape(self) -> Any:
        return self.output_shape_info

    def _build_if_shape_known(self) -> None:
        if self._input_layer is not None and self._layers:
            self.build(self._input_layer.batch_shape)

    def build(self, input_shape: Any = None) -> None:
        """Builds every layer from `input_shape` (batch dimension included, may be None)."""
        if input_shape is None or not self._layers:
            return
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
        # The layers are called on the input layer's own tensor and keep their nodes, as
        # Keras's Sequential builds its graph: `layer.output`, `model.inputs` / `outputs`
        # then serve feature extractors (`Model(seq.inputs, seq.get_layer(n).output)`).
        first = self._input_layer.output
        same = tuple(first.shape) == tuple(input_shape)
        x: Any = first if same else KerasTensor(tuple(input_shape), self._input_layer.dtype)
        with _scope.name_scope(self.name):
            for layer in self._layers:
                x = layer(x)
        self._graph_io = (first, x) if same else None
        self.output_shape_info = jax.tree_util.tree_map(
            lambda t: t.shape, x, is_leaf=lambda t: isinstance(t, KerasTensor))
        self.built = True

    @property
    def inputs(self) -> Any:
        """`[the input tensor]` once built from a known input shape (else None)."""
        io = self.__dict__.get("_graph_io")
        return [io[0]] if io else None

    @property
    def outputs(self) -> Any:
        """`[the last layer's symbolic output]` once built (else None)."""
        io = self.__dict__.get("_graph_io")
        return [io[1]] if io else None

    @property
    def input(self) -> Any:
        """The input tensor (Keras's `model.input` of a built Sequential)."""
        return self._graph_tensor(0, "input")

    @property
    def output(self) -> Any:
        """The last layer's symbolic output (Keras's `model.output` of a built Sequential)."""
        return self._graph_tensor(1, "output")

    def _graph_tensor(self, index: int, what: str) -> Any:
        io = self.__dict__.get("_graph_io")
        if not io:
            raise AttributeError(f"Sequential model '{self.name}' has no {what} yet: it is "
                                 "built once its input shape is known. Fix: start it with "
                                 "kiln.Input(shape=...), or call it on data first.")
        return io[index]

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            shape = (None,) + tuple(input_shape[1:]) if isinstance(input_shape, tuple) else input_shape
            self.build(shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x, mask = inputs, None
        for layer in self._layers:
            out = layer(x, training=training, mask=mask)
            mask = layer.compute_mask(x, mask)
            x = out
        return x

    @property
    def output_names(self) -> list[str]:
        return [self._layers[-1].name] if self._layers else []

    @property
    def input_names(self) -> list[str]:
        return [self._input_layer.name] if self._input_layer else []

    def get_config(self) -> dict[str, Any]:
        """Keras's format: name, trainable, dtype, the serialized layers (the InputLayer first
        when there is one) and `build_input_shape`."""
        layers = [self._input_layer] if self._input_layer is not None else []
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                  "layers": [_serialization.serialize(l) for l in layers + self._layers]}
        if self.input_shape is not None:
            config["build_input_shape"] = list(self.input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> "Sequential":
        """Rebuilds a Sequential model from `get_config()` (kiln's or Keras's).

        Example:
            >>> import kiln
            >>> model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
            >>> kiln.Sequential.from_config(model.get_config()).output_shape
            (None, 2)
        """
        layers = _serialization.deserialize(list(config.get("layers", [])), "layers",
                                            custom_objects, label="layer")
        model = cls(layers, trainable=config.get("trainable", True), name=config.get("name"))
        shape = config.get("build_input_shape")
        if not model.built and shape is not None and model._layers:
            model.build(tuple(shape))
        return model


_registry.register(Sequential, "models")
_registry.register(Model, "models", "Functional")


def _model_input_shape(layer: Any) -> tuple | None:
    """The batch input shape of a model with one known input (else None)."""
    inputs = getattr(layer, "inputs", None) if getattr(layer, "built", False) else None
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    return tuple(inputs.shape) if isinstance(inputs, KerasTensor) else None
