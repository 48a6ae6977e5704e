"""`EinsumDense`: a dense layer whose contraction is any einsum equation (Keras 3's)."""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp

from .. import activations, constraints, initializers, regularizers
from ._core import _serialize
from ._layer import Layer

_FORMS = (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False))


def _split(equation: str) -> tuple[str, str, str, bool]:
    text = equation.replace("...", "0")
    for pattern, left in _FORMS:
        match = re.match(pattern, text)
        if match:
            return match.group(1), match.group(2), match.group(3), left
    raise ValueError(f"Invalid einsum equation '{equation}': expected the form [X],[Y]->[Z], "
                     "...[X],[Y]->...[Z] or [X]...,[Y]->[Z]...; fix the equation string.")


def _full_output_shape(in_spec: str, left: bool, input_shape: tuple, partial: tuple) -> list:
    elided = len(input_shape) - len(in_spec)
    out = [input_shape[0]] + list(partial)
    if elided > 0 and left:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        out.extend(input_shape[len(input_shape) - elided:])
    return out


def analyze_einsum(equation: str, bias_axes: str | None, input_shape: tuple,
                   partial: tuple) -> tuple[list, list | None, list]:
    """Kernel shape, bias shape (or None) and full output shape, as Keras derives them."""
    in_spec, w_spec, out_spec, left = _split(equation)
    elided = len(input_shape) - len(in_spec)
    out_shape = _full_output_shape(in_spec, left, input_shape, partial)
    if left:
        in_map = {d: i + elided - len(input_shape) for i, d in enumerate(in_spec)}
        out_map = {d: i + elided for i, d in enumerate(out_spec)}
    else:
        in_map = {d: i for i, d in enumerate(in_spec)}
        out_map = {d: i for i, d in enumerate(out_spec)}
    for d in in_spec:
        if d in out_map and out_shape[out_map[d]] not in (None, input_shape[in_map[d]]):
            raise ValueError(f"EinsumDense: input and output shapes differ at shared dimension "
                             f"'{d}': input {input_shape[in_map[d]]}, output "
                             f"{out_shape[out_map[d]]}. Fix output_shape.")
    kernel = []
    for d in w_spec:
        if d in out_map:
            kernel.append(out_shape[out_map[d]])
        elif d in in_map:
            kernel.append(input_shape[in_map[d]])
        else:
            raise ValueError(f"EinsumDense: weight dimension '{d}' is in neither the input spec "
                             f"'{in_spec}' nor the output spec '{out_spec}'; every weight axis "
                             "must appear in one of them.")
    return kernel, _bias_shape(bias_axes, out_spec, out_shape, elided, left), out_shape


def _bias_shape(bias_axes: str | None, out_spec: str, out_shape: list, elided: int,
                left: bool) -> list | None:
    if bias_axes is None:
        return None
    offset = elided if left else 0
    sizes = {c: out_shape[i + offset] for i, c in enumerate(out_spec)}
    for c in bias_axes:
        if c not in out_spec:
            raise ValueError(f"EinsumDense: bias axis '{c}' is not in the output spec "
                             f"'{out_spec}'; bias_axes must name output axes.")
    first = min(out_spec.find(c) for c in bias_axes)
    shape = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
    if not left:
        shape += [1] * max(elided, 0)
    return shape


class EinsumDense(Layer):
    """A dense layer computing `activation(einsum(equation, inputs, kernel) + bias)`.

    Args:
        equation: e.g. `"ab,bc->ac"` or `"...b,bc->...c"`; the input comes first.
        output_shape: the output shape without the batch (and elided) axes; an int for one.
        activation: name or function; None means linear.
        bias_axes: output axis letters that get a bias (None: no bias).
        kernel_initializer / bias_initializer / *_regularizer / *_constraint: as in `Dense`.

    Example:
        >>> layer = EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")
        >>> layer(jnp.ones((2, 3))).shape, layer.kernel.shape, layer.bias.shape
        ((2, 4), (3, 4), (4,))
    """

    def __init__(self, equation: str, output_shape: Any, activation: Any = None,
                 bias_axes: str | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        for key in ("lora_rank", "lora_alpha", "gptq_unpacked_column_size", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"EinsumDense({key}=...) is not supported by kiln; leave it None.")
        super().__init__(**kwargs)
        _split(equation)
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Any) -> None:
        kernel, bias, out = analyze_einsum(self.equation, self.bias_axes, tuple(input_shape),
                                           self.partial_output_shape)
        self.full_output_shape = tuple(out)
        self.kernel = self.add_weight(tuple(kernel), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if bias is not None:
            self.bias = self.add_weight(tuple(bias), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs: jax.Array) -> jax.Array:
        x = jnp.einsum(self.equation, inputs, self.kernel.value)
        if self.bias is not None:
            x = x + self.bias.value
        return self.activation(x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_shape": list(self.partial_output_shape),
                "equation": self.equation, "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer),
                "kernel_constraint": _serialize(self.kernel_constraint),
                "bias_constraint": _serialize(self.bias_constraint)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "EinsumDense":
        config = dict(config)
        config.pop("activity_regularizer", None)
        for key in ("kernel_initializer", "bias_initializer"):
            config[key] = initializers.get(config.get(key))
        for key in ("kernel_regularizer", "bias_regularizer"):
            config[key] = regularizers.get(config.get(key))
        for key in ("kernel_constraint", "bias_constraint"):
            config[key] = constraints.get(config.get(key))
        return cls(**config)
