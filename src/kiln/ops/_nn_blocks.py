"""Keras `ops.nn` block rearrangements: depth/space shuffles and PyTorch-style fold/unfold.

>>> import jax.numpy as jnp
>>> depth_to_space(jnp.ones((1, 1, 1, 4)), 2).shape
(1, 2, 2, 1)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> jax.Array:
    """Move channel blocks into `block_size x block_size` spatial blocks (pixel shuffle).

    >>> depth_to_space(jnp.arange(4.0).reshape(1, 1, 1, 4), 2)[0, :, :, 0].tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    x, b = jnp.asarray(x), block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = jnp.reshape(x, (n, h, w, b, b, c // b**2)).transpose(0, 1, 3, 2, 4, 5)
        return jnp.reshape(x, (n, h * b, w * b, c // b**2))
    n, c, h, w = x.shape
    x = jnp.reshape(x, (n, c // b**2, b, b, h, w)).transpose(0, 1, 4, 2, 5, 3)
    return jnp.reshape(x, (n, c // b**2, h * b, w * b))


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> jax.Array:
    """Move `block_size x block_size` spatial blocks into channels (inverse of depth_to_space).

    >>> space_to_depth(jnp.ones((1, 2, 2, 1)), 2).shape
    (1, 1, 1, 4)
    """
    x, b = jnp.asarray(x), block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = jnp.reshape(x, (n, h // b, b, w // b, b, c)).transpose(0, 1, 3, 2, 4, 5)
        return jnp.reshape(x, (n, h // b, w // b, c * b * b))
    n, c, h, w = x.shape
    x = jnp.reshape(x, (n, c, h // b, b, w // b, b)).transpose(0, 1, 3, 5, 2, 4)
    return jnp.reshape(x, (n, c * b * b, h // b, w // b))


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> jax.Array:
    """Sliding blocks of an NCHW image as `(N, C * kH * kW, L)` (PyTorch's `unfold`).

    >>> unfold(jnp.ones((1, 1, 3, 3)), 2).shape
    (1, 4, 4)
    """
    x = jnp.asarray(input)
    ph, pw = _pair(padding)
    x = jnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    patches = jax.lax.conv_general_dilated_patches(
        x, filter_shape=_pair(kernel_size), window_strides=_pair(stride), padding="VALID",
        rhs_dilation=_pair(dilation), dimension_numbers=("NCHW", "OIHW", "NCHW"))
    n, ckk, oh, ow = patches.shape
    return patches.reshape(n, ckk, oh * ow)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> jax.Array:
    """Sum sliding blocks `(N, C * kH * kW, L)` back into an NCHW image (PyTorch's `fold`).

    >>> fold(jnp.ones((1, 4, 4)), 3, 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    x = jnp.asarray(x)
    (oh, ow), (kh, kw) = _pair(output_size), _pair(kernel_size)
    (dh, dw), (ph, pw), (sh, sw) = _pair(dilation), _pair(padding), _pair(stride)
    n, ckk, _ = x.shape
    c = ckk // (kh * kw)
    nh = (oh + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    nw = (ow + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    x = jnp.reshape(x, (n, ckk, nh, nw))
    kernel = jnp.eye(ckk, dtype=x.dtype).reshape(ckk, c, kh, kw).transpose(2, 3, 0, 1)
    out = jax.lax.conv_transpose(x, jnp.flip(kernel, axis=(0, 1)), (sh, sw), "VALID",
                                 rhs_dilation=(dh, dw),
                                 dimension_numbers=("NCHW", "HWIO", "NCHW"))
    return out[:, :, ph:ph + oh, pw:pw + ow]


CUSTOM = (depth_to_space, space_to_depth, unfold, fold)
