"""Depthwise and separable convolutions: DepthwiseConv1D/2D and SeparableConv1D/2D."""

from __future__ import annotations

from typing import Any

import jax

from .. import initializers, regularizers
from . import _conv_ops as ops
from ._conv import (add_bias_weight, check_output_size, finish, geometry_config, get_constraint,
                    input_channels, serialize_constraint, set_bias_and_activation, set_geometry)
from ._core import _serialize
from ._layer import Layer


def _check_multiplier(layer: Layer, depth_multiplier: Any) -> int:
    if (isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, int)
            or depth_multiplier <= 0):
        raise ValueError(f"{type(layer).__name__}(depth_multiplier=...) must be a positive int; "
                         f"received {depth_multiplier!r}.")
    return depth_multiplier


class _DepthwiseConv(Layer):
    """Convolves each input channel with its own `depth_multiplier` filters (no mixing).

    Args:
        kernel_size, strides, padding ('valid'/'same'), data_format, dilation_rate, activation,
        use_bias: as in Conv2D.
        depth_multiplier: filters per input channel; outputs `in_channels * depth_multiplier`
            channels.
        depthwise_initializer / depthwise_regularizer / depthwise_constraint: for the kernel of
            shape `kernel_size + (in_channels, depth_multiplier)`.
    """

    rank = 2

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = _check_multiplier(self, depth_multiplier)
        set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        set_bias_and_activation(self, activation, use_bias, bias_initializer, bias_regularizer,
                                bias_constraint)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = get_constraint(depthwise_constraint)

    def build(self, input_shape: Any) -> None:
        channels = input_channels(self, input_shape)
        check_output_size(self, input_shape)
        # Keras names this weight "kernel" (the separable layer's is "depthwise_kernel").
        self.kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            name="kernel", regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        add_bias_weight(self, channels * self.depth_multiplier)

    def call(self, inputs: jax.Array) -> jax.Array:
        out = ops.depthwise_conv(inputs, self.kernel.value, self.strides, self.padding,
                                 self.dilation_rate, self.data_format)
        return finish(self, out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **geometry_config(self),
                "depthwise_initializer": _serialize(self.depthwise_initializer),
                "depthwise_regularizer": _serialize(self.depthwise_regularizer),
                "depthwise_constraint": serialize_constraint(self.depthwise_constraint)}


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-d convolution over `(batch, steps, channels)`."""

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-d convolution.

    Example:
        >>> import jax.numpy as jnp
        >>> DepthwiseConv2D(3, depth_multiplier=2)(jnp.ones((1, 8, 8, 3))).shape
        (1, 6, 6, 6)
    """

    rank = 2


class _SeparableConv(Layer):
    """A depthwise convolution, then a pointwise (1x1) convolution to `filters` channels.

    Args:
        filters: output channels of the pointwise step.
        kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias: as in DepthwiseConv2D / Conv2D.
        depthwise_* / pointwise_* / bias_*: initializers, regularizers and constraints of the
            `depthwise_kernel` `kernel_size + (in, depth_multiplier)`, the `pointwise_kernel`
            `(1,)*rank + (in * depth_multiplier, filters)` and the bias, created in that order.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{type(self).__name__}(filters=...) must be a positive int; "
                             f"received {filters!r}.")
        self.filters = filters
        self.depth_multiplier = _check_multiplier(self, depth_multiplier)
        set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        set_bias_and_activation(self, activation, use_bias, bias_initializer, bias_regularizer,
                                bias_constraint)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = get_constraint(depthwise_constraint)
        self.pointwise_constraint = get_constraint(pointwise_constraint)

    def build(self, input_shape: Any) -> None:
        channels = input_channels(self, input_shape)
        check_output_size(self, input_shape)
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            name="depthwise_kernel", regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, name="pointwise_kernel",
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        add_bias_weight(self, self.filters)

    def call(self, inputs: jax.Array) -> jax.Array:
        out = ops.separable_conv(inputs, self.depthwise_kernel.value, self.pointwise_kernel.value,
                                 self.strides, self.padding, self.dilation_rate, self.data_format)
        return finish(self, out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "filters": self.filters, **geometry_config(self),
                "depthwise_initializer": _serialize(self.depthwise_initializer),
                "pointwise_initializer": _serialize(self.pointwise_initializer),
                "depthwise_regularizer": _serialize(self.depthwise_regularizer),
                "pointwise_regularizer": _serialize(self.pointwise_regularizer),
                "depthwise_constraint": serialize_constraint(self.depthwise_constraint),
                "pointwise_constraint": serialize_constraint(self.pointwise_constraint)}


class SeparableConv1D(_SeparableConv):
    """Separable 1-d convolution over `(batch, steps, channels)`."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Separable 2-d convolution: fewer weights than Conv2D for the same receptive field.

    Example:
        >>> import jax.numpy as jnp
        >>> SeparableConv2D(8, 3, padding="same")(jnp.ones((1, 6, 6, 3))).shape
        (1, 6, 6, 8)
    """

    rank = 2
