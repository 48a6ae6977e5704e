"""More of Keras's `keras.ops.image`: colour spaces, filters, affine warps, 3-D patches.

Images are `(height, width, channels)` or batched `(batch, height, width, channels)`;
`data_format="channels_first"` puts channels before the spatial axes.

>>> import jax.numpy as jnp
>>> rgb_to_hsv(jnp.array([[[1.0, 0.0, 0.0]]])).tolist()
[[[0.0, 1.0, 1.0]]]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

_ORDERS = {"nearest": 0, "bilinear": 1}
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_SCALE_METHODS = ("linear", "bilinear", "trilinear", "triangle", "cubic", "bicubic",
                  "tricubic", "lanczos3", "lanczos5")


def _float_images(images: Any, name: str) -> jax.Array:
    x = jnp.asarray(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected images of rank 3 (H, W, C) or 4 (N, H, W, C); "
                         f"received shape {x.shape}.")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{name}: expected float images; received dtype {x.dtype}. "
                         f"Fix: cast first, e.g. ops.cast(images, 'float32').")
    return x


def _channels_last(x: jax.Array, data_format: str | None) -> jax.Array:
    return jnp.moveaxis(x, -3, -1) if data_format == "channels_first" else x


def _restore(x: jax.Array, data_format: str | None) -> jax.Array:
    return jnp.moveaxis(x, -1, -3) if data_format == "channels_first" else x


def rgb_to_hsv(images: Any, data_format: str | None = None) -> jax.Array:
    """RGB `images` (floats in [0, 1]) as hue, saturation, value (each in [0, 1]).

    >>> rgb_to_hsv(jnp.array([[[0.0, 0.5, 0.5]]])).tolist()
    [[[0.5, 1.0, 0.5]]]
    """
    x = _channels_last(_float_images(images, "rgb_to_hsv"), data_format)
    x = jnp.where(jnp.abs(x) < jnp.finfo(x.dtype).eps, 0.0, x)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1.0), 0.0)
    scale = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1.0))
    hue = jnp.where(value == g, scale * (b - r) + 2.0 / 6.0, scale * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, scale * (g - b), hue)
    hue = jnp.where(spread > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return _restore(jnp.stack([hue, saturation, value], -1), data_format)


def hsv_to_rgb(images: Any, data_format: str | None = None) -> jax.Array:
    """HSV `images` (each channel in [0, 1]) as RGB.

    >>> hsv_to_rgb(jnp.array([[[0.5, 1.0, 0.5]]])).tolist()
    [[[0.0, 0.5, 0.5]]]
    """
    x = _channels_last(_float_images(images, "hsv_to_rgb"), data_format)
    hue, saturation, value = x[..., 0], x[..., 1], x[..., 2]
    sixth = jnp.mod(hue, 1.0) * 6.0
    ramps = (jnp.clip(jnp.abs(sixth - 3.0) - 1.0, 0.0, 1.0),
             jnp.clip(2.0 - jnp.abs(sixth - 2.0), 0.0, 1.0),
             jnp.clip(2.0 - jnp.abs(sixth - 4.0), 0.0, 1.0))
    rgb = [value * (1.0 - saturation + saturation * ramp) for ramp in ramps]
    return _restore(jnp.stack(rgb, -1), data_format)


def _depthwise_same(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Each channel of NHWC `x` convolved with the 2-D `kernel`, zero 'same' padding."""
    channels = x.shape[-1]
    rhs = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels)).astype(x.dtype)
    return jax.lax.conv_general_dilated(x, rhs, (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        feature_group_count=channels)


def _batched(x: jax.Array) -> tuple[jax.Array, bool]:
    return (x, False) if x.ndim == 4 else (x[None], True)


def _gaussian_1d(size: int, sigma: Any, dtype: Any) -> jax.Array:
    t = jnp.arange(size, dtype=dtype) - (size - 1) / 2
    weights = jnp.exp(-0.5 * (t / jnp.asarray(sigma, dtype)) ** 2)
    return weights / jnp.sum(weights)


def gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                  data_format: str | None = None) -> jax.Array:
    """`images` blurred by a Gaussian of `kernel_size = (height, width)` and `sigma`.

    Zero padding keeps the size. Keras 3.15 applies `kernel_size[0]` / `sigma[0]` along the
    width (against its own docs), and with `data_format=None` skips its channels-last
    transpose; kiln applies them along the height, as documented, and defaults to
    channels_last.

    >>> gaussian_blur(jnp.ones((1, 4, 4, 1)))[0, 1, 1, 0].round(4).item()
    1.0
    """
    x = _channels_last(_float_images(images, "gaussian_blur"), data_format)
    x, squeeze = _batched(x)
    kernel = jnp.outer(_gaussian_1d(kernel_size[0], sigma[0], x.dtype),
                       _gaussian_1d(kernel_size[1], sigma[1], x.dtype))
    out = _depthwise_same(x, kernel)
    return _restore(out[0] if squeeze else out, data_format)


def sobel_edges(images: Any, data_format: str | None = None) -> jax.Array:
    """Sobel gradients of `images`, stacked last as `(..., channels, 2)`: `[dy, dx]`.

    >>> sobel_edges(jnp.ones((1, 3, 3, 1))).shape
    (1, 3, 3, 1, 2)
    """
    x = _channels_last(_float_images(images, "sobel_edges"), data_format)
    x, squeeze = _batched(x)
    dx = jnp.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    edges = [_restore(_depthwise_same(x, k), data_format) for k in (dx.T, dx)]
    out = jnp.stack(edges, -1)
    return out[0] if squeeze else out


def scale_and_translate(images: Any, output_shape: Any, scale: Any, translation: Any,
                        spatial_dims: Any, method: str, antialias: bool = True) -> jax.Array:
    """`jax.image.scale_and_translate` with Keras's argument order.

    >>> scale_and_translate(jnp.ones((2, 2)), (4, 4), jnp.array([2.0, 2.0]),
    ...                     jnp.zeros(2), (0, 1), "linear").shape
    (4, 4)
    """
    if method not in _SCALE_METHODS:
        raise ValueError(f"scale_and_translate: expected method in {_SCALE_METHODS}; "
                         f"received method={method!r}.")
    return jax.image.scale_and_translate(jnp.asarray(images), tuple(output_shape),
                                         tuple(spatial_dims), jnp.asarray(scale),
                                         jnp.asarray(translation), method, antialias)


def _warp_one(image: jax.Array, transform: jax.Array, order: int, fill_mode: str,
              fill_value: Any) -> jax.Array:
    """One HWC image sampled where the 8-parameter projective `transform` sends each pixel."""
    a0, a1, a2, b0, b1, b2, c0, c1 = (transform[i] for i in range(8))
    rows, cols = jnp.meshgrid(jnp.arange(image.shape[0], dtype=image.dtype),
                              jnp.arange(image.shape[1], dtype=image.dtype), indexing="ij")
    k = c0 * cols + c1 * rows + 1.0
    src_cols, src_rows = (a0 * cols + a1 * rows + a2) / k, (b0 * cols + b1 * rows + b2) / k

    def sample(channel: jax.Array) -> jax.Array:
        return jax.scipy.ndimage.map_coordinates(channel, [src_rows, src_cols], order,
                                                 mode=fill_mode, cval=fill_value)

    return jax.vmap(sample, in_axes=-1, out_axes=-1)(image)


def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: Any = 0,
                     data_format: str | None = None) -> jax.Array:
    """`images` warped by `transform = [a0, a1, a2, b0, b1, b2, c0, c1]` (one or per image).

    Output pixel `(x, y)` reads input `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`,
    `k = c0 x + c1 y + 1`, as TensorFlow's projective transforms. Keras 3.15's JAX backend
    multiplies `c0, c1` by the channel index instead; with `c0 = c1 = 0` the two agree.

    >>> affine_transform(jnp.ones((1, 2, 2, 1)), jnp.array([1.0, 0, 0, 0, 1, 0, 0, 0])).shape
    (1, 2, 2, 1)
    """
    if interpolation not in _ORDERS or fill_mode not in _FILL_MODES:
        raise ValueError(f"affine_transform: expected interpolation in {tuple(_ORDERS)} and "
                         f"fill_mode in {_FILL_MODES}; received {interpolation!r}, "
                         f"{fill_mode!r}.")
    x = _channels_last(jnp.asarray(images), data_format)
    x, squeeze = _batched(x)
    t = jnp.asarray(transform, x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else "float32")
    t = jnp.broadcast_to(t, (x.shape[0], 8)) if t.ndim == 1 else t
    out = jax.vmap(lambda img, tr: _warp_one(img, tr, _ORDERS[interpolation], fill_mode,
                                             fill_value))(x, t)
    return _restore(out[0] if squeeze else out, data_format)


def _triple(value: Any) -> tuple[int, int, int]:
    return (value,) * 3 if isinstance(value, int) else tuple(value)


def extract_patches_3d(volumes: Any, size: Any, strides: Any = None, dilation_rate: Any = 1,
                       padding: str = "valid", data_format: str | None = None) -> jax.Array:
    """3-D patches of `size` as channels: `(..., d, h, w, size_d * size_h * size_w * C)`.

    >>> extract_patches_3d(jnp.ones((1, 4, 4, 4, 1)), 2).shape
    (1, 2, 2, 2, 8)
    """
    x = jnp.asarray(volumes)
    size = _triple(size)
    strides = size if strides is None else _triple(strides)
    batched = x.ndim == 5
    x = x if batched else x[None]
    first = data_format == "channels_first"
    channels = x.shape[1] if first else x.shape[-1]
    kernel = jnp.eye(size[0] * size[1] * size[2] * channels, dtype=x.dtype).reshape(
        *size, channels, -1)
    dn = ("NCDHW", "DHWIO", "NCDHW") if first else ("NDHWC", "DHWIO", "NDHWC")
    out = jax.lax.conv_general_dilated(x, kernel, strides, padding.upper(),
                                       rhs_dilation=_triple(dilation_rate),
                                       dimension_numbers=dn)
    return out if batched else out[0]


CUSTOM = (rgb_to_hsv, hsv_to_rgb, gaussian_blur, sobel_edges, scale_and_translate,
          affine_transform, extract_patches_3d)
