"""Reshaping layers: Permute, RepeatVector, Cropping1D/2D/3D, ZeroPadding1D/2D/3D,
UpSampling1D/2D/3D. (Flatten and Reshape are in `_core`; Lambda is in `_lambda`.)

Cropping, padding and up-sampling each have one class parameterised by the rank; the
rank-named classes only carry Keras's defaults.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from . import _conv_ops as ops
from ._lambda import Lambda as Lambda  # noqa: F401  (kept beside the other reshaping layers)
from ._layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes: `dims` is a permutation of `1..ndim-1` (1-based, as Keras).

    Example:
        >>> Permute((2, 1))(jnp.ones((4, 10, 3))).shape
        (4, 3, 10)
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute dims must be a permutation of 1..{len(self.dims)} (axis 0 "
                             f"is the batch and stays in place); received dims={tuple(dims)}.")

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Permute(dims={self.dims}) expects inputs of rank "
                             f"{len(self.dims) + 1}; received shape {tuple(input_shape)}.")

    def call(self, inputs: jax.Array) -> jax.Array:
        return jnp.transpose(inputs, (0,) + self.dims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`."""

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"RepeatVector(n=...) must be an int; received {type(n).__name__}.")
        if n <= 0:
            raise ValueError(f"RepeatVector(n=...) must be positive; received n={n}.")
        self.n = n

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector expects inputs of shape (batch, features); "
                             f"received shape {tuple(input_shape)}. Flatten them first.")

    def call(self, inputs: jax.Array) -> jax.Array:
        return jnp.repeat(inputs[:, None, :], self.n, axis=1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


def _pairs(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's cropping/padding argument -> one (before, after) pair per spatial axis.

    Rank 1 takes an int or a pair. Rank 2/3 take an int (same on every side), a tuple of `rank`
    ints (symmetric per axis) or a tuple of `rank` pairs.
    """
    if rank == 1:
        return (ops.normalize_tuple(value, 2, name, allow_zero=True),)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative; received {name}={value}.")
        return ((value, value),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"`{name}` must be an int, a tuple of {rank} ints, or a tuple of {rank} "
                         f"(before, after) pairs; received {name}={value!r}.")
    return tuple(ops.normalize_tuple(v, 2, f"entry {i} of {name}", allow_zero=True)
                 for i, v in enumerate(value))


def _flat(pairs: tuple[tuple[int, int], ...], rank: int) -> Any:
    return pairs[0] if rank == 1 else pairs


def _check_rank(layer: Layer, input_shape: Any) -> None:
    if len(input_shape) != layer.rank + 2:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' expects inputs of rank {layer.rank + 2} "
            f"(batch, {'spatial, ' * layer.rank}channels); received shape {tuple(input_shape)}.")


class _Cropping(Layer):
    """Removes `cropping` (before, after) positions from each spatial axis."""

    rank = 2

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.cropping = _flat(_pairs(cropping, self.rank, "cropping"), self.rank)
        self.data_format = ops.normalize_data_format(data_format)

    def _crop_pairs(self) -> tuple[tuple[int, int], ...]:
        return _pairs(self.cropping, self.rank, "cropping")

    def build(self, input_shape: Any) -> None:
        _check_rank(self, input_shape)
        for axis, (a, b) in zip(ops.spatial_axes(self.rank, self.data_format), self._crop_pairs()):
            if input_shape[axis] is not None and a + b >= input_shape[axis]:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': cropping {(a, b)} removes all "
                    f"{input_shape[axis]} positions of axis {axis} (input shape "
                    f"{tuple(input_shape)}). Crop less than the axis length.")

    def call(self, inputs: jax.Array) -> jax.Array:
        index = [slice(None)] * inputs.ndim
        for axis, (a, b) in zip(ops.spatial_axes(self.rank, self.data_format), self._crop_pairs()):
            index[axis] = slice(a, inputs.shape[axis] - b)
        return inputs[tuple(index)]

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "cropping": self.cropping}
        return config if self.rank == 1 else {**config, "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Crops `(before, after)` steps of `(batch, steps, features)` inputs."""

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    """Crops rows and columns: `cropping=((top, bottom), (left, right))`.

    Example:
        >>> Cropping2D(((1, 1), (2, 0)))(jnp.ones((1, 6, 6, 3))).shape
        (1, 4, 4, 3)
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops depth, height and width."""

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(cropping, data_format, **kwargs)


class _ZeroPadding(Layer):
    """Adds `padding` (before, after) zeros to each spatial axis."""

    rank = 2

    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = _flat(_pairs(padding, self.rank, "padding"), self.rank)
        self.data_format = ops.normalize_data_format(data_format)

    def build(self, input_shape: Any) -> None:
        _check_rank(self, input_shape)

    def call(self, inputs: jax.Array) -> jax.Array:
        pads = [(0, 0)] * inputs.ndim
        pairs = _pairs(self.padding, self.rank, "padding")
        for axis, pair in zip(ops.spatial_axes(self.rank, self.data_format), pairs):
            pads[axis] = pair
        return jnp.pad(inputs, pads)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Pads steps with zeros: `padding=2` or `(before, after)`."""

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros.

    Example:
        >>> ZeroPadding2D(((1, 0), (2, 2)))(jnp.ones((1, 4, 4, 3))).shape
        (1, 5, 8, 3)
    """

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads depth, height and width with zeros."""

    rank = 3

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


_RESIZE_METHODS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def upsample(x: jax.Array, size: Sequence[int], data_format: str = "channels_last",
             interpolation: str = "nearest") -> jax.Array:
    """Enlarges the spatial axes by integer factors.

    'nearest' repeats each position `size` times (Keras's UpSampling); other methods resize
    with `jax.image.resize` without antialiasing, as `keras.ops.image.resize` does.
    """
    axes = ops.spatial_axes(len(size), data_format)
    if interpolation == "nearest":
        for axis, factor in zip(axes, size):
            x = jnp.repeat(x, factor, axis=axis)
        return x
    shape = list(x.shape)
    for axis, factor in zip(axes, size):
        shape[axis] *= factor
    return jax.image.resize(x, tuple(shape), method=interpolation, antialias=False)


class _UpSampling(Layer):
    """Repeats (or interpolates) each spatial position `size` times per axis."""

    rank = 2

    def __init__(self, size: Any, data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any):
        super().__init__(**kwargs)
        self.size = ops.normalize_tuple(size, self.rank, "size")
        self.data_format = ops.normalize_data_format(data_format)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in _RESIZE_METHODS:
            raise ValueError(f"{type(self).__name__}: interpolation must be one of "
                             f"{_RESIZE_METHODS}; received interpolation={interpolation!r}.")

    def build(self, input_shape: Any) -> None:
        _check_rank(self, input_shape)

    def call(self, inputs: jax.Array) -> jax.Array:
        return upsample(inputs, self.size, self.data_format, self.interpolation)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling1D(_UpSampling):
    """Repeats each step `size` times: `(batch, steps, f) -> (batch, steps * size, f)`."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any):
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"UpSampling1D(size=...) must be an int; received "
                            f"{type(size).__name__}.")
        super().__init__(size, None, "nearest", **kwargs)
        self.size = size

    def call(self, inputs: jax.Array) -> jax.Array:
        return upsample(inputs, (self.size,))

    def get_config(self) -> dict[str, Any]:
        return {**Layer.get_config(self), "size": self.size}


class UpSampling2D(_UpSampling):
    """Enlarges images by `size`, with 'nearest' (repeat) or 'bilinear' interpolation.

    Example:
        >>> UpSampling2D((2, 3))(jnp.ones((1, 4, 4, 3))).shape
        (1, 8, 12, 3)
    """

    rank = 2

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Enlarges volumes by repeating positions along depth, height and width."""

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any):
        super().__init__(size, data_format, **kwargs)
