"""Convolution layers: Conv1D/2D/3D and Conv1D/2D/3DTranspose.

Thin Keras-named shells over the pure functions of `_conv_ops`; the rank (number of spatial
dimensions) is a class attribute, so one class per family holds all the logic. Depthwise and
separable convolutions live in `_conv_separable`.
"""

from __future__ import annotations

from typing import Any

import jax

from .. import activations, initializers, regularizers
from ..constraints import get as get_constraint  # noqa: F401  (used by the conv modules)
from . import _conv_ops as ops
from ._core import _serialize
from ._layer import Layer


def serialize_constraint(constraint: Any) -> Any:
    """A constraint in Keras's format (None for none or for a plain callable)."""
    return _serialize(constraint) if hasattr(constraint, "get_config") else None


def set_geometry(layer: Layer, kernel_size: Any, strides: Any, padding: Any, data_format: Any,
                 dilation_rate: Any, allow_causal: bool = False) -> None:
    """Validates and stores the spatial arguments shared by every convolution layer."""
    rank = layer.rank
    layer.kernel_size = ops.normalize_tuple(kernel_size, rank, "kernel_size")
    layer.strides = ops.normalize_tuple(strides, rank, "strides")
    layer.dilation_rate = ops.normalize_tuple(dilation_rate, rank, "dilation_rate")
    layer.padding = ops.normalize_padding(padding, allow_causal)
    layer.data_format = ops.normalize_data_format(data_format)
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        # Keras rejects this combination too (XLA would accept it, TensorFlow never did).
        raise ValueError(f"{type(layer).__name__}: strides > 1 cannot be combined with "
                         f"dilation_rate > 1; received strides={layer.strides} and "
                         f"dilation_rate={layer.dilation_rate}. Use one or the other.")


def set_bias_and_activation(layer: Layer, activation: Any, use_bias: bool, bias_initializer: Any,
                            bias_regularizer: Any, bias_constraint: Any) -> None:
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.bias_constraint = get_constraint(bias_constraint)


def geometry_config(layer: Layer) -> dict[str, Any]:
    return {"kernel_size": layer.kernel_size, "strides": layer.strides, "padding": layer.padding,
            "data_format": layer.data_format, "dilation_rate": layer.dilation_rate,
            "activation": activations.serialize(layer.activation), "use_bias": layer.use_bias,
            "bias_initializer": _serialize(layer.bias_initializer),
            "bias_regularizer": _serialize(layer.bias_regularizer),
            "activity_regularizer": _serialize(layer.activity_regularizer),
            "bias_constraint": serialize_constraint(layer.bias_constraint)}


def input_channels(layer: Layer, input_shape: Any) -> int:
    """The channel count of `input_shape`, checked against the layer's rank."""
    shape = tuple(input_shape)
    if len(shape) != layer.rank + 2:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' expects inputs of rank {layer.rank + 2} "
            f"(batch, {'spatial, ' * layer.rank}channels); received shape {shape}.")
    channels = shape[ops.channel_axis(layer.data_format)]
    if channels is None:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' needs a known number of input "
                         f"channels; received input shape {shape} ({layer.data_format}).")
    return int(channels)


def check_output_size(layer: Layer, input_shape: Any) -> None:
    """Fails in build (as Keras does) when 'valid' padding leaves no output positions."""
    if layer.padding != "valid":
        return
    axes = ops.spatial_axes(layer.rank, layer.data_format)
    for axis, k, d in zip(axes, layer.kernel_size, layer.dilation_rate):
        size = input_shape[axis]
        if size is not None and size < d * (k - 1) + 1:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': the input is too small for the kernel. "
                f"Input shape {tuple(input_shape)} has {size} positions on axis {axis}, fewer "
                f"than the dilated kernel size {d * (k - 1) + 1}. Use padding='same', a smaller "
                "kernel_size, or larger inputs.")


def add_bias_weight(layer: Layer, size: int) -> None:
    layer.bias = None
    if layer.use_bias:
        layer.bias = layer.add_weight((size,), layer.bias_initializer, name="bias",
                                      regularizer=layer.bias_regularizer,
                                      constraint=layer.bias_constraint)


def finish(layer: Layer, outputs: jax.Array) -> jax.Array:
    """Bias (per channel) then activation, the tail of every convolution layer."""
    if layer.bias is not None:
        outputs = ops.add_bias(outputs, layer.bias.value, layer.data_format)
    return layer.activation(outputs)


class _Conv(Layer):
    """N-d convolution: `activation(conv(inputs, kernel) + bias)`; see Conv1D/Conv2D/Conv3D.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of `rank` ints.
        strides: int or tuple; cannot exceed 1 together with `dilation_rate`.
        padding: 'valid' (no padding), 'same' (output length `ceil(in / stride)`), or for
            Conv1D 'causal' (left padding so `output[t]` sees only `input[:t+1]`).
        data_format: 'channels_last' (default) or 'channels_first'.
        dilation_rate: spacing between kernel taps.
        groups: splits the input channels into groups convolved separately.
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as in Dense.

    The kernel has shape `kernel_size + (in_channels // groups, filters)` (HWIO), as in Keras.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{name}(filters=...) must be a positive int; received {filters!r}.")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}(groups=...) must be a positive int; received {groups!r}.")
        if filters % groups:
            raise ValueError(f"{name}: filters={filters} must be divisible by groups={groups}.")
        self.filters, self.groups = filters, groups
        set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate,
                     allow_causal=self.rank == 1)
        set_bias_and_activation(self, activation, use_bias, bias_initializer, bias_regularizer,
                                bias_constraint)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = get_constraint(kernel_constraint)

    def build(self, input_shape: Any) -> None:
        channels = input_channels(self, input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the {channels} input channels must be "
                f"divisible by groups={self.groups}; received input shape {tuple(input_shape)}.")
        check_output_size(self, input_shape)
        self.kernel = self.add_weight(
            self.kernel_size + (channels // self.groups, self.filters), self.kernel_initializer,
            name="kernel", regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        add_bias_weight(self, self.filters)

    def call(self, inputs: jax.Array) -> jax.Array:
        out = ops.conv(inputs, self.kernel.value, self.strides, self.padding, self.dilation_rate,
                       self.data_format)
        return finish(self, out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, **geometry_config(self),
                "groups": self.groups,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "kernel_constraint": serialize_constraint(self.kernel_constraint)}


class Conv1D(_Conv):
    """1-d convolution over `(batch, steps, channels)`; padding may also be 'causal'.

    Example:
        >>> import jax.numpy as jnp
        >>> Conv1D(4, 3, padding="causal")(jnp.ones((2, 10, 3))).shape
        (2, 10, 4)
    """

    rank = 1


class Conv2D(_Conv):
    """2-d convolution over `(batch, height, width, channels)`; kernel `(kh, kw, in, filters)`.

    Example:
        >>> import jax.numpy as jnp
        >>> Conv2D(8, 3, activation="relu")(jnp.ones((2, 28, 28, 1))).shape
        (2, 26, 26, 8)
    """

    rank = 2


class Conv3D(_Conv):
    """3-d convolution over `(batch, depth, height, width, channels)`."""

    rank = 3


class _ConvTranspose(Layer):
    """Transposed ("de-")convolution: the gradient of a convolution with respect to its input.

    Args:
        filters, kernel_size, strides, padding ('valid' or 'same'), data_format, dilation_rate,
        activation, use_bias, initializers, regularizers, constraints: as in Conv2D.
        output_padding: int or tuple added to the end of each spatial axis; each value must be
            below the stride. None picks Keras's default lengths: `in * stride` for 'same' and
            `(in - 1) * stride + max(kernel, stride)` for 'valid'.

    The kernel has shape `kernel_size + (filters, in_channels)`, as in Keras.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{type(self).__name__}(filters=...) must be a positive int; "
                             f"received {filters!r}.")
        self.filters = filters
        set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = ops.normalize_tuple(output_padding, self.rank,
                                                      "output_padding", allow_zero=True)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{type(self).__name__}: each output_padding value must be "
                                 f"smaller than the stride; received output_padding="
                                 f"{self.output_padding} with strides={self.strides}.")
        set_bias_and_activation(self, activation, use_bias, bias_initializer, bias_regularizer,
                                bias_constraint)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = get_constraint(kernel_constraint)

    def build(self, input_shape: Any) -> None:
        channels = input_channels(self, input_shape)
        self.kernel = self.add_weight(
            self.kernel_size + (self.filters, channels), self.kernel_initializer, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        add_bias_weight(self, self.filters)

    def call(self, inputs: jax.Array) -> jax.Array:
        out = ops.conv_transpose(inputs, self.kernel.value, self.strides, self.padding,
                                 self.output_padding, self.dilation_rate, self.data_format)
        return finish(self, out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, **geometry_config(self),
                "output_padding": self.output_padding,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "kernel_constraint": serialize_constraint(self.kernel_constraint)}


class Conv1DTranspose(_ConvTranspose):
    """1-d transposed convolution over `(batch, steps, channels)`."""

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """2-d transposed convolution; with strides 2 and padding 'same' it doubles height and width.

    Example:
        >>> import jax.numpy as jnp
        >>> Conv2DTranspose(4, 3, strides=2, padding="same")(jnp.ones((1, 5, 5, 2))).shape
        (1, 10, 10, 4)
    """

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """3-d transposed convolution. As in Keras, `data_format` comes before `output_padding`
    among the positional arguments."""

    rank = 3

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, output_padding: Any = None, **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format, **kwargs)
