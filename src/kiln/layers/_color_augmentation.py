"""Color augmentation layers (Keras 3's): `RandomGrayscale`, `Solarization`, `AutoContrast`,
`RandomPosterization`, `RandomColorDegeneration`, `RandomSaturation`, `RandomHue`.

The random layers act only in training calls (or calls with no training flag, as in Keras)
and draw their keys from `next_rng_key`, so the draws advance inside a compiled step; at
inference they return the inputs cast to the compute dtype. `AutoContrast` is deterministic
and, as in Keras, applies at inference too.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..ops.image import hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv
from ._image_preprocessing import _hw_axes, _RandomImageLayer


def _value_range(name: str, value_range: Any) -> tuple[float, float]:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(f"{name}(value_range=...) must be a pair (min, max); received "
                         f"{value_range!r}. Pass e.g. value_range=(0, 255).")
    low, high = sorted(float(v) for v in value_range)
    return low, high


def _rescale(x: jax.Array, source: tuple, target: tuple) -> jax.Array:
    if tuple(source) == tuple(target):
        return x
    unit = (x - source[0]) / (source[1] - source[0])
    return unit * (target[1] - target[0]) + target[0]


def _bounded_factor(name: str, factor: Any, bounds: tuple[float, float]) -> tuple:
    """Keras's base `_set_factor`: a number f gives (max(-f, lower bound), f)."""
    message = (f"{name}(factor=...) must be a number or a pair within [{bounds[0]}, "
               f"{bounds[1]}]; received {factor!r}.")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        lower, upper = sorted(factor)
        return lower, upper
    if isinstance(factor, (int, float)) and bounds[0] <= factor <= bounds[1]:
        return max(-abs(factor), bounds[0]), abs(factor)
    raise ValueError(message)


class RandomGrayscale(_RandomImageLayer):
    """Turns each image to grayscale (kept with its channel count) with probability `factor`
    (training only).

    Args:
        factor: the probability in [0, 1], default 0.5.
        data_format: "channels_last" (default) or "channels_first". seed: an int seed.

    Example:
        >>> y = RandomGrayscale(1.0, seed=0)(jnp.ones((2, 3, 3, 3)), training=True)
        >>> y.shape, bool(jnp.allclose(y, 0.9999))
        ((2, 3, 3, 3), True)
    """

    def __init__(self, factor: float = 0.5, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not 0.0 <= factor <= 1.0:
            raise ValueError(f"RandomGrayscale(factor=...) must be a probability in [0, 1]; "
                             f"received {factor!r}.")
        self.factor = factor

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        apply = jax.random.uniform(key, self._per_image_shape(x)) < self.factor
        return jnp.where(apply, rgb_to_grayscale(x, self.data_format), x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor, "data_format": self.data_format,
                "seed": self.seed}


class Solarization(_RandomImageLayer):
    """Adds a random amount to each image, then inverts the pixels at or above a random
    threshold (training only), on the 0..255 scale, as Keras does.

    Args:
        addition_factor / threshold_factor: a number f in [0, 1] (range [0, f]) or a pair;
            the draw is `uniform(lower, upper * 255)` (Keras's convention).
        value_range: the images' (min, max), default (0, 255). seed: an int seed.

    Example:
        >>> Solarization()(jnp.full((1, 2, 2, 1), 55.0), training=True)[0, 0, 0, 0].item()
        200.0
    """

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0,
                 value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any):
        value_range = _value_range("Solarization", value_range)
        super().__init__(value_range=value_range, seed=seed, **kwargs)
        self.addition_factor = _bounded_factor("Solarization", addition_factor, (0, 1))
        self.threshold_factor = _bounded_factor("Solarization", threshold_factor, (0, 1))

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        k_add, k_threshold = jax.random.split(key)
        shape = self._per_image_shape(x)
        add = jax.random.uniform(k_add, shape, x.dtype, self.addition_factor[0],
                                 self.addition_factor[1] * 255)
        threshold = jax.random.uniform(k_threshold, shape, x.dtype, self.threshold_factor[0],
                                       self.threshold_factor[1] * 255)
        y = jnp.clip(_rescale(x, self.value_range, (0, 255)) + add, 0, 255)
        y = jnp.where(y < threshold, y, 255 - y)
        return _rescale(y, (0, 255), self.value_range).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": list(self.value_range),
                "addition_factor": list(self.addition_factor),
                "threshold_factor": list(self.threshold_factor), "seed": self.seed,
                "data_format": self.data_format}


class AutoContrast(_RandomImageLayer):
    """Stretches each image's channels to span `value_range` (min to 0, max to 255 on the
    0..255 scale); a constant channel stays as it is. Deterministic: applies in every call.

    Args:
        value_range: the images' (min, max), default (0, 255).

    Example:
        >>> x = jnp.asarray([[[[10.0], [20.0]]]])
        >>> AutoContrast()(x)[0, 0, :, 0].tolist()
        [0.0, 255.0]
    """

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any):
        super().__init__(value_range=_value_range("AutoContrast", value_range), **kwargs)

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        x = inputs.astype(self.compute_dtype)
        axes = _hw_axes(x, self.data_format)
        y = _rescale(x, self.value_range, (0, 255))
        low = jnp.min(y, axis=axes, keepdims=True)
        high = jnp.max(y, axis=axes, keepdims=True)
        spread = jnp.where(high > low, high - low, 1.0)
        y = jnp.clip((y - low) * (255.0 / spread), 0.0, 255.0)
        y = _rescale(y, (0, 255), self.value_range)
        return jnp.where(high > low, y, x).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": list(self.value_range),
                "data_format": self.data_format}


class RandomPosterization(_RandomImageLayer):
    """Keeps only the top `bits` bits of each 8-bit pixel value, `bits` drawn per image from
    `randint(lower, upper)` (upper excluded, as in Keras; a collapsed pair is exact).

    Args:
        factor: a number b in [1, 8] (bits in [1, b)) or a pair (lower, upper).
        value_range: the images' (min, max), default (0, 255).
        data_format: "channels_last" (default). seed: an int seed.

    Example:
        >>> y = RandomPosterization((1, 1))(jnp.full((1, 1, 1, 1), 200.0), training=True)
        >>> y[0, 0, 0, 0].item()
        128.0
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        value_range = _value_range("RandomPosterization", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomPosterization", factor, (1, 8))

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        lower, upper = int(self.factor[0]), int(self.factor[1])
        shape = self._per_image_shape(x)
        if lower != upper:
            bits = jax.random.randint(key, shape, lower, upper, jnp.int32)
        else:
            bits = jnp.full(shape, lower, jnp.int32)
        shift = (8 - bits).astype(jnp.uint8)
        pixels = _rescale(x, self.value_range, (0, 255)).astype(jnp.uint8)
        pixels = jnp.left_shift(jnp.right_shift(pixels, shift), shift)
        return _rescale(pixels.astype(x.dtype), (0, 255), self.value_range).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range), "data_format": self.data_format,
                "seed": self.seed}


class RandomColorDegeneration(_RandomImageLayer):
    """Blends each image toward its grayscale version by a factor drawn per image from
    `uniform(lower, upper)`, then clips to `value_range` (training only).

    Args:
        factor: a number f in [-1, 1] (range [-f, f], Keras's convention) or a pair.
        value_range: the images' (min, max), default (0, 255).
        data_format: "channels_last" (default). seed: an int seed.

    Example:
        >>> x = jnp.asarray([[[[255.0, 0.0, 0.0]]]])
        >>> y = RandomColorDegeneration((1, 1))(x, training=True)
        >>> [round(v, 2) for v in y[0, 0, 0].tolist()]
        [76.22, 76.22, 76.22]
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        value_range = _value_range("RandomColorDegeneration", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomColorDegeneration", factor, (-1, 1))

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        f = jax.random.uniform(key, self._per_image_shape(x), x.dtype, self.factor[0],
                               self.factor[1])
        y = x + f * (rgb_to_grayscale(x, self.data_format) - x)
        return jnp.clip(y, *self.value_range).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range), "data_format": self.data_format,
                "seed": self.seed}


class RandomSaturation(_RandomImageLayer):
    """Scales each image's HSV saturation by `f / (1 - f)`, f drawn per image from
    `uniform(lower, upper)` (f = 0.5 keeps the image, 1 saturates, 0 grays), training only.

    Args:
        factor: a number f in [-1, 1] (range [-f, f], Keras's convention) or a pair.
        value_range: the images' (min, max), default (0, 255); the new saturation is clipped
            to it, as Keras does.
        data_format: "channels_last" (default). seed: an int seed.

    Example:
        >>> x = jnp.asarray([[[[200.0, 100.0, 50.0]]]])
        >>> y = RandomSaturation((0.5, 0.5))(x, training=True)
        >>> [round(v, 1) for v in y[0, 0, 0].tolist()]
        [200.0, 100.0, 50.0]
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        value_range = _value_range("RandomSaturation", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomSaturation", factor, (-1, 1))

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        axis = -1 if self.data_format == "channels_last" else -3
        f = jax.random.uniform(key, self._per_image_shape(x), x.dtype, self.factor[0],
                               self.factor[1])
        scale = jnp.squeeze(f / (1.0 - f + 1e-7), axis)
        hsv = rgb_to_hsv(x, self.data_format)
        hue, saturation, value = (jnp.take(hsv, i, axis=axis) for i in range(3))
        saturation = jnp.clip(saturation * scale, *self.value_range)
        rgb = hsv_to_rgb(jnp.stack([hue, saturation, value], axis=axis), self.data_format)
        return rgb.astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range), "data_format": self.data_format,
                "seed": self.seed}


class RandomHue(_RandomImageLayer):
    """Rotates each image's hue by `+-f / 2` of a full turn, f drawn per image from
    `uniform(lower, upper)` and the sign at random (training only).

    Args:
        factor: a number f in [0, 1] (range [0, f]) or a pair; 1 can shift by half a turn.
        value_range: the images' (min, max), default (0, 255).
        data_format: "channels_last" (default). seed: an int seed.

    Example:
        >>> x = jnp.asarray([[[[255.0, 0.0, 0.0]]]])
        >>> RandomHue((1, 1))(x, training=True)[0, 0, 0].tolist()
        [0.0, 255.0, 255.0]
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        value_range = _value_range("RandomHue", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomHue", factor, (0, 1))

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        axis = -1 if self.data_format == "channels_last" else -3
        k_sign, k_factor = jax.random.split(key)
        shape = self._per_image_shape(x)
        sign = jnp.where(jax.random.uniform(k_sign, shape) > 0.5, -1.0, 1.0)
        shift = sign * jax.random.uniform(k_factor, shape, x.dtype, *self.factor) * 0.5
        hsv = rgb_to_hsv(_rescale(x, self.value_range, (0, 1)), self.data_format)
        hue, saturation, value = (jnp.take(hsv, i, axis=axis) for i in range(3))
        hue = hue + jnp.squeeze(shift, axis)
        hue = jnp.where(hue > 1.0, hue - 1.0, jnp.where(hue < 0.0, hue + 1.0, hue))
        y = hsv_to_rgb(jnp.stack([hue, saturation, value], axis=axis), self.data_format)
        y = jnp.clip(y, 0, 1)
        return _rescale(y, (0, 1), self.value_range).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range), "data_format": self.data_format,
                "seed": self.seed}
