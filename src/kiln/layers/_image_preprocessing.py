"""Image preprocessing layers (Keras 3's): `Resizing`, `CenterCrop`, `RandomFlip`,
`RandomBrightness`, `RandomContrast`.

Images are `(batch, height, width, channels)` (or channels first) or one unbatched image.
The random layers act only in training calls and draw their keys from `next_rng_key`, so
they run inside a compiled step; at inference they return the inputs (cast to the dtype).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .. import _config
from .._scope import next_rng_key
from ._layer import Layer

_INTERPOLATIONS = {"bilinear": "linear", "nearest": "nearest", "bicubic": "cubic",
                   "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


def _data_format(name: str, data_format: str | None) -> str:
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}(data_format=...) must be 'channels_last' or 'channels_first'; "
                         f"received {data_format!r}.")
    return data_format


def _hw_axes(x: jax.Array, data_format: str) -> tuple[int, int]:
    if x.ndim not in (3, 4):
        raise ValueError(f"Image layers expect rank 3 (one image) or rank 4 (a batch); "
                         f"received shape {tuple(x.shape)}.")
    return (x.ndim - 2, x.ndim - 1) if data_format == "channels_first" else (x.ndim - 3, x.ndim - 2)


def _slice_hw(x: jax.Array, axes: tuple[int, int], h0: int, h: int, w0: int, w: int) -> jax.Array:
    index = [slice(None)] * x.ndim
    index[axes[0]], index[axes[1]] = slice(h0, h0 + h), slice(w0, w0 + w)
    return x[tuple(index)]


def resize_images(x: jax.Array, height: int, width: int, interpolation: str = "bilinear",
                  crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                  fill_value: float = 0.0, antialias: bool = False,
                  data_format: str = "channels_last") -> jax.Array:
    """Keras's `ops.image.resize` on the JAX backend (center crop or pad first if asked)."""
    axes = _hw_axes(x, data_format)
    h, w = x.shape[axes[0]], x.shape[axes[1]]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * height) / width)), 1)
        cw = max(min(w, int(float(h * width) / height)), 1)
        x = _slice_hw(x, axes, int(float(h - ch) / 2), ch, int(float(w - cw) / 2), cw)
    elif pad_to_aspect_ratio:
        ph, pw = max(h, int(float(w * height) / width)), max(w, int(float(h * width) / height))
        pads = [(0, 0)] * x.ndim
        top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
        pads[axes[0]], pads[axes[1]] = (top, top), (left, left)  # Keras pads evenly
        x = jnp.pad(x, pads, constant_values=fill_value)
    size = list(x.shape)
    size[axes[0]], size[axes[1]] = height, width
    return jax.image.resize(x, tuple(size), method=_INTERPOLATIONS[interpolation],
                            antialias=antialias)


class Resizing(Layer):
    """Resizes images to `(height, width)`.

    Args:
        height / width: the output size.
        interpolation: "bilinear" (default), "nearest", "bicubic", "lanczos3", "lanczos5".
        crop_to_aspect_ratio: center-crop to the target aspect ratio first (no distortion).
        pad_to_aspect_ratio: pad (with `fill_value`) to the target aspect ratio first.
        fill_mode: only "constant". fill_value: the padding value.
        antialias: antialias when downsampling. data_format: "channels_last" (default).

    Example:
        >>> Resizing(4, 6)(jnp.ones((2, 8, 8, 3))).shape
        (2, 4, 6, 3)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"Resizing(interpolation=...) must be one of "
                             f"{sorted(_INTERPOLATIONS)}; received {interpolation!r}.")
        if fill_mode != "constant":
            raise ValueError(f"Resizing(fill_mode=...) supports only 'constant'; received "
                             f"{fill_mode!r}.")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: set at most one of crop_to_aspect_ratio and "
                             "pad_to_aspect_ratio; received both True.")
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = bool(antialias)
        self.data_format = _data_format("Resizing", data_format)

    def call(self, inputs: jax.Array) -> jax.Array:
        return resize_images(inputs.astype(self.compute_dtype), self.height, self.width,
                             self.interpolation, self.crop_to_aspect_ratio,
                             self.pad_to_aspect_ratio, self.fill_value, self.antialias,
                             self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "data_format": self.data_format,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(Layer):
    """Crops the central `(height, width)` region; an image smaller than that is first
    resized (cropping to the aspect ratio), as in Keras.

    Example:
        >>> CenterCrop(2, 2)(jnp.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
        [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)
        self.data_format = _data_format("CenterCrop", data_format)

    def call(self, inputs: jax.Array) -> jax.Array:
        x = inputs.astype(self.compute_dtype)
        axes = _hw_axes(x, self.data_format)
        dh, dw = x.shape[axes[0]] - self.height, x.shape[axes[1]] - self.width
        if dh >= 0 and dw >= 0:
            return _slice_hw(x, axes, dh // 2, self.height, dw // 2, self.width)
        return resize_images(x, self.height, self.width, crop_to_aspect_ratio=True,
                             data_format=self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}


def _factor_pair(name: str, factor: Any) -> tuple[float, float]:
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{name}(factor=...) must be a number or a pair (lower, upper); "
                             f"received {factor!r}.")
        return float(factor[0]), float(factor[1])
    return -abs(float(factor)), abs(float(factor))


class _RandomImageLayer(Layer):
    """Shared by the random image layers: seed, value_range, training-only application."""

    def __init__(self, value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.value_range = tuple(float(v) for v in value_range)
        self.seed = seed
        self.data_format = _data_format(type(self).__name__, data_format)

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        x = inputs.astype(self.compute_dtype)
        if training is False:  # as in Keras, a call with no training flag augments
            return x
        return self.transform(x, next_rng_key(self.seed))

    def _per_image_shape(self, x: jax.Array) -> tuple:
        return (x.shape[0],) + (1,) * (x.ndim - 1) if x.ndim == 4 else (1,) * x.ndim


class RandomFlip(_RandomImageLayer):
    """Flips each image horizontally and/or vertically with probability 1/2 (training only).

    Args:
        mode: "horizontal", "vertical" or "horizontal_and_vertical" (default).
        seed: an int seed for the random stream.

    Example:
        >>> x = jnp.ones((2, 4, 4, 3))
        >>> RandomFlip(seed=1)(x, training=False).shape
        (2, 4, 4, 3)
    """

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError("RandomFlip(mode=...) must be 'horizontal', 'vertical' or "
                             f"'horizontal_and_vertical'; received {mode!r}.")
        self.mode = mode

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        h_axis, w_axis = _hw_axes(x, self.data_format)
        kh, kv = jax.random.split(key)
        if self.mode != "vertical":
            x = jnp.where(jax.random.bernoulli(kh, 0.5, self._per_image_shape(x)),
                          jnp.flip(x, w_axis), x)
        if self.mode != "horizontal":
            x = jnp.where(jax.random.bernoulli(kv, 0.5, self._per_image_shape(x)),
                          jnp.flip(x, h_axis), x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "seed": self.seed,
                "data_format": self.data_format}


class RandomBrightness(_RandomImageLayer):
    """Adds one random delta per image, `uniform(lower, upper) * (max - min)` of
    `value_range`, then clips to `value_range` (training only).

    Args:
        factor: a number f (range [-f, f]) or a pair (lower, upper), within [-1, 1].
        value_range: the images' (min, max), default (0, 255).
        seed: an int seed.

    Example:
        >>> y = RandomBrightness(0.5, seed=0)(jnp.full((2, 3, 3, 1), 100.0), training=True)
        >>> bool((y >= 0).all() and (y <= 255).all())
        True
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):
        super().__init__(value_range=value_range, seed=seed, **kwargs)
        self.factor = factor
        self._lower, self._upper = _factor_pair("RandomBrightness", factor)
        if not -1.0 <= self._lower <= self._upper <= 1.0:
            raise ValueError("RandomBrightness(factor=...) must lie in [-1, 1] with lower <= "
                             f"upper; received {factor!r}.")

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        low, high = self.value_range
        delta = jax.random.uniform(key, self._per_image_shape(x), x.dtype, self._lower,
                                   self._upper) * (high - low)
        return jnp.clip(x + delta, low, high)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range), "seed": self.seed}


class RandomContrast(_RandomImageLayer):
    """Scales each image's deviation from its per-channel mean by one random factor in
    `[1 - lower, 1 + upper]`, then clips to `value_range` (training only).

    Args:
        factor: a number f in [0, 1] or a pair (lower, upper).
        value_range: the images' (min, max), default (0, 255).
        seed: an int seed.

    Example:
        >>> y = RandomContrast(0.5, seed=0)(jnp.ones((2, 3, 3, 1)), training=True)
        >>> bool(jnp.allclose(y, 1.0))
        True
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):
        super().__init__(value_range=value_range, seed=seed, **kwargs)
        self.factor = factor
        pair = factor if isinstance(factor, (tuple, list)) else (factor, factor)
        self._lower, self._upper = float(pair[0]), float(pair[1])
        if not (0.0 <= self._lower <= 1.0 and self._upper >= 0.0):
            raise ValueError("RandomContrast(factor=...) must be a number in [0, 1] or a pair "
                             f"with lower in [0, 1]; received {factor!r}.")

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        axes = _hw_axes(x, self.data_format)
        f = jax.random.uniform(key, self._per_image_shape(x), x.dtype, 1.0 - self._lower,
                               1.0 + self._upper)
        mean = jnp.mean(x, axis=axes, keepdims=True)
        return jnp.clip((x - mean) * f + mean, *self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range), "seed": self.seed}


class RandomInvert(_RandomImageLayer):
    """Replaces an image by `value_range[1] - image` with a random probability drawn from
    `uniform(lower, upper)` of `factor` (training only), as Keras does.

    Args:
        factor: a number f in [0, 1] (probability range [0, f]) or a pair (lower, upper).
        value_range: the images' (min, max), default (0, 255).
        seed: an int seed.

    Example:
        >>> RandomInvert(seed=0)(jnp.zeros((2, 2, 2, 1)), training=False).shape
        (2, 2, 2, 1)
    """

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):
        super().__init__(value_range=value_range, seed=seed, **kwargs)
        if isinstance(factor, (tuple, list)) and len(factor) == 2:
            lower, upper = sorted(float(f) for f in factor)
        elif isinstance(factor, (int, float)) and 0.0 <= factor <= 1.0:
            lower, upper = 0.0, abs(float(factor))
        else:
            raise ValueError("RandomInvert(factor=...) must be a number in [0, 1] or a pair of "
                             f"numbers; received {factor!r}.")
        self.factor = (lower, upper)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        k1, k2 = jax.random.split(key)
        shape = self._per_image_shape(x)
        probability = jax.random.uniform(k1, shape, x.dtype, self.factor[0], self.factor[1])
        apply = jax.random.uniform(k2, shape, x.dtype) < probability
        return jnp.where(apply, self.value_range[1] - x, x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range), "seed": self.seed}
