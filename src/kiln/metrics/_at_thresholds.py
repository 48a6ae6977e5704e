"""One rate at the best threshold subject to a bound on another: PrecisionAtRecall & co.

Confusion counts are kept at `num_thresholds` thresholds evenly spaced in [0, 1] (no
epsilon end points, unlike `AUC`) with the same counting core as `Precision` and `AUC`
(`confusion_increments`). The result is the largest value of one rate over the thresholds
where the other rate reaches the target, as in Keras's `SensitivitySpecificityBase`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._base import Metric
from ._confusion_counts import confusion_increments
from ._shapes import divide_no_nan

_KINDS = {"true_positives": "tp", "false_positives": "fp", "true_negatives": "tn",
          "false_negatives": "fn"}


def max_under_constraint(constrained: jax.Array, dependent: jax.Array,
                         target: float) -> jax.Array:
    """`max(dependent[i] for i where constrained[i] >= target)`, 0 when no threshold qualifies.

    Args:
        constrained: the bounded rate at each threshold, shape (T,).
        dependent: the rate to maximise, shape (T,).
        target: the bound on `constrained`.

    Returns:
        A scalar.
    """
    feasible = constrained >= target
    # Keras takes the max with an initial value of 0, so negative values never win.
    return jnp.maximum(jnp.max(jnp.where(feasible, dependent, 0)), 0)


def rates(tp: jax.Array, fp: jax.Array, tn: jax.Array, fn: jax.Array) -> dict[str, jax.Array]:
    """Recall (= sensitivity), precision and specificity at each threshold (0 for 0/0)."""
    return {"recall": divide_no_nan(tp, tp + fn), "precision": divide_no_nan(tp, tp + fp),
            "specificity": divide_no_nan(tn, tn + fp)}


class _RateAtRate(Metric):
    """Shared shell: counts at evenly spaced thresholds; subclasses name the two rates.

    `_bounded` is the rate that must reach the target and `_maximised` the one returned.
    """

    _direction = "up"
    _argument = ""  # the constructor argument holding the target ("recall", ...)
    _bounded = ""
    _maximised = ""

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        if value < 0 or value > 1:
            raise ValueError(f"{type(self).__name__}: `{self._argument}` must be in [0, 1]; "
                             f"received {self._argument}={value}.")
        if num_thresholds <= 0:
            raise ValueError(f"{type(self).__name__}: `num_thresholds` must be an integer > 0; "
                             f"received num_thresholds={num_thresholds}.")
        super().__init__(name=name, dtype=dtype)
        setattr(self, self._argument, value)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        for var_name in _KINDS:
            setattr(self, var_name, self.add_variable((len(self.thresholds),), "zeros",
                                                      name=var_name))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_increments(
            tuple(_KINDS.values()), y_true, y_pred, self.thresholds, evenly=self._evenly,
            class_id=self.class_id, sample_weight=sample_weight, dtype=self.dtype)
        for var_name, kind in _KINDS.items():
            getattr(self, var_name).assign_add(counts[kind])

    def result(self) -> jax.Array:
        by_name = rates(*(getattr(self, v).value for v in _KINDS))
        return max_under_constraint(by_name[self._bounded], by_name[self._maximised],
                                    self.value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._argument: self.value}


class PrecisionAtRecall(_RateAtRate):
    """The best precision over the thresholds where recall >= `recall`.

    Args:
        recall: the target recall, in [0, 1].
        num_thresholds: thresholds evenly spaced in [0, 1] (0.5 alone when 1), default 200.
        class_id: only this class (column of the last axis) is counted.
        name: the metric's name (default "precision_at_recall").
        dtype: the computation dtype.

    Example:
        >>> m = PrecisionAtRecall(0.5, num_thresholds=3)  # thresholds 0, 0.5, 1
        >>> round(float(m([0, 0, 1, 1], [0.0, 0.6, 0.4, 0.9])), 4)  # at 0: tp=2, fp=1
        0.6667
    """

    _argument, _bounded, _maximised = "recall", "recall", "precision"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)


class RecallAtPrecision(_RateAtRate):
    """The best recall over the thresholds where precision >= `precision`.

    Args as `PrecisionAtRecall`, with `precision` the target precision.
    """

    _argument, _bounded, _maximised = "precision", "precision", "recall"

    def __init__(self, precision: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall) over the thresholds where specificity >= `specificity`.

    Specificity is `tn / (tn + fp)`. Args as `PrecisionAtRecall`, with `specificity` the
    target.
    """

    _argument, _bounded, _maximised = "specificity", "specificity", "recall"

    def __init__(self, specificity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity over the thresholds where sensitivity (recall) >= `sensitivity`.

    Args as `PrecisionAtRecall`, with `sensitivity` the target.
    """

    _argument, _bounded, _maximised = "sensitivity", "recall", "specificity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)
