"""Mixing and erasing augmentation layers (Keras 3's): `MixUp`, `CutMix`, `RandomErasing`.

Each takes a batch of images, one unbatched image, or (as in Keras) a dict
`{"images": ..., "labels": ...}`; `MixUp` and `CutMix` mix the labels with the same weights
as the images, `RandomErasing` passes them through. They act only in training calls (or
calls with no training flag, as in Keras) and draw their keys from `next_rng_key`, so the
draws advance inside a compiled step; at inference they return the inputs (images cast to
the compute dtype).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .._scope import next_rng_key
from ._color_augmentation import _bounded_factor, _value_range
from ._image_preprocessing import _hw_axes, _RandomImageLayer

_PASSED_KEYS = ("images", "labels")


def _weights_like(weights: jax.Array, target: jax.Array) -> jax.Array:
    """Per-sample weights `(batch,)` shaped to broadcast against `target`."""
    return weights.reshape((-1,) + (1,) * (target.ndim - 1))


def _mix_labels(labels: jax.Array, weights: jax.Array, order: jax.Array) -> jax.Array:
    weights = _weights_like(weights, labels)
    return weights * labels + (1.0 - weights) * jnp.take(labels, order, axis=0)


def _crop_bounds(key: jax.Array, length: int, ratio: jax.Array) -> tuple:
    """Keras's crop bounds: a span of `ratio * length` at a uniform offset (floats)."""
    span = ratio * length
    start = jax.random.uniform(key, ratio.shape, ratio.dtype) * (length - span)
    return start, start + span


def _box_mask(x: jax.Array, axes: tuple[int, int], x_bounds: tuple, y_bounds: tuple) -> jax.Array:
    """A boolean `(batch, ...)` mask, True at pixels with `start <= index < end` on both
    axes, broadcastable against `x`."""
    shape = [1] * x.ndim
    shape[axes[0]] = x.shape[axes[0]]
    rows = jnp.arange(x.shape[axes[0]], dtype=x_bounds[0].dtype).reshape(shape)
    shape[axes[0]], shape[axes[1]] = 1, x.shape[axes[1]]
    cols = jnp.arange(x.shape[axes[1]], dtype=x_bounds[0].dtype).reshape(shape)
    (x0, x1), (y0, y1) = ((_weights_like(b, x) for b in bounds) for bounds in (x_bounds, y_bounds))
    return (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)


class _MixingLayer(_RandomImageLayer):
    """Shared by the layers here: image or `{"images", "labels"}` inputs, batching."""

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        data = dict(inputs) if isinstance(inputs, dict) else {"images": inputs}
        self._check_keys(data)
        images = jnp.asarray(data["images"]).astype(self.compute_dtype)
        _hw_axes(images, self.data_format)  # checks the rank
        labels = data.get("labels")
        labels = None if labels is None else jnp.asarray(labels)
        if training is not False:
            batched = images.ndim == 4
            images, labels = (images, labels) if batched else (
                images[None], None if labels is None else labels[None])
            images, labels = self.transform_batch(images, labels, next_rng_key(self.seed))
            if not batched:
                images, labels = images[0], None if labels is None else labels[0]
        if not isinstance(inputs, dict):
            return images
        data["images"] = images
        if labels is not None:
            data["labels"] = labels
        return data

    def _check_keys(self, data: dict) -> None:
        if "images" not in data:
            raise ValueError(f"{type(self).__name__} expects images or a dict with an "
                             f"'images' key; received a dict with keys {sorted(data)}.")
        extra = sorted(set(data) - set(_PASSED_KEYS))
        if extra:
            raise ValueError(f"{type(self).__name__} supports only the dict keys "
                             f"{list(_PASSED_KEYS)}; received also {extra}. Drop those keys "
                             f"(bounding boxes and segmentation masks are not supported).")

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class MixUp(_MixingLayer):
    """Blends each image (and its label) with another image of the batch: with `lam` drawn
    per image from `Beta(alpha, alpha)` and a random permutation `p` of the batch,
    `lam * x + (1 - lam) * x[p]` (training only). One unbatched image is left as it is.

    Args:
        alpha: the Beta distribution's parameter, default 0.2.
        data_format: "channels_last" (default) or "channels_first". seed: an int seed.

    Example:
        >>> x = {"images": jnp.ones((4, 3, 3, 1)), "labels": jnp.eye(4)}
        >>> y = MixUp(seed=0)(x, training=True)
        >>> y["images"].shape, bool(jnp.allclose(y["labels"].sum(axis=1), 1.0))
        ((4, 3, 3, 1), True)
    """

    def __init__(self, alpha: float = 0.2, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"MixUp(alpha=...) must be a positive number; received "
                             f"{alpha!r}. Pass e.g. alpha=0.2.")
        self.alpha = alpha

    def transform_batch(self, images: jax.Array, labels: jax.Array | None,
                        key: jax.Array) -> tuple:
        if images.shape[0] == 1:  # mixing one image with itself changes nothing
            return images, labels
        k_order, k_weight = jax.random.split(key)
        order = jax.random.permutation(k_order, images.shape[0])
        weights = jax.random.beta(k_weight, self.alpha, self.alpha, (images.shape[0],))
        w = _weights_like(weights, images).astype(images.dtype)
        images = w * images + (1.0 - w) * jnp.take(images, order, axis=0)
        return images, None if labels is None else _mix_labels(labels, weights, order)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "alpha": self.alpha,
                "seed": self.seed}


class CutMix(_MixingLayer):
    """Pastes into each image a rectangle cut from another image of the batch and mixes the
    labels by area (training only). Per image `lam ~ Beta(a, a)`, with `a` drawn once per
    call from `uniform(*factor)` (+1e-6); the rectangle's sides are `sqrt(1 - lam)` of the
    image's at a uniform offset, and the label weight is `1 - ` its (continuous) area
    fraction, as in Keras. One unbatched image is left as it is.

    Args:
        factor: a number f in [0, 1] (range [0, f]) or a pair, default 1.0.
        data_format: "channels_last" (default) or "channels_first". seed: an int seed.

    Example:
        >>> x = {"images": jnp.ones((2, 4, 4, 3)), "labels": jnp.eye(2)}
        >>> y = CutMix(seed=0)(x, training=True)
        >>> y["images"].shape, bool(jnp.allclose(y["labels"].sum(axis=1), 1.0))
        ((2, 4, 4, 3), True)
    """

    def __init__(self, factor: Any = 1.0, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("CutMix", factor, (0, 1))

    def transform_batch(self, images: jax.Array, labels: jax.Array | None,
                        key: jax.Array) -> tuple:
        batch = images.shape[0]
        axes = _hw_axes(images, self.data_format)
        height, width = images.shape[axes[0]], images.shape[axes[1]]
        k_alpha, k_lam, k_x, k_y, k_order = jax.random.split(key, 5)
        alpha = jax.random.uniform(k_alpha, (), minval=self.factor[0],
                                   maxval=self.factor[1]) + 1e-6
        lam = jax.random.beta(k_lam, alpha, alpha, (batch,))
        ratio = jnp.sqrt(1.0 - lam)
        x_bounds, y_bounds = _crop_bounds(k_x, width, ratio), _crop_bounds(k_y, height, ratio)
        mask = _box_mask(images, axes, x_bounds, y_bounds)
        order = jax.random.permutation(k_order, batch)
        images = jnp.where(mask, jnp.take(images, order, axis=0), images)
        area = (x_bounds[1] - x_bounds[0]) * (y_bounds[1] - y_bounds[0]) / (width * height)
        return images, None if labels is None else _mix_labels(labels, 1.0 - area, order)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "factor": list(self.factor), "seed": self.seed}


class RandomErasing(_MixingLayer):
    """Fills one random rectangle per image with `fill_value` (or, when it is None, with
    `normal() * value_range[1]` noise), clipped to `value_range` (training only). Each
    side's fraction is `sqrt(uniform(*scale))`, drawn separately for width and height; the
    image is erased when `uniform(0, 1) < uniform(*factor)`, as in Keras.

    Args:
        factor: the erase probability's range: a number f in [0, 1] (range [0, f]) or a
            pair, default 1.0 (so, as in Keras, an erase probability drawn from [0, 1]).
        scale: the range (lower, upper) in [0, 1] of the erased area's side fractions,
            squared; default (0.02, 0.33).
        fill_value: None (noise), a number, or 3 numbers (one per channel).
        value_range: the images' (min, max), default (0, 255).
        data_format: "channels_last" (default). seed: an int seed.

    Example:
        >>> y = RandomErasing((1, 1), fill_value=0.0)(jnp.ones((2, 8, 8, 1)), training=True)
        >>> y.shape, bool((y == 0).any() and (y == 1).any())
        ((2, 8, 8, 1), True)
    """

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: Any = None,
                 value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        _value_range("RandomErasing", value_range)
        super().__init__(value_range=value_range, seed=seed, data_format=data_format, **kwargs)
        self.factor = _bounded_factor("RandomErasing", factor, (0, 1))
        self.scale = _bounded_factor("RandomErasing", scale, (0, 1))
        if not (fill_value is None or isinstance(fill_value, (int, float)) or (
                isinstance(fill_value, (tuple, list)) and len(fill_value) == 3)):
            raise ValueError(f"RandomErasing(fill_value=...) must be None, a number or 3 "
                             f"numbers (one per channel); received {fill_value!r}.")
        self.fill_value = list(fill_value) if isinstance(fill_value, tuple) else fill_value

    def _fill(self, key: jax.Array, images: jax.Array) -> jax.Array:
        low, high = self.value_range
        if self.fill_value is None:
            fill = jax.random.normal(key, images.shape, images.dtype) * high
        elif isinstance(self.fill_value, list):
            shape = [1] * images.ndim
            shape[-1 if self.data_format == "channels_last" else -3] = 3
            fill = jnp.asarray(self.fill_value, images.dtype).reshape(shape)
        else:
            fill = jnp.asarray(self.fill_value, images.dtype)
        return jnp.clip(fill, low, high).astype(images.dtype)

    def transform_batch(self, images: jax.Array, labels: jax.Array | None,
                        key: jax.Array) -> tuple:
        batch = images.shape[0]
        axes = _hw_axes(images, self.data_format)
        k_side, k_x, k_y, k_prob, k_threshold, k_fill = jax.random.split(key, 6)
        sides = jnp.sqrt(jax.random.uniform(k_side, (batch, 2), minval=self.scale[0],
                                            maxval=self.scale[1]))
        x_bounds = _crop_bounds(k_x, images.shape[axes[1]], sides[:, 0])
        y_bounds = _crop_bounds(k_y, images.shape[axes[0]], sides[:, 1])
        mask = _box_mask(images, axes, x_bounds, y_bounds)
        probability = jax.random.uniform(k_prob, (batch,), minval=self.factor[0],
                                         maxval=self.factor[1])
        apply = jax.random.uniform(k_threshold, (batch,)) < probability
        mask = mask & _weights_like(apply, images)
        return jnp.where(mask, self._fill(k_fill, images), images), labels

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "factor": list(self.factor), "scale": list(self.scale),
                "fill_value": self.fill_value, "value_range": list(self.value_range),
                "seed": self.seed}
