"""Image filter layers (Keras 3's): `RandomSharpness`, `Equalization`, `RandomColorJitter`.

As with the other image layers, a call with `training=False` returns the inputs cast to the
compute dtype, and a training call (or one with no flag, as in Keras) applies the layer. The
random layers draw their keys from `next_rng_key`, so the draws advance inside a compiled
step. `RandomColorJitter` chains kiln's `RandomBrightness`, `RandomContrast`,
`RandomSaturation` and `RandomHue`, as Keras does.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._color_augmentation import (
    RandomHue,
    RandomSaturation,
    _bounded_factor,
    _rescale,
    _value_range,
)
from ._image_preprocessing import (
    RandomBrightness,
    RandomContrast,
    _hw_axes,
    _RandomImageLayer,
)

# Keras's smoothing kernel: 1/13 around, 5/13 in the middle (it sums to 1).
_EDGE_WEIGHT, _CENTER_WEIGHT = 1.0 / 13.0, 5.0 / 13.0


def smooth_images(x: jax.Array, data_format: str = "channels_last") -> jax.Array:
    """Keras's sharpness blur: a per-channel 3x3 filter, zero padding at the borders."""
    h_axis, w_axis = _hw_axes(x, data_format)
    pads = [(0, 0)] * x.ndim
    pads[h_axis], pads[w_axis] = (1, 1), (1, 1)
    padded = jnp.pad(x, pads)
    h, w = x.shape[h_axis], x.shape[w_axis]
    total = jnp.zeros_like(x)
    for dh in range(3):
        rows = jax.lax.slice_in_dim(padded, dh, dh + h, axis=h_axis)
        for dw in range(3):
            total = total + jax.lax.slice_in_dim(rows, dw, dw + w, axis=w_axis)
    return total * _EDGE_WEIGHT + x * (_CENTER_WEIGHT - _EDGE_WEIGHT)


class RandomSharpness(_RandomImageLayer):
    """Blends each image with a blurred copy, `x + (1 - 2f) * (blur(x) - x)`, f drawn per
    image from `uniform(lower, upper)`, then clips to `value_range` (training only): f = 0
    blurs, 0.5 keeps the image, 1 sharpens.

    Args:
        factor: a number f in [0, 1] (range [0, f]) or a pair (lower, upper).
        value_range: the images' (min, max), default (0, 255).
        data_format: "channels_last" (default) or "channels_first". seed: an int seed.

    Example:
        >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
        >>> bool(jnp.allclose(RandomSharpness((0.5, 0.5))(x, training=True), x))
        True
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        value_range = _value_range("RandomSharpness", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomSharpness", factor, (0, 1))

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        f = jax.random.uniform(key, self._per_image_shape(x), x.dtype, *self.factor) * 2.0
        y = x + (1.0 - f) * (smooth_images(x, self.data_format) - x)
        return jnp.clip(y, *self.value_range).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "factor": list(self.factor), "value_range": list(self.value_range),
                "seed": self.seed}


def _bin_indices(scaled: jax.Array, bins: int, histogram: bool) -> jax.Array:
    # Keras bins the histogram as x * (bins - 1) / 255 and looks up as x / 255 * (bins - 1);
    # both are kept so that values on a bin edge land where Keras puts them.
    position = scaled * (bins - 1) / 255.0 if histogram else scaled / 255.0 * (bins - 1)
    if histogram:
        return jnp.clip(position.astype(jnp.int32), 0, bins - 1)
    return jnp.clip(position, 0, bins - 1).astype(jnp.int32)


def equalize_channels(x: jax.Array, bins: int = 256) -> jax.Array:
    """Histogram-equalizes `x` (0..255 scale, channels last) channel by channel, one
    histogram per channel over every leading axis (the whole batch, as Keras does)."""
    flat = x.reshape(-1, x.shape[-1]).astype(jnp.float32)
    channels = jnp.arange(x.shape[-1])[None, :]
    hist = jnp.zeros((x.shape[-1], bins), jnp.int32)
    hist = hist.at[channels, _bin_indices(flat, bins, histogram=True)].add(1)
    cdf = jnp.cumsum(hist, axis=-1).astype(jnp.float32)
    cdf_min = jnp.min(jnp.where(cdf > 0, cdf, jnp.inf), axis=-1, keepdims=True)
    denominator = cdf[:, -1:] - cdf_min
    denominator = jnp.where(denominator == 0, 1.0, denominator)
    table = jnp.clip(jnp.round((cdf - cdf_min) * 255.0 / denominator), 0, 255)
    equalized = table[channels, _bin_indices(flat, bins, histogram=False)]
    keep = jnp.count_nonzero(hist, axis=-1) <= 1  # one level only: left as it is
    equalized = jnp.where(keep[None, :], flat, equalized)
    return equalized.reshape(x.shape).astype(x.dtype)


class Equalization(_RandomImageLayer):
    """Histogram equalization of each channel onto `bins` levels, as Keras computes it: one
    histogram per channel over the whole batch; a channel with a single level is kept.
    Deterministic; like Keras, it applies in training calls and calls with no flag, and
    returns the inputs when `training=False`.

    Args:
        value_range: the images' (min, max), default (0, 255).
        bins: the number of histogram bins, default 256.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> x = jnp.asarray([[[[10.0], [20.0]], [[20.0], [30.0]]]])
        >>> Equalization()(x)[0, :, :, 0].tolist()
        [[0.0, 170.0], [170.0, 255.0]]
    """

    def __init__(self, value_range: Any = (0, 255), bins: int = 256,
                 data_format: str | None = None, **kwargs: Any):
        value_range = _value_range("Equalization", value_range)
        super().__init__(value_range=value_range, data_format=data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"Equalization(bins=...) must be a positive int; received "
                             f"{bins!r}. Pass e.g. bins=256.")
        self.bins = bins

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        x = inputs.astype(self.compute_dtype)
        if training is False:  # as in Keras, only training calls (or no flag) equalize
            return x
        _hw_axes(x, self.data_format)
        if self.data_format == "channels_first":
            x = jnp.moveaxis(x, -3, -1)
        y = equalize_channels(_rescale(x, self.value_range, (0, 255)), self.bins)
        y = _rescale(y, (0, 255), self.value_range)
        if self.data_format == "channels_first":
            y = jnp.moveaxis(y, -1, -3)
        return y.astype(self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "bins": self.bins,
                "value_range": list(self.value_range)}


class RandomColorJitter(_RandomImageLayer):
    """Applies, in this order and each only when its factor is given, kiln's
    `RandomBrightness`, `RandomContrast`, `RandomSaturation` and `RandomHue` (training only).

    Args:
        value_range: the images' (min, max), default (0, 255), shared by the four steps.
        brightness_factor / contrast_factor / saturation_factor / hue_factor: each step's
            `factor` (see those layers), or None (default) to skip the step.
        seed: an int seed. data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> x = jnp.full((2, 3, 3, 3), 100.0)
        >>> y = RandomColorJitter(brightness_factor=(0.2, 0.2))(x, training=True)
        >>> float(y[0, 0, 0, 0])
        151.0
    """

    def __init__(self, value_range: Any = (0, 255), brightness_factor: Any = None,
                 contrast_factor: Any = None, saturation_factor: Any = None,
                 hue_factor: Any = None, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        pair = _value_range("RandomColorJitter", value_range)
        super().__init__(value_range=pair, seed=seed, data_format=data_format, **kwargs)
        self.value_range = tuple(value_range)  # kept as given, as Keras does
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        steps = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))
        self.steps = [cls(factor=factor, value_range=pair, seed=seed,
                          data_format=self.data_format)
                      for cls, factor in steps if factor is not None]

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        for step, step_key in zip(self.steps, jax.random.split(key, 4)):
            x = step.transform(x, step_key).astype(x.dtype)
        return x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "value_range": list(self.value_range),
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor,
                "seed": self.seed}
