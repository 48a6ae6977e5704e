"""`AUC`: area under the ROC or precision-recall curve from confusion counts at thresholds."""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config
from ._base import Metric
from ._confusion_counts import confusion_increments, evenly_spaced
from ._shapes import divide_no_nan

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def _interpolated_pr_auc(tp, fp, fn) -> jax.Array:
    """Exact PR area between thresholds, interpolating TP linearly in TP + FP.

    Davis & Goadrich (2006): between consecutive thresholds precision is
    `slope + intercept / p` with `p = tp + fp`, which integrates in closed form over recall
    `dtp / (tp + fn)`; this is Keras's `interpolate_pr_auc`. Returns per-threshold terms.
    """
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, jnp.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both_positive = jnp.logical_and(p[:-1] > 0, p[1:] > 0)
    ratio = jnp.where(both_positive, divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)),
                      jnp.ones_like(p[1:]))
    return divide_no_nan(slope * (dtp + intercept * jnp.log(ratio)),
                         jnp.maximum(tp[1:] + fn[1:], 0))


def _curve_points(tp, fp, tn, fn, curve: str) -> tuple[jax.Array, jax.Array]:
    """(x, y) of the curve at each threshold."""
    recall = divide_no_nan(tp, tp + fn)
    if curve == "ROC":
        return divide_no_nan(fp, fp + tn), recall
    if curve == "PR":
        return recall, divide_no_nan(tp, tp + fp)
    # Precision-recall gain (Flach & Kull, 2015), as Keras computes it.
    scale = divide_no_nan(tp + fn, tn + fp)
    recall_gain = jnp.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
    precision_gain = jnp.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
    return jnp.maximum(recall_gain, 0.0), precision_gain


def auc_from_counts(tp, fp, tn, fn, curve: str = "ROC", summation: str = "interpolation",
                    label_weights: Any = None) -> jax.Array:
    """The area under the curve from counts at thresholds sorted ascending.

    ROC and PR-gain (and PR with "minoring"/"majoring") are Riemann sums over threshold
    intervals: `sum((x[i] - x[i+1]) * h[i])`, with `h` the mean ("interpolation"), min or
    max of the two ends' heights. PR with "interpolation" uses `_interpolated_pr_auc`.
    Counts of shape (T, L) give one area per label, averaged (weighted by `label_weights`).

    Returns:
        A scalar.
    """
    if curve == "PR" and summation == "interpolation":
        terms = _interpolated_pr_auc(tp, fp, fn)
    else:
        x, y = _curve_points(tp, fp, tn, fn, curve)
        if summation == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif summation == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        terms = (x[:-1] - x[1:]) * heights
    if tp.ndim == 1:
        return jnp.sum(terms)
    by_label = jnp.sum(terms, axis=0)
    if label_weights is None:
        return jnp.mean(by_label)
    return divide_no_nan(jnp.sum(by_label * label_weights), jnp.sum(label_weights))


class AUC(Metric):
    """Area under the ROC curve (default) or the precision-recall curve.

    Confusion counts are accumulated at `num_thresholds` thresholds evenly spaced in
    [0, 1], the first at `-epsilon` and the last at `1 + epsilon` so scores of exactly 0
    or 1 are counted; the area is then summed over threshold intervals (`auc_from_counts`).

    Args:
        num_thresholds: number of thresholds (> 1), default 200.
        curve: "ROC", "PR" or "PRGAIN".
        summation_method: "interpolation" (trapezoids; exact interpolation for PR),
            "minoring" or "majoring".
        name: the metric's name.
        dtype: the computation dtype.
        thresholds: explicit thresholds in [0, 1] (then `num_thresholds` is ignored);
            -epsilon and 1 + epsilon are added at the ends.
        multi_label: treat the last axis as independent labels, one curve each, and
            average their areas; otherwise every element counts as one binary decision.
        num_labels: the number of labels when `multi_label` (else found on first update).
        label_weights: per-label weights (of the counts, or of the average with
            `multi_label`).
        from_logits: apply a sigmoid to predictions first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> float(m([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]))
        0.75
    """

    _direction = "up"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Sequence[float] | None = None,
                 multi_label: bool = False, num_labels: int | None = None,
                 label_weights: Any = None, from_logits: bool = False):
        self.curve = _parse(curve, _CURVES, "curve")
        self.summation_method = _parse(summation_method, {s: s for s in _SUMMATIONS},
                                       "summation_method")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self._evenly = evenly_spaced(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC needs num_thresholds > 1; received {num_thresholds}.")
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self.num_thresholds = len(inner) + 2
        eps = _config.epsilon()
        self._thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else jnp.asarray(label_weights, self.dtype))
        self._from_logits = from_logits
        self._built = False
        if multi_label and num_labels:
            self._build((None, num_labels))
        elif not multi_label:
            if num_labels:
                raise ValueError("AUC: `num_labels` is only used with multi_label=True.")
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        """Every threshold, the -epsilon and 1 + epsilon end points included."""
        return list(self._thresholds)

    def _build(self, shape: Any) -> None:
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    "AUC(multi_label=True) expects predictions of shape (batch, num_labels); "
                    f"received shape {tuple(shape)}."
                )
            self._num_labels = shape[1]
            var_shape: tuple[int, ...] = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        for var_name in ("true_positives", "false_positives", "true_negatives",
                         "false_negatives"):
            setattr(self, var_name, self.add_variable(var_shape, "zeros", name=var_name))
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = jnp.asarray(y_pred)
        if not self._built:
            self._build(y_pred.shape)
        if self._from_logits:
            y_pred = jax.nn.sigmoid(y_pred)
        # With multi_label the label weights only weight the final average.
        counts = confusion_increments(
            ("tp", "fp", "tn", "fn"), y_true, y_pred, list(self._thresholds),
            evenly=self._evenly, sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, dtype=self.dtype)
        self.true_positives.assign_add(counts["tp"])
        self.false_positives.assign_add(counts["fp"])
        self.true_negatives.assign_add(counts["tn"])
        self.false_negatives.assign_add(counts["fn"])

    def result(self) -> jax.Array:
        if not self._built:
            return jnp.zeros((), self.dtype)
        return auc_from_counts(
            self.true_positives.value, self.false_positives.value, self.true_negatives.value,
            self.false_negatives.value, self.curve, self.summation_method,
            self.label_weights if self.multi_label else None)

    def get_config(self) -> dict[str, Any]:
        weights = self.label_weights
        config = {
            **super().get_config(), "num_thresholds": self.num_thresholds,
            "curve": self.curve, "summation_method": self.summation_method,
            "multi_label": self.multi_label, "num_labels": self.num_labels,
            "label_weights": None if weights is None else np.asarray(weights).tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _parse(value: str, table: dict[str, str], argument: str) -> str:
    key = str(value).lower()
    if key not in table:
        raise ValueError(
            f"AUC: invalid {argument}={value!r}. Expected one of "
            f"{sorted(set(table.values()))}."
        )
    return table[key]
