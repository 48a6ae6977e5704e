"""Core layers: Input, Dense, Activation, Flatten, Reshape, Dropout."""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp

from .. import _serialization, activations, constraints, initializers, regularizers
from .. import _config
from .. import _scope
from .._naming import unique_name
from ._layer import Layer
from ._symbolic import KerasTensor, Node


def _serialize(obj: Any) -> Any:
    """A layer argument (initializer, regularizer, constraint, sub-layer) in Keras's format,
    through the one `kiln._serialization.serialize`; a plain callable is kept as is."""
    if obj is None or not hasattr(obj, "get_config"):
        return obj
    return _serialization.serialize(obj)


def _deserialize_layer(entry: Any) -> Any:
    """A nested layer config (Bidirectional's layers, an RNN's cell) -> a layer."""
    if isinstance(entry, Layer):
        return entry
    return _serialization.deserialize(entry, "layers", label="layer")


class InputLayer(Layer):
    """The entry point of a functional model; produces the model's input KerasTensor.

    Args:
        shape: input shape without the batch dimension, e.g. `(784,)`.
        batch_size: optional fixed batch size.
        dtype: input dtype (floatx by default).
        batch_shape: full shape including the batch dimension (instead of shape/batch_size).
        name: the input's name (used as the key of dict inputs).
    """

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 dtype: Any = None, batch_shape: Sequence[int | None] | None = None,
                 name: str | None = None, **kwargs: Any):
        kwargs.pop("sparse", None)
        kwargs.pop("ragged", None)
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input needs a shape: pass shape=(features,) (without the batch "
                                 "dimension) or batch_shape=(batch, features).")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        self.batch_shape = tuple(batch_shape)
        self.built = True
        tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name)
        node = Node(self, (), {}, tensor)  # `self.output` (Layer's property) reads it back
        tensor.node = node
        self._inbound_nodes.append(node)
        self.output_shape_info = self.batch_shape

    def call(self, inputs: Any) -> Any:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape: Sequence[int | None] | None = None, batch_size: int | None = None,
          dtype: Any = None, batch_shape: Sequence[int | None] | None = None,
          name: str | None = None, **kwargs: Any) -> KerasTensor:
    """A symbolic input for a functional model (or the first entry of a Sequential).

    Example:
        >>> x = Input((8,), name="a")
        >>> x.shape
        (None, 8)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name, **kwargs)
    return layer.output


class Dense(Layer):
    """A fully connected layer: `activation(inputs @ kernel + bias)`.

    Args:
        units: output width.
        activation: name or function; None means linear.
        use_bias: whether to add a bias.
        kernel_initializer / bias_initializer: Keras's defaults glorot_uniform / zeros.
        kernel_regularizer / bias_regularizer: penalties added to the training loss.
        kernel_constraint / bias_constraint: applied after each update.

    Input shape: `(..., input_dim)`. Output shape: `(..., units)`. The kernel is stored as
    `(input_dim, units)`, as in Keras.
    """

    supports_masking = True  # the mask passes through, as in Keras

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense(units=...) must be a positive int; received {units!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Any) -> None:
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Dense layer '{self.name}' needs a known last input dimension; "
                             f"received input shape {tuple(input_shape)}.")
        self.kernel = self.add_weight((in_dim, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs: jax.Array) -> jax.Array:
        x = jnp.matmul(inputs, self.kernel.value)
        if self.bias is not None:
            x = x + self.bias.value
        return self.activation(x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer),
                "kernel_constraint": _serialize(self.kernel_constraint),
                "bias_constraint": _serialize(self.bias_constraint)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Dense":
        config = dict(config)
        for key in ("kernel_initializer", "bias_initializer"):
            config[key] = initializers.get(config.get(key))
        for key in ("kernel_regularizer", "bias_regularizer"):
            config[key] = regularizers.get(config.get(key))
        for key in ("kernel_constraint", "bias_constraint"):
            config[key] = constraints.get(config.get(key))
        return cls(**config)


class Activation(Layer):
    """Applies an activation function: `Activation("relu")`."""

    supports_masking = True  # the mask passes through, as in Keras

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: jax.Array) -> jax.Array:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Flatten(Layer):
    """Flattens all but the batch dimension: `(N, a, b) -> (N, a*b)`."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = data_format or _config.image_data_format()

    def call(self, inputs: jax.Array) -> jax.Array:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = jnp.moveaxis(inputs, 1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes all but the batch dimension to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape target_shape may contain at most one -1; received "
                             f"{self.target_shape}.")

    def build(self, input_shape: Any) -> None:
        size = math.prod(d for d in input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 not in self.target_shape and known != size) or (size % known):
            raise ValueError(f"Reshape cannot turn inputs of shape {tuple(input_shape[1:])} "
                             f"({size} values per sample) into {self.target_shape}.")

    def call(self, inputs: jax.Array) -> jax.Array:
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Inverted dropout: in training, zeroes a fraction `rate` of inputs and scales the rest
    by `1/(1-rate)`; at inference, the identity.

    Args:
        rate: fraction of the inputs to drop, in [0, 1).
        noise_shape: shape of the keep mask (broadcast against the inputs); None = inputs' shape.
        seed: makes the masks reproducible.
    """

    supports_masking = True  # the mask passes through, as in Keras

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1); received {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        if not training or self.rate == 0.0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = jax.random.bernoulli(_scope.next_rng_key(self.seed), 1.0 - self.rate, shape)
        return jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros_like(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}
