"""Keras's `keras.ops.nn`: activations, normalizations, losses, convolutions and pooling.

>>> from kiln.ops import nn
>>> nn.relu(-1.0).item()
0.0
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from . import _nn_blocks, _nn_conv
from ._wrap import as_float, export, floatx

_EPSILON = 1e-7  # Keras's backend.epsilon()

# Keras name -> jax.nn function with the same positional signature and defaults.
_SAME_SIGNATURE: dict[str, Callable] = {
    "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "relu6": jax.nn.relu6,
    "softplus": jax.nn.softplus, "softsign": jax.nn.soft_sign,
    "silu": jax.nn.silu, "swish": jax.nn.silu, "elu": jax.nn.elu, "selu": jax.nn.selu,
    "celu": jax.nn.celu, "gelu": jax.nn.gelu, "glu": jax.nn.glu,
    "hard_sigmoid": jax.nn.hard_sigmoid, "hard_silu": jax.nn.hard_silu,
    "hard_swish": jax.nn.hard_silu, "hard_tanh": jax.nn.hard_tanh,
    "log_sigmoid": jax.nn.log_sigmoid, "softmax": jax.nn.softmax,
    "log_softmax": jax.nn.log_softmax, "squareplus": jax.nn.squareplus,
    "sparse_plus": jax.nn.sparse_plus, "sparse_sigmoid": jax.nn.sparse_sigmoid,
}


def leaky_relu(x: Any, negative_slope: float = 0.2) -> jax.Array:
    """`x` if `x >= 0` else `negative_slope * x` (Keras's default slope is 0.2).

    >>> round(leaky_relu(-1.0).item(), 4)
    -0.2
    """
    return jax.nn.leaky_relu(x, negative_slope=negative_slope)


def hard_shrink(x: Any, threshold: float = 0.5) -> jax.Array:
    """`x` where `|x| > threshold`, else 0.

    >>> hard_shrink(jnp.array([0.2, 1.0])).tolist()
    [0.0, 1.0]
    """
    x = as_float(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0).astype(x.dtype)


def soft_shrink(x: Any, threshold: float = 0.5) -> jax.Array:
    """`x` moved `threshold` towards 0, and 0 where `|x| <= threshold`.

    >>> soft_shrink(jnp.array([0.2, 1.0])).tolist()
    [0.0, 0.5]
    """
    x = as_float(x)
    return jnp.where(x > threshold, x - threshold,
                     jnp.where(x < -threshold, x + threshold, 0.0)).astype(x.dtype)


def tanh_shrink(x: Any) -> jax.Array:
    """`x - tanh(x)`.

    >>> tanh_shrink(0.0).item()
    0.0
    """
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def threshold(x: Any, threshold: float, default_value: float) -> jax.Array:
    """`x` where `x > threshold`, else `default_value`.

    >>> threshold(jnp.array([0.0, 2.0]), 1.0, -1.0).tolist()
    [-1.0, 2.0]
    """
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x, default_value)


def sparsemax(x: Any, axis: int = -1) -> jax.Array:
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex.

    >>> sparsemax(jnp.array([1.0, 0.0])).tolist()
    [1.0, 0.0]
    """
    x = jnp.asarray(x)
    ordered = -jnp.sort(-x, axis=axis)
    cums = jnp.cumsum(ordered, axis=axis)
    rank_shape = [1] * x.ndim
    rank_shape[axis] = -1
    rank = jnp.arange(1, x.shape[axis] + 1).reshape(rank_shape)
    support = ordered - (cums - 1) / rank > 0
    k = jnp.sum(support, axis=axis, keepdims=True)
    tau = (jnp.take_along_axis(cums, k - 1, axis=axis) - 1) / k
    return jnp.maximum(x - tau, 0.0)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
            sparse: bool = False) -> jax.Array:
    """One-hot encoding of integer `x`; out-of-range values give all-zero rows.

    >>> one_hot(jnp.array([1]), 2).tolist()
    [[0.0, 1.0]]
    """
    if sparse:
        raise ValueError("kiln.ops.one_hot does not support sparse=True; use sparse=False.")
    return jax.nn.one_hot(x, num_classes, dtype=floatx(dtype), axis=axis)


def multi_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
              sparse: bool = False) -> jax.Array:
    """Multi-hot encoding: per row of integer `x`, 1 at each listed class.

    >>> multi_hot(jnp.array([[0, 2]]), 3).tolist()
    [[1.0, 0.0, 1.0]]
    """
    if sparse:
        raise ValueError("kiln.ops.multi_hot does not support sparse=True; use sparse=False.")
    x = jnp.asarray(x)
    encoded = jax.nn.one_hot(x.astype("int32"), num_classes, dtype=floatx(dtype), axis=axis)
    return jnp.max(encoded, axis=1 if x.ndim > 1 else 0)


def moments(x: Any, axes: Any, keepdims: bool = False,
            synchronized: bool = False) -> tuple[jax.Array, jax.Array]:
    """`(mean, variance)` of `x` over `axes` (half floats computed in float32).

    >>> [v.item() for v in moments(jnp.array([1.0, 3.0]), axes=[0])]
    [2.0, 1.0]
    """
    x = jnp.asarray(x)
    compute = jnp.promote_types(x.dtype, jnp.float32)
    xc = x.astype(compute)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    mean = jnp.mean(xc, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(xc), axis=axes, keepdims=True) - jnp.square(mean)
    variance = jnp.maximum(variance, 0.0)
    if not keepdims:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    out = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else compute
    return mean.astype(out), variance.astype(out)


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None,
                        scale: Any = None, epsilon: float = 1e-3) -> jax.Array:
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset` along `axis`.

    >>> batch_normalization(jnp.array([[2.0]]), jnp.array([1.0]), jnp.array([1.0]), 1,
    ...                     epsilon=0.0).tolist()
    [[1.0]]
    """
    x = jnp.asarray(x)
    shape = [1] * x.ndim
    shape[axis] = jnp.shape(mean)[0]
    inv = jax.lax.rsqrt(jnp.reshape(variance, shape) + epsilon)
    if scale is not None:
        inv = inv * jnp.reshape(scale, shape)
    res = -jnp.reshape(mean, shape) * inv
    if offset is not None:
        res = res + jnp.reshape(offset, shape)
    return x * inv + res


def _norm_axes(axis: Any) -> Any:
    return tuple(sorted(axis)) if isinstance(axis, (list, tuple)) else axis


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1,
                        epsilon: float | None = None, **kwargs: Any) -> jax.Array:
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over `axis` (computed in >= float32).

    >>> layer_normalization(jnp.array([1.0, 3.0])).round(3).tolist()
    [-1.0, 1.0]
    """
    eps = _EPSILON if epsilon is None else epsilon
    x = jnp.asarray(x)
    xc = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    mean, var = moments(xc, _norm_axes(axis) if isinstance(axis, (list, tuple)) else [axis],
                        keepdims=True)
    out = (xc - mean) * jax.lax.rsqrt(var + eps)
    if gamma is not None:
        out = out * jnp.asarray(gamma, xc.dtype)
    if beta is not None:
        out = out + jnp.asarray(beta, xc.dtype)
    return out.astype(x.dtype)


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1,
                      epsilon: float | None = None) -> jax.Array:
    """`x * rsqrt(mean(x**2, axis) + epsilon) * scale` (computed in >= float32).

    >>> rms_normalization(jnp.array([1.0, 1.0])).round(3).tolist()
    [1.0, 1.0]
    """
    eps = _EPSILON if epsilon is None else epsilon
    x = jnp.asarray(x)
    xc = jnp.atleast_1d(x.astype(jnp.promote_types(x.dtype, jnp.float32)))
    out = xc * jax.lax.rsqrt(jnp.mean(jnp.square(xc), axis=_norm_axes(axis), keepdims=True)
                             + eps)
    if scale is not None:
        out = out * jnp.asarray(scale, xc.dtype)
    return out.astype(x.dtype)


def normalize(x: Any, axis: Any = -1, order: int = 2, epsilon: float | None = None) -> jax.Array:
    """`x / max(norm(x, order, axis), epsilon)`.

    >>> normalize(jnp.array([3.0, 4.0])).tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: expected `order` an int >= 1; received order={order!r}.")
    eps = _EPSILON if epsilon is None else epsilon
    x = jnp.atleast_1d(as_float(x))
    if order == 2:
        inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        return x * jnp.minimum(inv, 1.0 / eps)
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, eps)


def polar(abs: Any, angle: Any) -> jax.Array:
    """The complex number `abs * exp(1j * angle)`.

    >>> polar(1.0, 0.0).item()
    (1+0j)
    """
    return jax.lax.complex(abs * jnp.cos(angle), abs * jnp.sin(angle))


def psnr(x1: Any, x2: Any, max_val: float) -> jax.Array:
    """Peak signal-to-noise ratio: `20 log10(max_val) - 10 log10(mse(x1, x2))`.

    >>> round(psnr(jnp.zeros(2), jnp.full(2, 0.1), 1.0).item(), 3)
    20.0
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"psnr: expected x1 and x2 of the same shape; received {x1.shape} "
                         f"and {x2.shape}. Resize one of them.")
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(jnp.asarray(max_val, x2.dtype)) - 10 * jnp.log10(mse)


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> jax.Array:
    """Elementwise binary cross-entropy (probabilities clipped to [eps, 1 - eps]).

    >>> round(binary_crossentropy(jnp.array([1.0]), jnp.array([0.5]))[0].item(), 4)
    0.6931
    """
    target, output = jnp.asarray(target), jnp.asarray(output)
    if from_logits:
        log_p, log_q = jax.nn.log_sigmoid(output), jax.nn.log_sigmoid(-output)
        return -(target * log_p + (1 - target) * log_q)
    output = jnp.clip(output, _EPSILON, 1.0 - _EPSILON)
    return -(target * jnp.log(output) + (1 - target) * jnp.log(1 - output))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> jax.Array:
    """Cross-entropy between one-hot `target` and `output` along `axis`.

    >>> round(categorical_crossentropy(jnp.array([0.0, 1.0]), jnp.array([0.5, 0.5])).item(), 4)
    0.6931
    """
    target, output = jnp.asarray(target), jnp.asarray(output)
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis=axis, keepdims=True)
        log_prob = jnp.log(jnp.clip(output, _EPSILON, 1.0 - _EPSILON))
    return -jnp.sum(target * log_prob, axis=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> jax.Array:
    """Cross-entropy between integer `target` and `output` along `axis`.

    >>> round(sparse_categorical_crossentropy(jnp.array([1]), jnp.array([[0.5, 0.5]]))[0]
    ...       .item(), 4)
    0.6931
    """
    target, output = jnp.asarray(target), jnp.asarray(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, axis=-1)
    hot = jax.nn.one_hot(target.astype("int32"), output.shape[axis], axis=axis,
                         dtype=output.dtype)
    return categorical_crossentropy(hot, output, from_logits=from_logits, axis=axis)


_CUSTOM = (leaky_relu, hard_shrink, soft_shrink, tanh_shrink, threshold, sparsemax, one_hot,
           multi_hot, moments, batch_normalization, layer_normalization, rms_normalization,
           normalize, polar, psnr, binary_crossentropy, categorical_crossentropy,
           sparse_categorical_crossentropy, *_nn_conv.CUSTOM, *_nn_blocks.CUSTOM)

__all__ = export(globals(), _SAME_SIGNATURE, _CUSTOM, "kiln.ops.nn")
