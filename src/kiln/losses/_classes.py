"""The built-in loss classes: each one is `LossFunctionWrapper` with a fixed function.

Constructor arguments, their positional order, defaults and default names are Keras 3's. The
formulas are documented on the functions. `reduction`, `name` and `dtype` are as in `Loss`.
"""

from __future__ import annotations

from typing import Any

from ._base import LossFunctionWrapper
from ._crossentropy import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from ._regression import (
    categorical_hinge,
    cosine_similarity,
    dice,
    hinge,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    squared_hinge,
    tversky,
)

_SBS = "sum_over_batch_size"


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 targets (see `binary_crossentropy`).

    Example:
        >>> float(BinaryCrossentropy()([0.0, 1.0], [[0.5], [0.5]]))  # doctest: +ELLIPSIS
        0.693...
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _SBS, name: str = "binary_crossentropy",
                 dtype: Any = None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy (see `binary_focal_crossentropy`)."""

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str | None = _SBS,
                 name: str = "binary_focal_crossentropy", dtype: Any = None):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy for one-hot targets (see `categorical_crossentropy`)."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _SBS, name: str = "categorical_crossentropy",
                 dtype: Any = None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy (see `categorical_focal_crossentropy`)."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1, reduction: str | None = _SBS,
                 name: str = "categorical_focal_crossentropy", dtype: Any = None):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class labels (see `sparse_categorical_crossentropy`).

    With `ignore_class`, positions holding that label get loss 0 and the mean reductions divide
    by the number of other positions. Note Keras's positional order: `reduction` before `axis`.
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = _SBS, axis: int = -1,
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors (see `mean_squared_error`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "mean_squared_error",
                 dtype: Any = None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors (see `mean_absolute_error`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "mean_absolute_error",
                 dtype: Any = None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error (see `mean_absolute_percentage_error`)."""

    def __init__(self, reduction: str | None = _SBS,
                 name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error (see `mean_squared_logarithmic_error`)."""

    def __init__(self, reduction: str | None = _SBS,
                 name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (see `cosine_similarity`)."""

    def __init__(self, axis: int = -1, reduction: str | None = _SBS,
                 name: str = "cosine_similarity", dtype: Any = None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)


class Huber(LossFunctionWrapper):
    """Huber loss with threshold `delta` (see `huber`). Its default name is "huber_loss"."""

    def __init__(self, delta: float = 1.0, reduction: str | None = _SBS,
                 name: str = "huber_loss", dtype: Any = None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Mean log-cosh of the error (see `log_cosh`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "log_cosh", dtype: Any = None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss for -1/1 (or 0/1) labels (see `hinge`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "hinge", dtype: Any = None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss (see `squared_hinge`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "squared_hinge",
                 dtype: Any = None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot targets (see `categorical_hinge`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "categorical_hinge",
                 dtype: Any = None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence (see `kl_divergence`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "kl_divergence",
                 dtype: Any = None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss (see `poisson`)."""

    def __init__(self, reduction: str | None = _SBS, name: str = "poisson", dtype: Any = None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Dice(LossFunctionWrapper):
    """Dice loss (see `dice`). Note Keras's positional order: `reduction, name, axis`."""

    def __init__(self, reduction: str | None = _SBS, name: str = "dice",
                 axis: int | tuple[int, ...] | None = None, dtype: Any = None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Tversky loss (see `tversky`). Positional order: `alpha, beta, reduction, name, axis`."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction: str | None = _SBS,
                 name: str = "tversky", axis: int | tuple[int, ...] | None = None,
                 dtype: Any = None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)


LOSS_CLASSES = (
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence,
    Poisson, Dice, Tversky,
)
