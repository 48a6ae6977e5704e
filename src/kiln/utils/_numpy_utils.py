"""NumPy helpers that Keras users call on their data: to_categorical, normalize."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encodes integer class labels.

    Args:
        x: integer labels of any shape; a trailing axis of size 1 is dropped, as in Keras.
        num_classes: width of the encoding; `max(x) + 1` when omitted.

    Returns:
        float32 array of shape `x.shape + (num_classes,)`.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(x)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical expects integer class labels; received non-integer "
                         f"values such as {labels.ravel()[np.mod(labels.ravel(), 1) != 0][0]}.")
    labels = labels.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must lie in [0, {num_classes}); received values "
                         f"from {labels.min()} to {labels.max()}. Pass a larger num_classes.")
    return np.eye(num_classes, dtype=np.float32)[labels]


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scales `x` to unit `order`-norm along `axis` (zero vectors stay zero)."""
    arr = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(arr, ord=order, axis=axis, keepdims=True)
    return arr / np.where(norm == 0, 1, norm)
