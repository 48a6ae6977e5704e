"""Pooling layers: Max/AveragePooling1D/2D/3D and GlobalMax/GlobalAveragePooling1D/2D/3D.

One pure function (`pool`) and one class per family, parameterised by the rank.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _config
from . import _conv_ops as ops
from ._layer import Layer


def _window(values: Sequence[int], rank: int, data_format: str) -> tuple[int, ...]:
    """Spatial values -> one per axis, 1 on the batch and channel axes."""
    full = [1] * (rank + 2)
    for axis, v in zip(ops.spatial_axes(rank, data_format), values):
        full[axis] = v
    return tuple(full)


def pool(x: jax.Array, pool_size: Sequence[int], strides: Sequence[int], padding: str,
         data_format: str = "channels_last", mode: str = "max") -> jax.Array:
    """Max or average over sliding windows of the spatial axes.

    Args:
        x: `(batch, *spatial, channels)` or `(batch, channels, *spatial)`.
        pool_size, strides: one int per spatial axis.
        padding: 'valid' or 'same' (XLA's SAME: output length `ceil(in / stride)`).
        mode: 'max' or 'average'. With 'same' padding, an average divides by the number of
            real (unpadded) inputs in each window, as Keras's JAX backend does.

    Returns:
        The pooled array, same layout as `x`.
    """
    rank = x.ndim - 2
    window = _window(pool_size, rank, data_format)
    step = _window(strides, rank, data_format)
    pad = padding.upper()
    # Concrete (NumPy / Python) init values let JAX recognise the max/sum monoids, which it
    # can differentiate; a jax.Array init value becomes a tracer under jit and cannot be.
    if mode == "max":
        floating = jnp.issubdtype(x.dtype, jnp.floating)
        init = np.array(-np.inf if floating else jnp.iinfo(x.dtype).min, dtype=x.dtype)
        return lax.reduce_window(x, init, lax.max, window, step, pad)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(_config.floatx())
    total = lax.reduce_window(x, 0.0, lax.add, window, step, pad)
    if padding == "valid":
        return total / math.prod(pool_size)
    # Count the real inputs under each window: pool a tensor of ones padded the same way.
    ones_shape = tuple(d if w != 1 else 1 for d, w in zip(x.shape, window))
    counts = lax.reduce_window(jnp.ones(ones_shape, x.dtype), 0.0, lax.add, window, step, pad)
    return total / counts


class _Pooling(Layer):
    """Sliding-window pooling over the spatial axes.

    Args:
        pool_size: int or tuple of `rank` ints, the window size.
        strides: int or tuple; None means `pool_size` (non-overlapping windows).
        padding: 'valid' or 'same' (case-insensitive).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 2
    mode = "max"

    def __init__(self, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.pool_size = ops.normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = ops.normalize_tuple(pool_size if strides is None else strides,
                                           self.rank, "strides")
        self.padding = ops.normalize_padding(padding)
        self.data_format = ops.normalize_data_format(data_format)

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 2} "
                f"(batch, {'spatial, ' * self.rank}channels); received shape "
                f"{tuple(input_shape)}.")

    def call(self, inputs: jax.Array) -> jax.Array:
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format,
                    self.mode)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """Max over windows of `pool_size` steps of `(batch, steps, channels)` inputs."""

    rank, mode = 1, "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """Max over `pool_size` windows of images; halves height and width by default.

    Example:
        >>> MaxPooling2D()(jnp.ones((1, 28, 28, 3))).shape
        (1, 14, 14, 3)
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(_Pooling):
    """Max over `pool_size` windows of volumes `(batch, depth, height, width, channels)`."""

    rank, mode = 3, "max"

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """Mean over windows of steps (`pool_size` is required, as in Keras 3)."""

    rank, mode = 1, "average"


class AveragePooling2D(_Pooling):
    """Mean over image windows; with padding 'same' the edge windows average only real pixels."""

    rank, mode = 2, "average"


class AveragePooling3D(_Pooling):
    """Mean over volume windows."""

    rank, mode = 3, "average"


class _GlobalPooling(Layer):
    """Max or mean over all spatial axes: `(batch, *spatial, channels) -> (batch, channels)`.

    Args:
        data_format: 'channels_last' (default) or 'channels_first'.
        keepdims: keep the spatial axes with length 1.
    """

    rank = 2
    mode = "max"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = ops.normalize_data_format(data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 2}; "
                f"received shape {tuple(input_shape)}.")

    def call(self, inputs: jax.Array) -> jax.Array:
        axes = ops.spatial_axes(self.rank, self.data_format)
        reduce = jnp.max if self.mode == "max" else jnp.mean
        return reduce(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps of `(batch, steps, channels)`."""

    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width."""

    rank, mode = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over depth, height and width."""

    rank, mode = 3, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps; with a mask (from Embedding(mask_zero=True) or Masking), the mean
    of the unmasked steps only, as in Keras. The output carries no mask.

    Example:
        >>> GlobalAveragePooling1D()(jnp.ones((2, 5, 3))).shape
        (2, 3)
    """

    rank, mode = 1, "average"
    supports_masking = True

    def call(self, inputs: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        if mask is None:
            return super().call(inputs)
        steps = 1 if self.data_format == "channels_last" else 2
        keep = jnp.expand_dims(mask.astype(bool), 2 if steps == 1 else 1)
        total = jnp.sum(jnp.where(keep, inputs, 0), axis=steps, keepdims=self.keepdims)
        return total / jnp.sum(keep.astype(inputs.dtype), axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: the usual head of a convolutional classifier."""

    rank, mode = 2, "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over depth, height and width."""

    rank, mode = 3, "average"
