"""Keras 3's geometric image-augmentation layers: `RandomRotation`, `RandomZoom`,
`RandomTranslation`, `RandomCrop`, and the shared `affine_transform`.

A transform is Keras's 8-vector `[a0, a1, a2, b0, b1, b2, 0, 0]` per image: the output
pixel `(x, y)` samples the input at `(a0*x + a1*y + a2, b0*x + b1*y + b2)`.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from .._scope import next_rng_key
from ._image_preprocessing import (_RandomImageLayer, _factor_pair, _hw_axes, _slice_hw,
                                   resize_images)

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_ORDERS = {"nearest": 0, "bilinear": 1}


def _one_image(image: jax.Array, t: jax.Array, order: int, mode: str,
               cval: float) -> jax.Array:
    h, w = image.shape[0], image.shape[1]
    ys, xs = jnp.meshgrid(jnp.arange(h, dtype=t.dtype), jnp.arange(w, dtype=t.dtype),
                          indexing="ij")
    src_x = t[0] * xs + t[1] * ys + t[2]
    src_y = t[3] * xs + t[4] * ys + t[5]

    def channel(c: jax.Array) -> jax.Array:
        return jax.scipy.ndimage.map_coordinates(c, [src_y, src_x], order=order, mode=mode,
                                                 cval=cval)
    return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)


def affine_transform(images: jax.Array, transform: jax.Array,
                     interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0.0,
                     data_format: str = "channels_last") -> jax.Array:
    """Applies one 8-vector affine transform per image (Keras's `ops.image.affine_transform`).

    Example:
        >>> x = jnp.arange(4.0).reshape(2, 2, 1)
        >>> affine_transform(x, jnp.array([1., 0, 0, 0, 1, 0, 0, 0]))[:, :, 0].tolist()
        [[0.0, 1.0], [2.0, 3.0]]
    """
    if interpolation not in _ORDERS:
        raise ValueError(f"interpolation must be one of {sorted(_ORDERS)}; received "
                         f"{interpolation!r}.")
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"fill_mode must be one of {_FILL_MODES}; received {fill_mode!r}.")
    _hw_axes(images, data_format)
    return _affine_compiled(images, jnp.asarray(transform, jnp.float32), interpolation,
                            fill_mode, float(fill_value), data_format)


@partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _affine_compiled(images: jax.Array, t: jax.Array, interpolation: str, fill_mode: str,
                     fill_value: float, data_format: str) -> jax.Array:
    squeeze = images.ndim == 3
    x = images[None] if squeeze else images
    t = jnp.broadcast_to(t[None] if t.ndim == 1 else t, (x.shape[0], 8))
    if data_format == "channels_first":
        x = jnp.moveaxis(x, 1, -1)
    out = jax.vmap(lambda im, tr: _one_image(im, tr, _ORDERS[interpolation], fill_mode,
                                             fill_value))(x.astype(jnp.float32), t)
    out = out.astype(images.dtype)
    if data_format == "channels_first":
        out = jnp.moveaxis(out, -1, 1)
    return out[0] if squeeze else out


def affine_matrix(angle: jax.Array, tx: jax.Array, ty: jax.Array, scale: jax.Array,
                  shear_x: jax.Array, shear_y: jax.Array, height: int,
                  width: int) -> jax.Array:
    """Keras's rotation/scale/shear matrix about the image centre (angles in degrees).

    Example:
        >>> m = affine_matrix(*(jnp.zeros(1),) * 3, jnp.ones(1), jnp.zeros(1), jnp.zeros(1), 4, 4)
        >>> m[0, :6].tolist()
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    """
    rad = math.pi / 180.0
    cos, sin = jnp.cos(angle * rad), jnp.sin(angle * rad)
    shx, shy = jnp.tan(shear_x * rad), jnp.tan(shear_y * rad)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    a0, a1 = scale * (cos + shx * sin), scale * (-sin + shx * cos)
    b0, b1 = scale * (shy * cos + sin), scale * (-shy * sin + cos)
    a2, b2 = tx + cx - cx * a0 - cy * a1, ty + cy - cx * b0 - cy * b1
    zeros = jnp.zeros_like(a0)
    return jnp.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=-1)


class _AffineLayer(_RandomImageLayer):
    """Shared: fill_mode / interpolation / fill_value checks, transform and config."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = type(self).__name__
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"{name}(fill_mode=...) must be one of {_FILL_MODES}; received "
                             f"{fill_mode!r}.")
        if interpolation not in _ORDERS:
            raise ValueError(f"{name}(interpolation=...) must be one of {sorted(_ORDERS)}; "
                             f"received {interpolation!r}.")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        axes = _hw_axes(x, self.data_format)
        batch = x.shape[0] if x.ndim == 4 else 1
        matrix = self.matrix(key, batch, x.shape[axes[0]], x.shape[axes[1]])
        return affine_transform(x, matrix if x.ndim == 4 else matrix[0], self.interpolation,
                                self.fill_mode, self.fill_value, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}


def _uniform(key: jax.Array, batch: int, pair: tuple[float, float]) -> jax.Array:
    return jax.random.uniform(key, (batch,), jnp.float32, pair[0], pair[1])


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle `uniform(lower, upper) * 360` degrees about
    its centre (training only).

    Args:
        factor: a number f (range [-f, f]) or a pair (lower, upper), in turns (0.25 = 90°).
        fill_mode: "reflect" (default), "wrap", "constant", "nearest".
        interpolation: "bilinear" (default) or "nearest". fill_value: for "constant".
        seed: an int seed. data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> RandomRotation(0.1, seed=0)(jnp.ones((2, 8, 8, 3)), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        self._range = _factor_pair("RandomRotation", factor)

    def matrix(self, key: jax.Array, batch: int, height: int, width: int) -> jax.Array:
        angle = _uniform(key, batch, self._range) * 360.0
        zeros = jnp.zeros_like(angle)
        return affine_matrix(angle, zeros, zeros, jnp.ones_like(angle), zeros, zeros,
                             height, width)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_AffineLayer):
    """Zooms each image by a random factor about its centre (training only); a negative
    factor zooms in (height_factor=(-0.5, -0.5) shows the central half, doubled).

    Args:
        height_factor: a number f (range [-f, f]) or a pair (lower, upper), > -1.
        width_factor: the same for width; None (default) keeps the aspect ratio.
        fill_mode / interpolation / fill_value / seed / data_format: as RandomRotation.

    Example:
        >>> RandomZoom(0.2, seed=0)(jnp.ones((2, 8, 8, 1)), training=True).shape
        (2, 8, 8, 1)
    """

    def __init__(self, height_factor: Any, width_factor: Any = None,
                 fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _factor_pair("RandomZoom", height_factor)
        self._w = None if width_factor is None else _factor_pair("RandomZoom", width_factor)
        if min(self._h + (self._w or (0.0,))) < -1.0:
            raise ValueError("RandomZoom factors must be >= -1; received height_factor="
                             f"{height_factor!r}, width_factor={width_factor!r}.")

    def matrix(self, key: jax.Array, batch: int, height: int, width: int) -> jax.Array:
        zy = 1.0 + _uniform(key, batch, self._h)
        zx = zy if self._w is None else 1.0 + _uniform(key, batch, self._w)
        zeros = jnp.zeros_like(zy)
        return jnp.stack([zx, zeros, (width - 1) / 2.0 * (1.0 - zx), zeros, zy,
                          (height - 1) / 2.0 * (1.0 - zy), zeros, zeros], axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomTranslation(_AffineLayer):
    """Shifts each image by random fractions of its height and width (training only).

    Args:
        height_factor / width_factor: a number f (range [-f, f]) or a pair (lower, upper),
            fractions of the height / width; positive moves the content down / right.
        fill_mode / interpolation / fill_value / seed / data_format: as RandomRotation.

    Example:
        >>> RandomTranslation(0.2, 0.2, seed=0)(jnp.ones((8, 8, 1)), training=True).shape
        (8, 8, 1)
    """

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _factor_pair("RandomTranslation", height_factor)
        self._w = _factor_pair("RandomTranslation", width_factor)

    def matrix(self, key: jax.Array, batch: int, height: int, width: int) -> jax.Array:
        kh, kw = jax.random.split(key)
        dy = _uniform(kh, batch, self._h) * height
        dx = _uniform(kw, batch, self._w) * width
        ones, zeros = jnp.ones_like(dx), jnp.zeros_like(dx)
        return jnp.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomCrop(_RandomImageLayer):
    """Crops a random `(height, width)` window in training (one window for the whole batch,
    as in Keras); an image not larger than the target is, as in Keras, sliced at the
    aspect-ratio centre offset and resized. At inference it center-crops like `CenterCrop`
    (Keras 3.x returns the input unchanged there, so its output shape would differ
    between training and inference; kiln keeps the shape `(height, width)`).

    Example:
        >>> RandomCrop(4, 4, seed=0)(jnp.ones((2, 8, 8, 3)), training=True).shape
        (2, 4, 4, 3)
    """

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        x = inputs.astype(self.compute_dtype)
        axes = _hw_axes(x, self.data_format)
        h, w = x.shape[axes[0]], x.shape[axes[1]]
        if training is False:
            return self._center_crop(x, axes, h, w)
        if h > self.height and w > self.width:
            return self.transform(x, next_rng_key(self.seed))
        ch = max(min(h, int(float(w * self.height) / self.width)), 1)
        cw = max(min(w, int(float(h * self.width) / self.height)), 1)
        x = _slice_hw(x, axes, int(float(h - ch) / 2), self.height, int(float(w - cw) / 2),
                      self.width)
        if x.shape[axes[0]] == self.height and x.shape[axes[1]] == self.width:
            return x
        return resize_images(x, self.height, self.width,
                             data_format=self.data_format).astype(self.compute_dtype)

    def _center_crop(self, x: jax.Array, axes: tuple[int, int], h: int, w: int) -> jax.Array:
        dh, dw = h - self.height, w - self.width
        if dh >= 0 and dw >= 0:
            return _slice_hw(x, axes, dh // 2, self.height, dw // 2, self.width)
        return resize_images(x, self.height, self.width, crop_to_aspect_ratio=True,
                             data_format=self.data_format).astype(self.compute_dtype)

    def transform(self, x: jax.Array, key: jax.Array) -> jax.Array:
        axes = _hw_axes(x, self.data_format)
        kh, kw = jax.random.split(key)
        h0 = jax.random.randint(kh, (), 0, x.shape[axes[0]] - self.height + 1)
        w0 = jax.random.randint(kw, (), 0, x.shape[axes[1]] - self.width + 1)
        start = [0] * x.ndim
        start[axes[0]], start[axes[1]] = h0, w0
        size = list(x.shape)
        size[axes[0]], size[axes[1]] = self.height, self.width
        return jax.lax.dynamic_slice(x, start, size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}
