"""Regression, hinge and segmentation per-sample losses (Keras 3 formulas, JAX numerics).

The regression losses match the ranks of `y_true` and `y_pred` first (so a `(N,)` target
against an `(N, 1)` prediction works), then average over the last axis, as Keras does.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from .._config import epsilon
from ._crossentropy import as_float_pair
from ._reduction import squeeze_or_expand_to_same_rank


def _matched(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    return squeeze_or_expand_to_same_rank(*as_float_pair(y_true, y_pred))


def mean_squared_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean((y_true - y_pred)^2, axis=-1)`.

    Example:
        >>> mean_squared_error([[0.0, 2.0]], [[1.0, 0.0]]).tolist()
        [2.5]
    """
    y_true, y_pred = _matched(y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(|y_true - y_pred|, axis=-1)`."""
    y_true, y_pred = _matched(y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)`."""
    y_true, y_pred = _matched(y_true, y_pred)
    eps = jnp.asarray(epsilon(), y_pred.dtype)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), eps))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)`."""
    y_true, y_pred = _matched(y_true, y_pred)
    eps = epsilon()
    first = jnp.log(jnp.maximum(y_pred, eps) + 1.0)
    second = jnp.log(jnp.maximum(y_true, eps) + 1.0)
    return jnp.mean(jnp.square(first - second), axis=-1)


def _l2_normalize(x: jax.Array, axis: int) -> jax.Array:
    # Keras multiplies by rsqrt(sum(x^2)) capped at 1/eps, so a zero vector stays zero.
    inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv_norm, 1.0 / epsilon())


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Negative cosine similarity `-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`.

    Values lie in [-1, 1]; -1 means the vectors point the same way (the best case).
    """
    y_true, y_pred = _matched(y_true, y_pred)
    return -jnp.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> jax.Array:
    """Huber loss: `mean(0.5*e^2 if |e| <= delta else delta*|e| - 0.5*delta^2, axis=-1)`.

    `e = y_pred - y_true`; quadratic for small errors, linear for large ones.
    """
    y_true, y_pred = _matched(y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    quadratic = 0.5 * jnp.square(error)
    linear = delta * abs_error - 0.5 * jnp.square(delta)
    return jnp.mean(jnp.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably as
    `x + softplus(-2x) - log(2)`."""
    y_true, y_pred = _matched(y_true, y_pred)
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def _hinge_labels(y_true: jax.Array) -> jax.Array:
    # Keras maps {0, 1} labels to {-1, 1} only when EVERY label is 0 or 1; labels already in
    # {-1, 1} (or anything else) are used as they are.
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(max(1 - y_true * y_pred, 0), axis=-1)`; {0, 1} labels are mapped to {-1, 1}."""
    y_true, y_pred = as_float_pair(y_true, y_pred)
    return jnp.mean(jnp.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """`mean(max(1 - y_true * y_pred, 0)^2, axis=-1)`; {0, 1} labels are mapped to {-1, 1}."""
    y_true, y_pred = as_float_pair(y_true, y_pred)
    margin = jnp.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)
    return jnp.mean(jnp.square(margin), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """`max(neg - pos + 1, 0)` with `pos = sum(y*p)` and `neg = max((1-y)*p)` over the last axis.

    `y_true` is one-hot.
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, jnp.zeros((), y_pred.dtype))


def _axes(axis: Any) -> Any:
    # A tuple axis comes back from a JSON config as a list; jnp.sum needs a tuple.
    return tuple(axis) if isinstance(axis, list) else axis


def dice(y_true: Any, y_pred: Any, axis: int | tuple[int, ...] | None = None) -> jax.Array:
    """Dice loss `1 - 2*sum(y*p) / (sum(y) + sum(p) + eps)`, summed over `axis`.

    With the default `axis=None` the sums run over every element, so the result is one scalar
    for the whole batch (as in Keras); pass e.g. `axis=(1, 2, 3)` for per-image values.
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    axis = _axes(axis)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    denominator = jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + epsilon()
    return 1 - 2.0 * intersection / denominator


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5,
            axis: int | tuple[int, ...] | None = None) -> jax.Array:
    """Tversky loss `1 - TP / (TP + alpha*FP + beta*FN + eps)`, sums over `axis`.

    `TP = sum(y*p)`, `FP = sum((1-p)*y)`, `FN = sum(p*(1-y))` (Keras's definitions; note it
    names `y_true` the inputs and `y_pred` the targets). `alpha = beta = 0.5` gives Dice.
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    axis = _axes(axis)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum((1 - y_pred) * y_true, axis=axis)
    fn = jnp.sum(y_pred * (1 - y_true), axis=axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + epsilon())
