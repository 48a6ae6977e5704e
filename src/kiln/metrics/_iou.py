"""Intersection-over-union metrics: IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU.

All keep one (num_classes, num_classes) confusion matrix (rows: true class, columns:
predicted class) and compute `IoU_c = tp_c / (tp_c + fp_c + fn_c)` per target class,
averaged over the classes that occurred. As in Keras, the matrix is integer by default
(dtype "int32"), so float sample weights are truncated; pass `dtype="float32"` for them.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config
from ._base import Metric


def confusion_matrix(labels: jax.Array, predictions: jax.Array, num_classes: int,
                     weights: jax.Array | None = None, dtype: str = "int32") -> jax.Array:
    """The (num_classes, num_classes) matrix of (weighted) counts of (label, prediction) pairs.

    Args:
        labels: integer class ids, shape (N,), each in [0, num_classes).
        predictions: integer class ids, shape (N,).
        num_classes: the matrix size.
        weights: optional per-pair weights, shape (N,) (default 1).
        dtype: the matrix dtype.

    Returns:
        `cm[i, j]` = total weight of pairs with label i predicted as j.
    """
    values = jnp.ones(labels.shape, dtype) if weights is None else weights.astype(dtype)
    cm = jnp.zeros((num_classes, num_classes), dtype)
    return cm.at[labels.astype(jnp.int32), predictions.astype(jnp.int32)].add(values)


def iou_from_confusion(cm: jax.Array, target_class_ids: Sequence[int]) -> jax.Array:
    """Mean IoU over the target classes that appear (as label or prediction).

    `IoU_c = tp_c / (row_c + col_c - tp_c + eps)`; a class whose denominator is 0 counts
    neither in the sum nor in the number of classes averaged over (Keras's rule).
    """
    eps = _config.epsilon()
    tp = jnp.diag(cm)
    denominator = (jnp.sum(cm, axis=0) + jnp.sum(cm, axis=1) - tp)
    ids = jnp.asarray(np.asarray(target_class_ids, np.int32))
    tp = tp[ids].astype(jnp.float32)
    denominator = denominator[ids].astype(jnp.float32)
    valid = denominator > 1e-9
    iou = jnp.where(valid, tp / (denominator + eps), 0.0)
    return jnp.sum(iou, axis=-1) / (jnp.sum(valid.astype(jnp.float32)) + eps)


class IoU(Metric):
    """Intersection over union, averaged over `target_class_ids`.

    Labels and predictions are class ids (any shape; flattened), or one-hot/scores along
    `axis` when `sparse_y_true`/`sparse_y_pred` is False (argmax taken). Ids outside
    [0, num_classes) and labels equal to `ignore_class` are skipped.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        name: the metric's name.
        dtype: the confusion matrix dtype (default "int32", as Keras).
        ignore_class: a label id to skip (e.g. a "void" class), or None.
        sparse_y_true: labels are class ids (True) or one-hot (False).
        sparse_y_pred: predictions are class ids (True) or scores (False).
        axis: the class axis for argmax.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> round(float(m([0, 0, 1, 1], [0, 1, 0, 1])), 4)  # class 0: 1 / (2 + 2 - 1)
        0.3333
    """

    _direction = "up"

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(name=name, dtype=dtype or "int32")
        target_class_ids = list(target_class_ids)
        if not target_class_ids or max(target_class_ids) >= num_classes:
            raise ValueError(
                f"{type(self).__name__}: target_class_ids={target_class_ids} must be a "
                f"non-empty list of class ids in [0, {num_classes}) (num_classes={num_classes})."
            )
        self.num_classes = num_classes
        self.target_class_ids = target_class_ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros",
                                          name="total_confusion_matrix")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.sparse_y_true:
            y_true = jnp.argmax(jnp.asarray(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(jnp.asarray(y_pred), axis=self.axis)
        y_true = jnp.asarray(y_true).astype(self.dtype).reshape(-1)
        y_pred = jnp.asarray(y_pred).astype(self.dtype).reshape(-1)
        self._warn_if_truncated(sample_weight)
        weight = jnp.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype)
        if weight.ndim > 1:
            weight = weight.reshape(-1)
        weight = jnp.broadcast_to(weight, y_true.shape)
        keep = ((y_true >= 0) & (y_true < self.num_classes)
                & (y_pred >= 0) & (y_pred < self.num_classes))
        if self.ignore_class is not None:
            keep = keep & (y_true != self.ignore_class)
        current = confusion_matrix(jnp.where(keep, y_true, 0), jnp.where(keep, y_pred, 0),
                                   self.num_classes, jnp.where(keep, weight, 0), self.dtype)
        self.total_cm.assign_add(current)

    def _warn_if_truncated(self, weight: Any) -> None:
        dtype = getattr(weight, "dtype", None)
        if dtype is not None and "float" in str(dtype) and "int" in self.dtype:
            # Keras warns the same way: an int matrix truncates float weights.
            warnings.warn(
                f"{type(self).__name__} has dtype {self.dtype}, so float sample weights are "
                "truncated to integers. Pass integer weights, or dtype='float32'.",
                stacklevel=3)

    def result(self) -> jax.Array:
        return iou_from_confusion(self.total_cm.value, self.target_class_ids)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU for binary labels; predictions are positive when `y_pred >= threshold`.

    Args:
        target_class_ids: which of the classes 0 and 1 to average over, default both.
        threshold: predictions at or above it count as class 1 (default 0.5).
        name: the metric's name.
        dtype: the confusion matrix dtype (default "int32"; labels are cast to it).
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = jnp.asarray(y_pred).astype(jnp.float32) >= self.threshold
        super().update_state(y_true, y_pred.astype(self.dtype), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over every class. Args as `IoU`, without `target_class_ids`."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """`IoU` for one-hot labels (and scores, unless `sparse_y_pred=True`). Args as `IoU`."""

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels (and scores, unless `sparse_y_pred=True`)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
