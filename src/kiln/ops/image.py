"""Keras's `keras.ops.image`: resizing, colour conversion, padding, cropping and patches.

Images are `(height, width, channels)` or batched `(batch, height, width, channels)`;
`data_format="channels_first"` puts channels before the spatial axes.

>>> from kiln.ops import image
>>> image.resize(jnp.ones((4, 4, 3)), (2, 2)).shape
(2, 2, 3)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from . import _image_extra, _image_warp
from ._wrap import export

_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def _spatial_axes(x: jax.Array, data_format: str | None) -> tuple[int, int]:
    if x.ndim not in (3, 4):
        raise ValueError(f"expected images of rank 3 (H, W, C) or 4 (N, H, W, C); received "
                         f"shape {x.shape}.")
    return (x.ndim - 2, x.ndim - 1) if data_format == "channels_first" else (
        x.ndim - 3, x.ndim - 2)


def _crop_to_ratio(x: jax.Array, axes: tuple[int, int], size: tuple[int, int]) -> jax.Array:
    height, width = x.shape[axes[0]], x.shape[axes[1]]
    crop_h = max(min(height, int(float(width * size[0]) / size[1])), 1)
    crop_w = max(min(width, int(float(height * size[1]) / size[0])), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    x = jax.lax.slice_in_dim(x, top, top + crop_h, axis=axes[0])
    return jax.lax.slice_in_dim(x, left, left + crop_w, axis=axes[1])


def _pad_to_ratio(x: jax.Array, axes: tuple[int, int], size: tuple[int, int],
                  fill_value: float) -> jax.Array:
    height, width = x.shape[axes[0]], x.shape[axes[1]]
    pad_h = max(height, int(float(width * size[0]) / size[1]))
    pad_w = max(width, int(float(height * size[1]) / size[0]))
    top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
    widths = [(0, 0)] * x.ndim
    widths[axes[0]] = (top, pad_h - height - top)
    widths[axes[1]] = (left, pad_w - width - left)
    return jnp.pad(x, widths, constant_values=fill_value)


def resize(images: Any, size: Any, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_mode: str = "constant", fill_value: float = 0.0,
           data_format: str | None = None) -> jax.Array:
    """`images` resized to `size = (height, width)` with Keras's interpolation names.

    `pad_to_aspect_ratio` pads to the target ratio exactly (an odd extra row or column goes
    below / right); Keras 3.15 pads `floor(n / 2)` on both sides, missing the ratio by one.

    >>> resize(jnp.ones((1, 2, 2, 1)), (4, 4), interpolation="nearest").shape
    (1, 4, 4, 1)
    """
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"resize: expected interpolation in {_INTERPOLATIONS}; received "
                         f"interpolation={interpolation!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: pass only one of crop_to_aspect_ratio and "
                         "pad_to_aspect_ratio; received both True.")
    x = jnp.asarray(images)
    size = tuple(size)
    if len(size) != 2:
        raise ValueError(f"resize: expected size=(height, width); received size={size!r}.")
    axes = _spatial_axes(x, data_format)
    if crop_to_aspect_ratio:
        x = _crop_to_ratio(x, axes, size)
    elif pad_to_aspect_ratio:
        x = _pad_to_ratio(x, axes, size, fill_value)
    shape = list(x.shape)
    shape[axes[0]], shape[axes[1]] = size
    return jax.image.resize(x, tuple(shape), method=interpolation, antialias=antialias)


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> jax.Array:
    """One grey channel from RGB `images` (ITU-R 601 weights, as Keras).

    >>> rgb_to_grayscale(jnp.ones((1, 1, 3))).shape
    (1, 1, 1)
    """
    x = jnp.asarray(images)
    channel = _spatial_axes(x, data_format)[0] - 1 if data_format == "channels_first" else -1
    if x.shape[channel] == 1:
        return x
    xf = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    gray = jnp.tensordot(xf, jnp.asarray(_GRAY_WEIGHTS, xf.dtype), axes=(channel, -1))
    return jnp.expand_dims(gray, channel).astype(x.dtype)


def _box(images: jax.Array, axes: tuple[int, int], starts: tuple[Any, Any],
         ends: tuple[Any, Any], targets: tuple[Any, Any]) -> list[tuple[int, int]]:
    """(before, after) per spatial axis from Keras's top/left/bottom/right/target arguments."""
    out = []
    for axis, start, end, target in zip(axes, starts, ends, targets):
        length = images.shape[axis]
        if start is None and end is None and target is not None:
            raise ValueError("expected one of the two paddings/croppings of an axis with its "
                             "target size; received a target size alone.")
        if target is not None:
            start = target - length - end if start is None else start
            end = target - length - start if end is None else end
        out.append((start or 0, end or 0))
    return out


def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None,
               target_height: int | None = None, target_width: int | None = None,
               data_format: str | None = None) -> jax.Array:
    """`images` zero-padded on each side (or to `target_height` / `target_width`).

    >>> pad_images(jnp.ones((2, 2, 1)), 1, 1, target_height=4, target_width=4).shape
    (4, 4, 1)
    """
    x = jnp.asarray(images)
    axes = _spatial_axes(x, data_format)
    (t, b), (lf, r) = _box(x, axes, (top_padding, left_padding),
                           (bottom_padding, right_padding), (target_height, target_width))
    if min(t, b, lf, r) < 0:
        raise ValueError(f"pad_images: the paddings must be >= 0; received "
                         f"top={t}, bottom={b}, left={lf}, right={r}.")
    widths = [(0, 0)] * x.ndim
    widths[axes[0]], widths[axes[1]] = (t, b), (lf, r)
    return jnp.pad(x, widths)


def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None,
                target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> jax.Array:
    """`images` cropped on each side (or to `target_height` / `target_width`).

    >>> crop_images(jnp.ones((4, 4, 1)), 1, 1, target_height=2, target_width=2).shape
    (2, 2, 1)
    """
    x = jnp.asarray(images)
    axes = _spatial_axes(x, data_format)
    shape = x.shape
    ends_from_target = [None if tgt is None or start is None else shape[a] - tgt - start
                        for a, tgt, start in zip(axes, (target_height, target_width),
                                                 (top_cropping, left_cropping))]
    bottom = bottom_cropping if bottom_cropping is not None else ends_from_target[0]
    right = right_cropping if right_cropping is not None else ends_from_target[1]
    top, left, bottom, right = top_cropping or 0, left_cropping or 0, bottom or 0, right or 0
    x = jax.lax.slice_in_dim(x, top, shape[axes[0]] - bottom, axis=axes[0])
    return jax.lax.slice_in_dim(x, left, shape[axes[1]] - right, axis=axes[1])


def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: int = 1,
                    padding: str = "valid", data_format: str | None = None) -> jax.Array:
    """Patches of `size` as channels: `(..., rows, cols, size_h * size_w * channels)`.

    >>> extract_patches(jnp.ones((1, 4, 4, 1)), 2).shape
    (1, 2, 2, 4)
    """
    x = jnp.asarray(images)
    size = (size, size) if isinstance(size, int) else tuple(size)
    strides = size if strides is None else (
        (strides, strides) if isinstance(strides, int) else tuple(strides))
    batched = x.ndim == 4
    x = x if batched else x[None]
    first = data_format == "channels_first"
    channels = x.shape[1] if first else x.shape[-1]
    kernel = jnp.eye(size[0] * size[1] * channels, dtype=x.dtype).reshape(
        size[0], size[1], channels, -1)
    dn = ("NCHW", "HWIO", "NCHW") if first else ("NHWC", "HWIO", "NHWC")
    out = jax.lax.conv_general_dilated(x, kernel, strides, padding.upper(),
                                       rhs_dilation=(dilation_rate, dilation_rate),
                                       dimension_numbers=dn)
    return out if batched else out[0]


def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0) -> jax.Array:
    """`inputs` sampled at `coordinates` (order 0: nearest, 1: linear), as SciPy.

    >>> map_coordinates(jnp.arange(3.0), jnp.array([[0.5]]), 1).tolist()
    [0.5]
    """
    return jax.scipy.ndimage.map_coordinates(jnp.asarray(inputs), list(jnp.asarray(coordinates)),
                                             order, mode=fill_mode, cval=fill_value)


_CUSTOM = (resize, rgb_to_grayscale, pad_images, crop_images, extract_patches, map_coordinates)

__all__ = export(globals(), {}, (*_CUSTOM, *_image_extra.CUSTOM, *_image_warp.CUSTOM),
                 "kiln.ops.image")
