"""Keras's `keras.ops.image` warps and metrics: `perspective_transform`, `elastic_transform`,
`ssim`.

Images are `(height, width, channels)` or batched `(batch, height, width, channels)`;
`data_format="channels_first"` puts channels before the spatial axes.

>>> import jax.numpy as jnp
>>> float(ssim(jnp.ones((8, 8, 1)), jnp.ones((8, 8, 1)), filter_size=3))
1.0
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config
from ..random import _key as _random_key
from ._image_extra import _depthwise_same, affine_transform

_ORDERS = {"nearest": 0, "bilinear": 1}
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _images(images: Any, name: str) -> jax.Array:
    x = jnp.asarray(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected images of rank 3 (H, W, C) or 4 (N, H, W, C); "
                         f"received shape {x.shape}.")
    return x


def _check_interpolation(name: str, interpolation: str) -> None:
    if interpolation not in _ORDERS:
        raise ValueError(f"{name}: expected interpolation in {tuple(_ORDERS)}; received "
                         f"interpolation={interpolation!r}.")


def _points(points: Any, name: str) -> jax.Array:
    p = jnp.asarray(points, jnp.float32)
    if p.ndim not in (2, 3) or p.shape[-2:] != (4, 2):
        raise ValueError(f"perspective_transform: expected {name} of shape (4, 2) or "
                         f"(N, 4, 2) (four (x, y) corners); received shape {p.shape}.")
    return p if p.ndim == 3 else p[None]


def homography(start_points: Any, end_points: Any) -> jax.Array:
    """The 8 projective coefficients (one row per point set) that send each of the four
    `end_points` back to its `start_points`: output pixel `(x, y)` reads the input at
    `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`, `k = c0 x + c1 y + 1`.

    >>> corners = jnp.array([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0], [4.0, 3.0]])
    >>> homography(corners, corners + 1.0).round(4).tolist()
    [[1.0, 0.0, -1.0, 0.0, 1.0, -1.0, 0.0, 0.0]]
    """
    start, end = _points(start_points, "start_points"), _points(end_points, "end_points")
    (sx, sy), (ex, ey) = (start[..., 0], start[..., 1]), (end[..., 0], end[..., 1])
    zeros, ones = jnp.zeros_like(ex), jnp.ones_like(ex)
    x_rows = jnp.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    y_rows = jnp.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    system = jnp.concatenate([x_rows, y_rows], axis=1)
    target = jnp.concatenate([sx, sy], axis=-1)[..., None]
    return jnp.linalg.solve(system, target)[..., 0]


def perspective_transform(images: Any, start_points: Any, end_points: Any,
                          interpolation: str = "bilinear", fill_value: Any = 0,
                          data_format: str | None = None) -> jax.Array:
    """`images` warped so that each of the four `start_points` (x, y) lands on its
    `end_points`; pixels from outside the input get `fill_value`.

    Points are `(4, 2)` (one set for every image) or `(N, 4, 2)` (one per image). Keras
    3.15 needs a batch of images to come with a batch of point sets of the same size;
    kiln also spreads one set over a batch.

    >>> corners = jnp.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    >>> x = jnp.arange(9.0).reshape(3, 3, 1)
    >>> y = perspective_transform(x, corners, corners + jnp.array([1.0, 0.0]))
    >>> [[round(v, 3) for v in row] for row in y[:, :, 0].tolist()]
    [[0.0, 0.0, 1.0], [0.0, 3.0, 4.0], [0.0, 6.0, 7.0]]
    """
    _check_interpolation("perspective_transform", interpolation)
    x = _images(images, "perspective_transform")
    start, end = jnp.asarray(start_points), jnp.asarray(end_points)
    if start.shape != end.shape:
        raise ValueError(f"perspective_transform: expected start_points and end_points of "
                         f"the same shape; received {start.shape} and {end.shape}.")
    batch = x.shape[0] if x.ndim == 4 else 1
    if _points(start, "start_points").shape[0] not in (1, batch):
        raise ValueError(f"perspective_transform: expected one point set or one per image "
                         f"({batch}); received {start.shape[0]}.")
    return _perspective_compiled(x, start, end, float(fill_value), interpolation, data_format)


@partial(jax.jit, static_argnums=(3, 4, 5))
def _perspective_compiled(x: jax.Array, start: jax.Array, end: jax.Array, fill_value: float,
                          interpolation: str, data_format: str | None) -> jax.Array:
    transform = homography(start, end)
    transform = transform[0] if x.ndim == 3 else jnp.broadcast_to(transform, (x.shape[0], 8))
    # Coordinates in float32 at least (Keras's), whatever the images' dtype.
    wide = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    out = affine_transform(wide, transform, interpolation, "constant", fill_value, data_format)
    if jnp.issubdtype(x.dtype, jnp.integer):
        out = jnp.round(out)
    return out.astype(x.dtype)


def _gaussian_kernel(sigma: jax.Array, size: int, dtype: Any) -> jax.Array:
    """Keras's `int(6 * sigma) | 1`-tap Gaussian, laid out on `size` >= that many taps
    (the outer ones weigh 0), so that a traced `sigma` needs only a static bound."""
    radius = (jnp.floor(6.0 * jnp.asarray(sigma, jnp.float32)).astype(jnp.int32) | 1) // 2
    sigma = jnp.maximum(jnp.asarray(sigma, dtype), jnp.finfo(dtype).tiny)
    t = jnp.arange(size, dtype=dtype) - (size - 1) / 2
    weights = jnp.where(jnp.abs(t) <= radius, jnp.exp(-0.5 * (t / sigma) ** 2), 0.0)
    weights = weights / jnp.sum(weights)
    return jnp.outer(weights, weights)


def kernel_taps(sigma: float) -> int:
    """The number of taps Keras's elastic blur uses for `sigma`: `int(6 * sigma) | 1`.

    >>> kernel_taps(5.0), kernel_taps(0.4)
    (31, 3)
    """
    return int(np.float32(6.0) * np.float32(sigma)) | 1


def elastic_warp(images: jax.Array, noise: jax.Array, alpha: Any, sigma: Any,
                 max_sigma: float, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: Any = 0.0,
                 data_format: str | None = None) -> jax.Array:
    """`images` (batched, float) resampled along a smooth random displacement: `noise` is
    `(2, batch, height, width)` standard normals (x then y), each scaled by `sigma`, blurred
    by Keras's Gaussian of `sigma` and scaled by `alpha`. `sigma` may be traced when
    `max_sigma` bounds it (the kernel's static size).

    >>> x = jnp.ones((1, 4, 4, 1))
    >>> elastic_warp(x, jnp.zeros((2, 1, 4, 4)), 2.0, 1.0, 1.0).shape
    (1, 4, 4, 1)
    """
    taps = kernel_taps(max_sigma) + 2  # 2 spare taps, so that rounding never cuts one
    return _elastic_compiled(images, noise, alpha, sigma, float(fill_value), taps,
                             _ORDERS[interpolation], fill_mode, data_format)


@partial(jax.jit, static_argnums=(4, 5, 6, 7, 8))
def _elastic_compiled(images: jax.Array, noise: jax.Array, alpha: Any, sigma: Any,
                      fill_value: Any, taps: int, order: int, fill_mode: str,
                      data_format: str | None) -> jax.Array:
    x = jnp.moveaxis(images, 1, -1) if data_format == "channels_first" else images
    dtype = x.dtype
    kernel = _gaussian_kernel(sigma, taps, dtype)
    fields = _depthwise_same(jnp.moveaxis(noise.astype(dtype), 0, -1) * sigma, kernel)
    rows, cols = jnp.meshgrid(jnp.arange(x.shape[1], dtype=dtype),
                              jnp.arange(x.shape[2], dtype=dtype), indexing="ij")
    src_cols = cols + jnp.asarray(alpha, dtype) * fields[..., 0]
    src_rows = rows + jnp.asarray(alpha, dtype) * fields[..., 1]

    def one(image: jax.Array, r: jax.Array, c: jax.Array) -> jax.Array:
        def channel(ch: jax.Array) -> jax.Array:
            return jax.scipy.ndimage.map_coordinates(ch, [r, c], order, mode=fill_mode,
                                                     cval=fill_value)
        return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

    out = jax.vmap(one)(x, src_rows, src_cols).astype(dtype)
    return jnp.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def _check_warp_args(interpolation: str, fill_mode: str) -> None:
    _check_interpolation("elastic_transform", interpolation)
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"elastic_transform: expected fill_mode in {_FILL_MODES}; received "
                         f"fill_mode={fill_mode!r}.")


def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0,
                      interpolation: str = "bilinear", fill_mode: str = "reflect",
                      fill_value: float = 0.0, seed: Any = None,
                      data_format: str | None = None) -> jax.Array:
    """`images` elastically deformed: each pixel reads the input at its position plus
    `alpha` times a random displacement field (normal noise times `sigma`, smoothed by an
    `int(6 sigma) | 1`-tap Gaussian of `sigma`), one field per image.

    `seed`: an int (Keras's key `[seed, 0]`), a `kiln.random.SeedGenerator`, a jax key, or
    None (the open scope's key stream). The x displacement is Keras's draw from that key;
    Keras 3.15 draws the y displacement from the same key, so every pixel moves along the
    diagonal, while kiln draws it from a second key (`fold_in(key, 1)`), for a 2-D field.
    `sigma` = 0 leaves the images as they are (Keras gives NaN).

    >>> elastic_transform(jnp.ones((2, 8, 8, 3)), alpha=2.0, sigma=1.0, seed=1).shape
    (2, 8, 8, 3)
    """
    _check_warp_args(interpolation, fill_mode)
    x = _images(images, "elastic_transform")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"elastic_transform: expected float images; received dtype "
                         f"{x.dtype}. Fix: cast first, e.g. ops.cast(images, 'float32').")
    squeeze = x.ndim == 3
    x = x[None] if squeeze else x
    axes = (2, 3) if data_format == "channels_first" else (1, 2)
    shape = (x.shape[0], x.shape[axes[0]], x.shape[axes[1]])
    key = _random_key(seed)
    noise = jnp.stack([jax.random.normal(key, shape, x.dtype),
                       jax.random.normal(jax.random.fold_in(key, 1), shape, x.dtype)])
    sigma = float(np.float32(sigma))
    out = elastic_warp(x, noise, alpha, sigma, sigma, interpolation, fill_mode, fill_value,
                       data_format)
    return out[0] if squeeze else out


def _ssim_inputs(image1: Any, image2: Any, filter_size: int, data_format: str | None) -> tuple:
    a, b = _images(image1, "ssim"), _images(image2, "ssim")
    if a.shape != b.shape:
        raise ValueError(f"ssim: expected image1 and image2 of the same shape; received "
                         f"{a.shape} and {b.shape}.")
    if not isinstance(filter_size, (int, np.integer)) or filter_size < 1:
        raise ValueError(f"ssim: expected filter_size a positive int; received "
                         f"{filter_size!r}. Pass e.g. filter_size=11.")
    spatial = a.shape[-2:] if data_format == "channels_first" else a.shape[-3:-1]
    if min(spatial) < filter_size:
        raise ValueError(f"ssim: expected images at least filter_size={filter_size} pixels "
                         f"high and wide; received {spatial[0]}x{spatial[1]}. Pass a "
                         f"smaller filter_size.")
    return a, b


def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
         data_format: str | None = None) -> jax.Array:
    """The structural similarity of two images (batched: one value per pair), averaged over
    the channels: local means, variances and covariance under a `filter_size` Gaussian
    window of `filter_sigma` (valid positions only), with `C1 = (k1 max_val)**2` and
    `C2 = (k2 max_val)**2`. The result has `image1`'s dtype, as in Keras.

    >>> x = jnp.linspace(0.0, 1.0, 64).reshape(8, 8, 1)
    >>> round(float(ssim(x, x, filter_size=3)), 4), round(float(ssim(x, x * 0.5, filter_size=3)), 2)
    (1.0, 0.65)
    """
    a, b = _ssim_inputs(image1, image2, filter_size, data_format)
    dtype = a.dtype if jnp.issubdtype(a.dtype, jnp.floating) else _config.floatx()
    squeeze = a.ndim == 3
    a, b = (v[None].astype(dtype) if squeeze else v.astype(dtype) for v in (a, b))
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    values = _ssim_compiled(a, b, c1, c2, filter_sigma, int(filter_size),
                            data_format == "channels_first")
    return (values[0] if squeeze else values).astype(jnp.asarray(image1).dtype)


@partial(jax.jit, static_argnums=(5, 6))
def _ssim_compiled(a: jax.Array, b: jax.Array, c1: Any, c2: Any, filter_sigma: Any,
                   filter_size: int, channels_first: bool) -> jax.Array:
    if not channels_first:
        a, b = (jnp.moveaxis(v, -1, 1) for v in (a, b))
    batch, channels, height, width = a.shape
    a, b = (v.reshape(batch * channels, height, width, 1) for v in (a, b))
    t = jnp.arange(filter_size, dtype=a.dtype) - (filter_size - 1) / 2.0
    g = jnp.exp(-(t ** 2) / (2.0 * jnp.asarray(filter_sigma, a.dtype) ** 2))
    kernel = jnp.outer(g / jnp.sum(g), g / jnp.sum(g))[:, :, None, None]

    def mean(v: jax.Array) -> jax.Array:
        return jax.lax.conv_general_dilated(v, kernel, (1, 1), "VALID",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    mu1, mu2 = mean(a), mean(b)
    var1, var2 = mean(a * a) - mu1 * mu1, mean(b * b) - mu2 * mu2
    cov = mean(a * b) - mu1 * mu2
    index = ((2.0 * mu1 * mu2 + c1) * (2.0 * cov + c2)) / (
        (mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2))
    return jnp.mean(index, axis=(1, 2, 3)).reshape(batch, channels).mean(axis=-1)


CUSTOM = (elastic_transform, perspective_transform, ssim)
