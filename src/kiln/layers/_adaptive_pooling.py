"""Adaptive pooling (Keras 3's `AdaptiveAveragePooling1D/2D/3D`, `AdaptiveMaxPooling1D/2D/3D`):
pool to a fixed output size, window `i` of an axis of length `n` covering
`[floor(i * n / o), ceil((i + 1) * n / o))`."""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp

from .. import _config
from ._layer import Layer


def _pool_axis(x: jax.Array, axis: int, size: int, reduce: Callable) -> jax.Array:
    n = x.shape[axis]
    parts = []
    for i in range(size):
        start, end = (i * n) // size, math.ceil((i + 1) * n / size)
        window = jax.lax.slice_in_dim(x, start, end, axis=axis)
        parts.append(reduce(window, axis=axis, keepdims=True))
    return jnp.concatenate(parts, axis=axis)


class _AdaptivePooling(Layer):
    """Shared by the six adaptive pooling layers (rank and reduction are class attributes)."""

    rank = 2
    reduce: Callable = staticmethod(jnp.mean)

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        name = type(self).__name__
        if isinstance(output_size, int) and not isinstance(output_size, bool):
            output_size = (output_size,) * self.rank
        if not isinstance(output_size, (tuple, list)) or len(output_size) != self.rank:
            raise TypeError(f"{name}(output_size=...) must be an int or a tuple of {self.rank} "
                            f"ints; received {output_size!r}.")
        self.output_size = tuple(int(s) for s in output_size)
        self.data_format = data_format or _config.image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{name}(data_format=...) must be 'channels_last' or "
                             f"'channels_first'; received {data_format!r}.")

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self.rank + 2} "
                             f"(batch, {self.rank} spatial axes, channels); received shape "
                             f"{tuple(input_shape)}.")

    def call(self, inputs: jax.Array) -> jax.Array:
        first = 2 if self.data_format == "channels_first" else 1
        x = inputs
        for k, size in enumerate(self.output_size):
            x = _pool_axis(x, first + k, size, type(self).reduce)
        return x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Averages `(batch, steps, channels)` into `output_size` steps.

    Example:
        >>> AdaptiveAveragePooling1D(2)(jnp.arange(4.0).reshape(1, 4, 1))[0, :, 0].tolist()
        [0.5, 2.5]
    """

    rank = 1


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Averages images into an `output_size` (height, width) grid.

    Example:
        >>> AdaptiveAveragePooling2D((2, 3))(jnp.ones((1, 5, 7, 2))).shape
        (1, 2, 3, 2)
    """

    rank = 2


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Averages volumes into an `output_size` (depth, height, width) grid.

    Example:
        >>> AdaptiveAveragePooling3D(2)(jnp.ones((1, 4, 5, 3, 2))).shape
        (1, 2, 2, 2, 2)
    """

    rank = 3


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Takes the maximum of `(batch, steps, channels)` over `output_size` windows.

    Example:
        >>> AdaptiveMaxPooling1D(2)(jnp.arange(5.0).reshape(1, 5, 1))[0, :, 0].tolist()
        [2.0, 4.0]
    """

    rank = 1
    reduce = staticmethod(jnp.max)


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Takes the maximum of images over an `output_size` (height, width) grid of windows.

    Example:
        >>> AdaptiveMaxPooling2D(1)(jnp.arange(6.0).reshape(1, 2, 3, 1)).ravel().tolist()
        [5.0]
    """

    rank = 2
    reduce = staticmethod(jnp.max)


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Takes the maximum of volumes over an `output_size` (depth, height, width) grid.

    Example:
        >>> AdaptiveMaxPooling3D((1, 2, 2))(jnp.ones((1, 3, 4, 4, 1))).shape
        (1, 1, 2, 2, 1)
    """

    rank = 3
    reduce = staticmethod(jnp.max)
