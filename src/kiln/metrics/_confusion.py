"""Confusion-matrix metrics: TruePositives..FalseNegatives, Precision, Recall."""

from __future__ import annotations

from typing import Any

import jax

from ._base import Metric
from ._confusion_counts import NEG_INF, confusion_increments, evenly_spaced, parse_thresholds
from ._shapes import divide_no_nan


class _ThresholdCounts(Metric):
    """Keeps confusion counts at a list of thresholds in variables named after them."""

    _kinds: dict[str, str] = {}  # variable name -> "tp" | "fp" | "tn" | "fn"

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        # With top_k every kept score must count as positive, hence a -inf-like default.
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_thresholds(thresholds, default)
        self._evenly = evenly_spaced(self.thresholds)
        for var_name in self._kinds:
            setattr(self, var_name, self.add_variable((len(self.thresholds),), "zeros",
                                                      name=var_name))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_increments(
            list(self._kinds.values()), y_true, y_pred, self.thresholds, evenly=self._evenly,
            top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight,
            dtype=self.dtype)
        for var_name, kind in self._kinds.items():
            getattr(self, var_name).assign_add(counts[kind])

    def _scalar_or_vector(self, value: jax.Array) -> jax.Array:
        return value[0] if len(self.thresholds) == 1 else value


class _Count(_ThresholdCounts):
    """One confusion count, a scalar for one threshold and a vector for several."""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self) -> jax.Array:
        return self._scalar_or_vector(self.accumulator.value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """The (weighted) number of positives predicted positive (`y_pred > threshold`).

    Args:
        thresholds: a float in [0, 1] or a list of them; None means 0.5. A list gives one
            count per threshold.
        name: the metric's name.
        dtype: the computation dtype.
    """

    _kinds = {"accumulator": "tp"}


class FalsePositives(_Count):
    """The (weighted) number of negatives predicted positive. Args as `TruePositives`."""

    _kinds = {"accumulator": "fp"}


class TrueNegatives(_Count):
    """The (weighted) number of negatives predicted negative. Args as `TruePositives`."""

    _kinds = {"accumulator": "tn"}


class FalseNegatives(_Count):
    """The (weighted) number of positives predicted negative. Args as `TruePositives`."""

    _kinds = {"accumulator": "fn"}


class Precision(_ThresholdCounts):
    """`tp / (tp + fp)`, 0 when nothing was predicted positive.

    Args:
        thresholds: a float in [0, 1] or a list of them (vector result); None means 0.5,
            or "every top-k score is positive" when `top_k` is set.
        top_k: only the k highest scores of each row count as positive predictions.
        class_id: only this class (column of the last axis) is counted.
        name: the metric's name.
        dtype: the computation dtype.

    Example:
        >>> m = Precision()
        >>> round(float(m([0, 1, 1, 1], [1.0, 1.0, 0.0, 1.0])), 4)  # tp=2, fp=1
        0.6667
    """

    _direction = "up"
    _kinds = {"true_positives": "tp", "false_positives": "fp"}

    def result(self) -> jax.Array:
        tp = self.true_positives.value
        return self._scalar_or_vector(divide_no_nan(tp, tp + self.false_positives.value))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(_ThresholdCounts):
    """`tp / (tp + fn)`, 0 when there were no positives. Args as `Precision`.

    Example:
        >>> m = Recall()
        >>> round(float(m([0, 1, 1, 1], [1.0, 0.0, 1.0, 1.0])), 4)  # tp=2, fn=1
        0.6667
    """

    _direction = "up"
    _kinds = {"true_positives": "tp", "false_negatives": "fn"}

    def result(self) -> jax.Array:
        tp = self.true_positives.value
        return self._scalar_or_vector(divide_no_nan(tp, tp + self.false_negatives.value))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}
