"""Loss functions used as metrics: cross-entropies, KL divergence, Poisson, the hinge family.

Each class is a `MeanMetricWrapper` around the per-sample function of `kiln.losses` (the same
function the loss uses, as in Keras), so the metric and the loss agree to the last bit.
"""

from __future__ import annotations

from typing import Any, Callable

import jax.numpy as jnp

from .. import losses
from ..losses._crossentropy import sparse_categorical_valid_mask
from ._reduction import MeanMetricWrapper
from ._shapes import match_rank


class LossMetric(MeanMetricWrapper):
    """The running mean of a `kiln.losses` function; lower is better.

    Subclasses set `_loss` and pass the function's keyword arguments, which become
    attributes and config entries.
    """

    _direction = "down"
    _loss: Callable | None = None

    def __init__(self, name: str, dtype: Any = None, **fn_kwargs: Any):
        super().__init__(type(self)._loss, name=name, dtype=dtype, **fn_kwargs)
        for key, value in fn_kwargs.items():
            setattr(self, key, value)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}


class BinaryCrossentropy(LossMetric):
    """Mean binary cross-entropy (`kiln.losses.binary_crossentropy`).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        from_logits: `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; moves targets towards 0.5.

    Example:
        >>> m = BinaryCrossentropy()
        >>> round(float(m([[0.0, 1.0]], [[0.5, 0.5]])), 4)
        0.6931
    """

    _loss = staticmethod(losses.binary_crossentropy)

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(LossMetric):
    """Mean categorical cross-entropy for one-hot labels (`losses.categorical_crossentropy`).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        from_logits: `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; spreads that much mass over all classes.
        axis: the class axis.
    """

    _loss = staticmethod(losses.categorical_crossentropy)

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0, axis: int = -1):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(LossMetric):
    """Mean cross-entropy for integer labels (`losses.sparse_categorical_crossentropy`).

    Args:
        name: the metric's name.
        dtype: the computation dtype.
        from_logits: `y_pred` holds logits rather than probabilities.
        ignore_class: a label id whose samples contribute 0. As in Keras, they still count
            in the mean when no `sample_weight` is given, and get weight 0 when one is.
        axis: the class axis.
    """

    _loss = staticmethod(losses.sparse_categorical_crossentropy)

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1):
        super().__init__(name, dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if sample_weight is not None and self.ignore_class is not None:
            # Keras's loss values carry a mask of the valid labels, which its Mean applies
            # to the sample weights only (an unweighted update ignores it).
            valid = sparse_categorical_valid_mask(y_true, y_pred, ignore_class=self.ignore_class,
                                                  axis=self.axis).astype(self.dtype)
            valid, weight = match_rank(valid, jnp.asarray(sample_weight).astype(self.dtype))
            sample_weight = weight * valid
        super().update_state(y_true, y_pred, sample_weight=sample_weight)


class KLDivergence(LossMetric):
    """Mean Kullback-Leibler divergence `sum(y * log(y / p), -1)` (`losses.kl_divergence`)."""

    _loss = staticmethod(losses.kl_divergence)

    def __init__(self, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(name, dtype)


class Poisson(LossMetric):
    """Mean Poisson loss `mean(p - y * log(p + eps), -1)` (`losses.poisson`)."""

    _loss = staticmethod(losses.poisson)

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(name, dtype)


class Hinge(LossMetric):
    """Mean hinge loss `mean(max(1 - y * p, 0), -1)`; {0, 1} labels become {-1, 1}."""

    _loss = staticmethod(losses.hinge)

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(name, dtype)


class SquaredHinge(LossMetric):
    """Mean squared hinge loss `mean(max(1 - y * p, 0)^2, -1)`; {0, 1} labels become {-1, 1}."""

    _loss = staticmethod(losses.squared_hinge)

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        super().__init__(name, dtype)


class CategoricalHinge(LossMetric):
    """Mean categorical hinge `max(max((1 - y) * p) - sum(y * p) + 1, 0)` (one-hot labels)."""

    _loss = staticmethod(losses.categorical_hinge)

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(name, dtype)


class LogCoshError(LossMetric):
    """Mean of `mean(log(cosh(y_pred - y_true)), -1)`; Keras names it "logcosh"."""

    _loss = staticmethod(losses.log_cosh)

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(name, dtype)
