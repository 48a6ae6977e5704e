"""Accuracy and regression metrics: `MeanMetricWrapper`s over the per-sample functions."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from . import _functions as F
from ._reduction import Mean, MeanMetricWrapper
from ._shapes import match_rank


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly: `mean(y_true == y_pred)`."""

    _direction = "up"

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(F.accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often `(y_pred > threshold)` equals the 0/1 label (strictly greater).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        threshold: the decision threshold, default 0.5.
    """

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5):
        super().__init__(F.binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often `argmax(y_pred)` equals `argmax(y_true)` (one-hot labels)."""

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(F.categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often `argmax(y_pred)` equals the integer label (shape (N,) or (N, 1))."""

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(F.sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the `k` highest predictions.

    Args:
        k: how many top predictions count, default 5.
        name: the metric's name.
        dtype: the computation dtype.
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None):
        super().__init__(F.top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest predictions.

    Args:
        k: how many top predictions count, default 5.
        name: the metric's name.
        dtype: the computation dtype.
        from_sorted_ids: `y_pred` holds class ids sorted by score instead of scores.
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None, from_sorted_ids: bool = False):
        super().__init__(F.sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


class _RegressionMetric(MeanMetricWrapper):
    """A regression error averaged over samples; lower is better."""

    _direction = "down"
    _error: Any = None

    def __init__(self, name: str, dtype: Any = None):
        super().__init__(type(self)._error, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_RegressionMetric):
    """The mean of `mean((y_true - y_pred) ** 2, axis=-1)` over samples."""

    _error = staticmethod(F.mean_squared_error)

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_RegressionMetric):
    """The mean of `mean(|y_true - y_pred|, axis=-1)` over samples."""

    _error = staticmethod(F.mean_absolute_error)

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_RegressionMetric):
    """The mean of `100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)`."""

    _error = staticmethod(F.mean_absolute_percentage_error)

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_RegressionMetric):
    """The mean of `mean((log1p(max(y_pred, eps)) - log1p(max(y_true, eps))) ** 2, -1)`."""

    _error = staticmethod(F.mean_squared_logarithmic_error)

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """`sqrt(weighted mean of (y_pred - y_true) ** 2)`, over every element seen.

    Unlike `MeanSquaredError`, the square root is taken of the running mean, not per batch.
    """

    _direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = jnp.asarray(y_pred).astype(self.dtype)
        y_true, y_pred = match_rank(y_true, y_pred)
        super().update_state(jnp.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> jax.Array:
        return jnp.sqrt(super().result())
