"""Per-sample metric functions with Keras's formulas: the accuracies, and the registry.

Each returns one value per element of the batch's leading axes (the last axis is reduced
where the formula says so); `MeanMetricWrapper` averages them. The regression errors, the
cross-entropies and the hinge family are the loss functions themselves, imported from
`kiln.losses`, as Keras's metrics import them from `keras.losses`.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from .. import _config
from ..losses import (  # noqa: F401  (re-exported: keras.metrics exports these functions)
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
)
from ._correlation import concordance_correlation, pearson_correlation
from ._shapes import match_rank


def _floatx_equal(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.equal(a, b).astype(_config.floatx())


def _pred_and_true(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    """y_pred as an array; y_true cast to y_pred's dtype (Keras's order of conversion)."""
    y_pred = jnp.asarray(y_pred)
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where `y_true == y_pred` exactly, else 0.0 (ranks aligned first)."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    y_true, y_pred = match_rank(y_true, y_pred)
    return _floatx_equal(y_true, y_pred)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> jax.Array:
    """1.0 where `(y_pred > threshold) == y_true`; the comparison is strict, as in Keras.

    Args:
        y_true: labels (0/1), shape (N,) or (N, ...).
        y_pred: scores or probabilities of the same shape (a trailing 1 may differ).
        threshold: a prediction is positive when strictly greater than this.

    Returns:
        Per-element matches in floatx.
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    y_true, y_pred = match_rank(y_true, y_pred)
    predicted = (y_pred > threshold).astype(y_true.dtype)
    return _floatx_equal(y_true, predicted)


def categorical_accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where `argmax(y_true, -1) == argmax(y_pred, -1)` (one-hot labels)."""
    y_pred = jnp.asarray(y_pred)
    labels = jnp.argmax(jnp.asarray(y_true), axis=-1).astype(y_pred.dtype)
    if labels.ndim == y_pred.ndim:
        labels = jnp.squeeze(labels, -1)
    predicted = jnp.argmax(y_pred, axis=-1).astype(labels.dtype)
    return _floatx_equal(labels, predicted)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where the integer label equals `argmax(y_pred, -1)`.

    Labels may have shape (N,) or (N, 1) and may be floats (compared after casting to the
    prediction dtype, as Keras does). A trailing size-1 axis of the result is dropped.
    """
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    original_shape = y_true.shape
    squeezed = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if squeezed:
        y_true = jnp.squeeze(y_true, -1)
    predicted = jnp.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = _floatx_equal(y_true, predicted)
    if squeezed:
        matches = matches.reshape(original_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = jnp.squeeze(matches, -1)
    return matches


def _in_top_k(labels: jax.Array, scores: jax.Array, k: int) -> jax.Array:
    """True where the label's score ranks within the top `k`; ties count in its favour."""
    at_label = jnp.take_along_axis(scores, labels[..., None], axis=-1)
    # A NaN score at the label never counts as large (Keras's JAX backend does the same).
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    rank = 1 + jnp.sum(scores > at_label, axis=-1)
    return rank <= k


def _flatten_for_top_k(labels: jax.Array, scores: jax.Array
                       ) -> tuple[jax.Array, jax.Array, tuple[int, ...] | None]:
    shape = labels.shape if labels.ndim > 1 else None
    if scores.ndim > 2:
        scores = scores.reshape(-1, scores.shape[-1])
    if labels.ndim > 1:
        labels = labels.reshape(-1)
    return labels, scores, shape


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> jax.Array:
    """1.0 where the one-hot label's class is among the `k` highest predictions."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    labels = jnp.argmax(y_true, axis=-1)
    labels, scores, shape = _flatten_for_top_k(labels, y_pred)
    matches = _in_top_k(labels.astype(jnp.int32), scores, k).astype(_config.floatx())
    return matches.reshape(shape) if shape is not None else matches


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5,
                                      from_sorted_ids: bool = False) -> jax.Array:
    """1.0 where the integer label is among the `k` highest predictions.

    With `from_sorted_ids=True`, `y_pred` holds class ids sorted by score and the label
    is looked up among its first `k` columns.
    """
    y_pred = jnp.asarray(y_pred)
    labels = jnp.asarray(y_true).astype(y_pred.dtype if from_sorted_ids else jnp.int32)
    labels, scores, shape = _flatten_for_top_k(labels, y_pred)
    if from_sorted_ids:
        matches = jnp.any(labels[:, None] == scores[:, :k], axis=1)
    else:
        matches = _in_top_k(labels, scores, k)
    matches = matches.astype(_config.floatx())
    return matches.reshape(shape) if shape is not None else matches


# Functions that `keras.metrics` exports, by name (also used to save wrapped metrics).
FUNCTIONS: dict[str, Callable] = {
    fn.__name__: fn for fn in (
        binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
        mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
        binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
        categorical_focal_crossentropy, sparse_categorical_crossentropy, kl_divergence,
        poisson, hinge, squared_hinge, categorical_hinge, huber, log_cosh,
        pearson_correlation, concordance_correlation,
    )
}
