"""Per-sample correlation functions (`pearson_correlation`, `concordance_correlation`).

Kept apart from the metric classes so `_functions.FUNCTIONS` can list them without an
import cycle.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .. import _config
from ._shapes import match_rank


def _aligned(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    return match_rank(jnp.asarray(y_true).astype(y_pred.dtype), y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Pearson's r along `axis`: `mean(z(y_true) * z(y_pred), axis)`.

    `z(x) = (x - mean(x)) / std(x)` with the population standard deviation; a constant row
    gives NaN (as in Keras).

    Args:
        y_true: targets, shape (N, D).
        y_pred: predictions, same shape.
        axis: the axis correlated over.

    Returns:
        One coefficient per sample, in [-1, 1].

    Example:
        >>> round(float(pearson_correlation([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]])[0]), 4)
        0.9934
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    true_c = y_true - jnp.mean(y_true, axis=axis, keepdims=True)
    pred_c = y_pred - jnp.mean(y_pred, axis=axis, keepdims=True)
    true_z = true_c / jnp.std(true_c, axis=axis, keepdims=True)
    pred_z = pred_c / jnp.std(pred_c, axis=axis, keepdims=True)
    return jnp.mean(true_z * pred_z, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Lin's concordance correlation along `axis`, as Keras 3 computes it.

    `mean(2 * (y_true - mean(y_pred)) * (y_pred - mean(y_pred)) / (var(y_true) +
    var(y_pred) + (mean(y_true) - mean(y_pred))^2 + eps), axis)`. Note the covariance term
    centres `y_true` on the mean of `y_pred`; Keras does so and kiln matches its numbers.

    Args:
        y_true: targets, shape (N, D).
        y_pred: predictions, same shape.
        axis: the axis correlated over.

    Returns:
        One coefficient per sample.
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    true_mean = jnp.mean(y_true, axis=axis, keepdims=True)
    pred_mean = jnp.mean(y_pred, axis=axis, keepdims=True)
    true_var = jnp.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = jnp.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + jnp.square(true_mean - pred_mean)
    return jnp.mean(2 * covariance / (norm + _config.epsilon()), axis=axis)
