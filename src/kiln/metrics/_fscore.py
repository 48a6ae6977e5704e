"""`FBetaScore` and `F1Score`: the harmonic mean of precision and recall, per class or averaged."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .. import _config
from ._base import Metric

_AVERAGES = (None, "micro", "macro", "weighted")
_VARIABLES = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")


def binarize_scores(y_pred: jax.Array, threshold: float | None) -> jax.Array:
    """0/1 predictions: `y_pred > threshold`, or, with no threshold, each row's maximum.

    Without a threshold a row of zeros stays all zeros (Keras tests `|p| > 1e-9`), and ties
    at the maximum all count as positive.
    """
    if threshold is None:
        top = jnp.max(y_pred, axis=-1, keepdims=True)
        positive = jnp.logical_and(y_pred >= top, jnp.abs(y_pred) > 1e-9)
    else:
        positive = y_pred > threshold
    return positive.astype(y_pred.dtype)


def fbeta_from_counts(tp: jax.Array, fp: jax.Array, fn: jax.Array, support: jax.Array,
                      beta: float, average: str | None) -> jax.Array:
    """`(1 + b^2) * p * r / (b^2 * p + r)` from counts, with Keras's epsilons.

    `p = tp / (tp + fp + eps)`, `r = tp / (tp + fn + eps)`, and the ratio's denominator gets
    `+ eps` too. "weighted" averages the per-class scores weighted by `support` (the weighted
    number of true labels per class); "micro" (counts already summed) and "macro" take the
    mean; None returns one score per class.
    """
    eps = _config.epsilon()
    precision = tp / (tp + fp + eps)
    recall = tp / (tp + fn + eps)
    beta2 = beta ** 2
    score = (precision * recall) / (beta2 * precision + recall + eps) * (1 + beta2)
    if average == "weighted":
        return jnp.sum(score * (support / (jnp.sum(support) + eps)))
    if average is not None:
        return jnp.mean(score)
    return score


def _check_arguments(average: Any, beta: Any, threshold: Any) -> None:
    if average not in _AVERAGES:
        raise ValueError(f"FBetaScore: `average` must be one of {_AVERAGES}; received "
                         f"average={average!r}.")
    if not isinstance(beta, float) or beta <= 0.0:
        raise ValueError(f"FBetaScore: `beta` must be a Python float > 0 (e.g. 2.0); received "
                         f"beta={beta!r} of type {type(beta).__name__}.")
    if threshold is not None and (not isinstance(threshold, float)
                                  or not 0.0 < threshold <= 1.0):
        raise ValueError("FBetaScore: `threshold` must be None or a Python float with "
                         f"0 < threshold <= 1; received threshold={threshold!r}.")


class FBetaScore(Metric):
    """F-beta score: `(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`.

    Inputs are one-hot or multi-label, shape (batch, num_classes); predictions become 0/1
    through `threshold` (`y_pred > threshold`) or, when None, each row's highest score.
    True positives, false positives, false negatives and the label support are summed per
    class (over all classes with `average="micro"`).

    Args:
        average: None (one score per class), "micro", "macro" or "weighted".
        beta: weight of recall relative to precision, a float > 0 (default 1.0).
        threshold: a float in (0, 1], or None for "the row's maximum".
        name: the metric's name.
        dtype: the computation dtype.

    Example:
        >>> m = FBetaScore(average="macro", beta=1.0, threshold=0.5)
        >>> round(float(m([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.3]])), 4)
        0.3333
    """

    _direction = "up"

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score", dtype: Any = None):
        _check_arguments(average, beta, threshold)
        super().__init__(name=name, dtype=dtype)
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape: tuple, pred_shape: tuple) -> None:
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs of shape (batch_size, num_classes); "
                f"received y_true.shape={tuple(true_shape)} and "
                f"y_pred.shape={tuple(pred_shape)}. One-hot encode sparse labels first."
            )
        shape = () if self.average == "micro" else (pred_shape[-1],)
        for var_name in _VARIABLES:
            setattr(self, var_name, self.add_variable(shape, "zeros", name=var_name))
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = jnp.asarray(y_pred).astype(self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        y_pred = binarize_scores(y_pred, self.threshold)
        weight = None
        if sample_weight is not None:
            weight = jnp.expand_dims(jnp.asarray(sample_weight).astype(self.dtype), 1)

        def total(values):
            return jnp.sum(values if weight is None else values * weight, axis=self.axis)

        self.true_positives.assign_add(total(y_pred * y_true))
        self.false_positives.assign_add(total(y_pred * (1 - y_true)))
        self.false_negatives.assign_add(total((1 - y_pred) * y_true))
        self.intermediate_weights.assign_add(total(y_true))

    def result(self) -> jax.Array:
        if not self._built:
            return jnp.zeros((), self.dtype)
        return fbeta_from_counts(self.true_positives.value, self.false_positives.value,
                                 self.false_negatives.value, self.intermediate_weights.value,
                                 self.beta, self.average)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score, the harmonic mean of precision and recall (`FBetaScore` with beta = 1).

    Args:
        average: None (one score per class), "micro", "macro" or "weighted".
        threshold: a float in (0, 1], or None for "the row's maximum".
        name: the metric's name.
        dtype: the computation dtype.

    Example:
        >>> m = F1Score(average="micro", threshold=0.5)
        >>> round(float(m([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.3]])), 4)
        0.5
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config
