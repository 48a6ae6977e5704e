"""Pure N-d convolution functions and the argument checks shared by the spatial layers.

One function per operation, parameterised by the number of spatial dimensions (the rank),
so Conv1D/2D/3D, their transposes, the depthwise and separable forms all share one core.
Kernels use Keras's layouts: `spatial... + (in_channels // groups, filters)` for convolution
(HWIO), `spatial... + (filters, in_channels)` for transposed convolution and
`spatial... + (in_channels, depth_multiplier)` for depthwise convolution.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax import lax

from .. import _config

DATA_FORMATS = ("channels_last", "channels_first")


# -- argument checks ----------------------------------------------------------------------------

def normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or a sequence of `n` ints -> a tuple of `n` ints (Keras's `standardize_tuple`).

    Raises:
        ValueError: wrong length, a non-integer entry, or a value below the allowed minimum.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = ()
        if len(values) != n or not all(_is_int(v) for v in values):
            raise ValueError(f"`{name}` must be an int or a tuple of {n} ints; received "
                             f"{name}={value!r}.")
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        raise ValueError(f"`{name}` values must be >= {low}; received {name}={value!r}.")
    return values


def _is_int(v: Any) -> bool:
    return not isinstance(v, bool) and hasattr(v, "__index__")


def normalize_padding(padding: Any, allow_causal: bool = False) -> str:
    """'valid' / 'same' (/ 'causal' for Conv1D), case-insensitive, as Keras accepts them."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"`padding` must be one of {allowed}; received padding={padding!r}.")
    return value


def normalize_data_format(data_format: str | None) -> str:
    """None means `kiln.config.image_data_format()` ('channels_last' unless set), as in Keras."""
    if data_format is None:
        return _config.image_data_format()
    value = str(data_format).lower()
    if value not in DATA_FORMATS:
        raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first'; received "
                         f"data_format={data_format!r}.")
    return value


def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else 1


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The axes of the spatial dimensions of a `(batch, ..., channels)` or `(batch, channels,
    ...)` array."""
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def _dimension_numbers(rank: int, data_format: str) -> lax.ConvDimensionNumbers:
    """Layout for lax: inputs as `data_format`, kernel with its last axis the output features."""
    spatial = spatial_axes(rank, data_format)
    lhs = (0, rank + 1) + spatial if data_format == "channels_last" else (0, 1) + spatial
    rhs = (rank + 1, rank) + tuple(range(rank))
    return lax.ConvDimensionNumbers(lhs_spec=lhs, rhs_spec=rhs, out_spec=lhs)


# -- convolutions --------------------------------------------------------------------------------

def conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str,
         dilation_rate: Sequence[int], data_format: str = "channels_last") -> jax.Array:
    """N-d cross-correlation, as `keras.ops.conv` on the JAX backend.

    Args:
        x: `(batch, *spatial, in_channels)` (channels_last) or `(batch, in_channels, *spatial)`.
        kernel: `(*kernel_size, in_channels // groups, filters)`; the number of groups is
            `in_channels // kernel.shape[-2]`.
        strides, dilation_rate: one int per spatial dimension.
        padding: 'valid', 'same' (XLA's SAME: the extra pad goes after) or 'causal' (1-d only:
            `dilation * (kernel - 1)` zeros before the sequence, then 'valid').

    Returns:
        `(batch, *out_spatial, filters)` (or channels first), where for 'valid'
        `out = (in - dilation * (k - 1) - 1) // stride + 1` and for 'same' `ceil(in / stride)`.
    """
    rank = kernel.ndim - 2
    if padding == "causal":
        left = dilation_rate[0] * (kernel.shape[0] - 1)
        pads = [(0, 0)] * x.ndim
        pads[spatial_axes(rank, data_format)[0]] = (left, 0)
        x, padding = jnp.pad(x, pads), "valid"
    groups = x.shape[channel_axis(data_format)] // kernel.shape[-2]
    # Inputs take the kernel's dtype (uint8 images become floats), as in Keras's ops.conv.
    return lax.conv_general_dilated(
        x.astype(kernel.dtype), kernel, tuple(strides), padding.upper(),
        rhs_dilation=tuple(dilation_rate),
        dimension_numbers=_dimension_numbers(rank, data_format), feature_group_count=groups)


def depthwise_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str,
                   dilation_rate: Sequence[int], data_format: str = "channels_last") -> jax.Array:
    """Each input channel convolved with its own `depth_multiplier` filters.

    Args:
        kernel: `(*kernel_size, in_channels, depth_multiplier)`.

    Returns:
        `in_channels * depth_multiplier` output channels, ordered channel-major (channel c's
        filters are outputs `c*m ... c*m + m - 1`), as in Keras.
    """
    channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    # A grouped convolution with one input channel per group, as Keras's JAX backend does it.
    grouped = kernel.reshape(kernel.shape[:-2] + (1, channels * multiplier))
    rank = kernel.ndim - 2
    return lax.conv_general_dilated(
        x.astype(kernel.dtype), grouped, tuple(strides), padding.upper(),
        rhs_dilation=tuple(dilation_rate),
        dimension_numbers=_dimension_numbers(rank, data_format), feature_group_count=channels)


def separable_conv(x: jax.Array, depthwise_kernel: jax.Array, pointwise_kernel: jax.Array,
                   strides: Sequence[int], padding: str, dilation_rate: Sequence[int],
                   data_format: str = "channels_last") -> jax.Array:
    """A depthwise convolution followed by a 1x1 (pointwise) convolution mixing the channels.

    Args:
        depthwise_kernel: `(*kernel_size, in_channels, depth_multiplier)`.
        pointwise_kernel: `(1, ..., 1, in_channels * depth_multiplier, filters)`.
    """
    rank = depthwise_kernel.ndim - 2
    y = depthwise_conv(x, depthwise_kernel, strides, padding, dilation_rate, data_format)
    return conv(y, pointwise_kernel, (1,) * rank, "valid", (1,) * rank, data_format)


def transpose_padding(kernel_size: int, stride: int, dilation: int, padding: str,
                      output_padding: int | None) -> tuple[int, int]:
    """Keras's (left, right) padding of the dilated input for one axis of a transposed conv.

    The output length is `(in - 1) * stride + max(k, stride)` for 'valid' and `in * stride`
    for 'same' when `output_padding` is None; otherwise `(in - 1) * stride + k - 2 * pad +
    output_padding` with Keras's choice of pad. `k` is the dilated kernel size.
    """
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


def conv_transpose(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str,
                   output_padding: Sequence[int] | None, dilation_rate: Sequence[int],
                   data_format: str = "channels_last") -> jax.Array:
    """The gradient of `conv` with respect to its input ("deconvolution"), as Keras computes it.

    Args:
        kernel: `(*kernel_size, filters, in_channels)` (Keras's transposed layout).
        output_padding: extra length added at the end of each spatial axis, or None.

    Returns:
        `(batch, *out_spatial, filters)` (or channels first); see `transpose_padding`.
    """
    rank = kernel.ndim - 2
    pads = [transpose_padding(kernel.shape[i], strides[i], dilation_rate[i], padding,
                              None if output_padding is None else output_padding[i])
            for i in range(rank)]
    return lax.conv_transpose(
        x.astype(kernel.dtype), kernel, tuple(strides), pads, rhs_dilation=tuple(dilation_rate),
        dimension_numbers=_dimension_numbers(rank, data_format), transpose_kernel=True)


def add_bias(x: jax.Array, bias: jax.Array, data_format: str) -> jax.Array:
    """Adds a per-channel bias along the channel axis."""
    if data_format == "channels_last":
        return x + bias
    return x + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
