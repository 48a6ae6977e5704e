"""R2Score, CosineSimilarity and the correlation metrics."""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp

from .. import losses
from ._base import Metric
from ._correlation import concordance_correlation, pearson_correlation
from ._reduction import MeanMetricWrapper
from ._shapes import match_rank

_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """`sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`, in [-1, 1] (1 is best).

    The metric is the loss `kiln.losses.cosine_similarity` without its minus sign.
    """
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along `axis` (higher is better).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        axis: the axis along which vectors are compared.

    Example:
        >>> m = CosineSimilarity()
        >>> float(m([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]))  # doctest: +ELLIPSIS
        0.49999...
    """

    _direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class PearsonCorrelation(MeanMetricWrapper):
    """Mean of the per-sample Pearson correlation along `axis` (`pearson_correlation`).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        axis: the axis correlated over.
    """

    _direction = "up"

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean of the per-sample concordance correlation (`concordance_correlation`).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        axis: the axis correlated over.
    """

    _direction = "up"

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: int = -1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


def r2_from_sums(total: jax.Array, squared_sum: jax.Array, residual: jax.Array,
                 count: jax.Array, num_samples: jax.Array, class_aggregation: str | None,
                 num_regressors: int) -> jax.Array:
    """R^2 = 1 - SS_res / SS_tot per output, aggregated, optionally adjusted.

    `SS_tot = squared_sum - total * (total / count)`; an infinite score (SS_tot = 0) becomes
    0. The adjusted score `1 - (1 - R^2) (n - 1) / (n - p - 1)` is used only when
    `p < n - 1` (Keras falls back to the plain score otherwise, with a warning).
    """
    mean = total / count
    ss_tot = squared_sum - total * mean
    raw = 1 - residual / ss_tot
    raw = jnp.where(jnp.isinf(raw), 0.0, raw)
    if class_aggregation == "uniform_average":
        score = jnp.mean(raw)
    elif class_aggregation == "variance_weighted_average":
        score = jnp.sum(ss_tot * raw) / jnp.sum(ss_tot)
    else:
        score = raw
    if num_regressors == 0:
        return score
    n = num_samples.astype(jnp.float32)
    p = jnp.float32(num_regressors)
    adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
    return jnp.where(p < n - 1, adjusted, score)


class R2Score(Metric):
    """Coefficient of determination, per output column then aggregated.

    Weighted sums of `y`, `y^2` and `(y - p)^2` per column are accumulated over batches, so
    the score is the one of all samples seen, not a mean of batch scores.

    Args:
        class_aggregation: "uniform_average" (mean over outputs, default),
            "variance_weighted_average" (weighted by each output's variance) or None (one
            score per output).
        num_regressors: number of independent variables for the adjusted R^2 (0: plain R^2).
        name: the metric's name.
        dtype: the computation dtype.

    Example:
        >>> m = R2Score()
        >>> round(float(m([[1.0], [2.0], [3.0]], [[1.0], [2.0], [2.0]])), 4)
        0.5
    """

    _direction = "up"

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score", dtype: Any = None):
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(f"R2Score: `class_aggregation` must be one of {_AGGREGATIONS}; "
                             f"received class_aggregation={class_aggregation!r}.")
        if num_regressors < 0:
            raise ValueError("R2Score: `num_regressors` must be >= 0; received "
                             f"num_regressors={num_regressors}.")
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    def _build(self, true_shape: tuple, pred_shape: tuple) -> None:
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs of shape (batch_size, num_outputs); received "
                f"y_true.shape={tuple(true_shape)} and y_pred.shape={tuple(pred_shape)}. "
                "Reshape targets of shape (N,) to (N, 1)."
            )
        shape = (pred_shape[-1],)
        self.squared_sum = self.add_variable(shape, "zeros", name="squared_sum")
        self.sum = self.add_variable(shape, "zeros", name="sum")
        self.total_mse = self.add_variable(shape, "zeros", name="residual")
        self.count = self.add_variable(shape, "zeros", name="count")
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = jnp.asarray(y_pred).astype(self.dtype)
        y_true, y_pred = match_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        weight = jnp.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype)
        if weight.ndim == 1:
            weight = weight[:, None]  # one weight per sample, for every output column
        weight = jnp.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        self.sum.assign_add(jnp.sum(weighted, axis=0))
        self.squared_sum.assign_add(jnp.sum(y_true * weighted, axis=0))
        self.total_mse.assign_add(jnp.sum(jnp.square(y_true - y_pred) * weight, axis=0))
        self.count.assign_add(jnp.sum(weight, axis=0))
        self.num_samples.assign_add(jnp.asarray(y_true.size, self.dtype))

    def result(self) -> jax.Array:
        if not self._built:
            return jnp.zeros((), self.dtype)
        n = self.num_samples.value
        self._warn_if_not_adjustable(n)
        return r2_from_sums(self.sum.value, self.squared_sum.value, self.total_mse.value,
                            self.count.value, n, self.class_aggregation, self.num_regressors)

    def _warn_if_not_adjustable(self, n: jax.Array) -> None:
        if self.num_regressors == 0 or isinstance(n, jax.core.Tracer):
            return
        if self.num_regressors >= float(n) - 1:
            warnings.warn(
                f"R2Score(num_regressors={self.num_regressors}) needs more than "
                f"num_regressors + 1 values; {int(n)} were seen, so the plain (not adjusted) "
                "R2 score is returned.", stacklevel=3)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
