"""Name resolution for `kiln.metrics`: `get`, `names`, `serialize`, `deserialize`."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ._at_thresholds import (
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
)
from ._auc import AUC
from ._base import Metric
from ._confusion import (
    FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
)
from ._fscore import F1Score, FBetaScore
from ._iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from ._probabilistic import (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, Hinge, KLDivergence,
    LogCoshError, Poisson, SparseCategoricalCrossentropy, SquaredHinge,
)
from ._reduction import Mean, MeanMetricWrapper, Sum
from ._regression_extra import (
    ConcordanceCorrelation, CosineSimilarity, PearsonCorrelation, R2Score,
)
from ._wrappers import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
    RootMeanSquaredError, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from .. import _registry, _serialization
from .._utils import to_snake_case, unknown_name_error


# Every metric class by class name: used by `deserialize` (nothing is imported by name).
CLASSES: dict[str, type[Metric]] = {cls.__name__: cls for cls in (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives, ConcordanceCorrelation, PearsonCorrelation,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)}

for _metric_cls in CLASSES.values():
    _registry.register(_metric_cls, "metrics")

# Classes Keras lists by name but that cannot be built from a name alone: `get` explains
# which arguments they need instead of failing with a TypeError as Keras does.
_NEEDS_ARGUMENTS: dict[type[Metric], str] = {
    PrecisionAtRecall: "recall=0.8", RecallAtPrecision: "precision=0.8",
    SensitivityAtSpecificity: "specificity=0.8", SpecificityAtSensitivity: "sensitivity=0.8",
    IoU: "num_classes=3, target_class_ids=[0, 1]", MeanIoU: "num_classes=3",
    OneHotIoU: "num_classes=3, target_class_ids=[0, 1]", OneHotMeanIoU: "num_classes=3",
}

# Keras's string table: class names, their snake_case, and the short aliases. The base
# `Metric` and `MeanMetricWrapper` are left out: neither is a usable metric by name.
_BY_NAME: dict[str, type[Metric]] = {}
for _cls in CLASSES.values():
    if _cls not in (Metric, MeanMetricWrapper):
        _BY_NAME[_cls.__name__] = _cls
        _BY_NAME[to_snake_case(_cls.__name__)] = _cls
for _alias, _cls in {"mse": MeanSquaredError, "mae": MeanAbsoluteError,
                     "mape": MeanAbsolutePercentageError,
                     "msle": MeanSquaredLogarithmicError, "bce": BinaryCrossentropy}.items():
    _BY_NAME[_alias] = _BY_NAME[_alias.upper()] = _cls


def names() -> list[str]:
    """Every string `get` accepts, sorted ("auc", "mae", "MeanSquaredError", ...).

    Classes that need constructor arguments (`MeanIoU`, `PrecisionAtRecall`, ...) are not
    listed: build them yourself, e.g. `MeanIoU(num_classes=3)`.
    """
    return sorted(k for k, cls in _BY_NAME.items() if cls not in _NEEDS_ARGUMENTS)


def _object_name(obj: Any) -> str:
    """The name Keras logs for a metric given as an object (its `name`, else snake_case)."""
    if hasattr(obj, "name") and isinstance(obj.name, str):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def _from_name(identifier: str) -> Metric:
    """A new metric of the class named `identifier`, itself named `identifier`."""
    if identifier not in _BY_NAME:
        raise unknown_name_error("metric", identifier, names())
    cls = _BY_NAME[identifier]
    if cls in _NEEDS_ARGUMENTS:
        raise ValueError(
            f"Metric {identifier!r} needs constructor arguments, so it cannot be given by "
            f"name. Pass an instance instead, e.g. kiln.metrics.{cls.__name__}("
            f"{_NEEDS_ARGUMENTS[cls]})."
        )
    metric = cls()
    metric.name = identifier
    return metric


def get(identifier: Any, name: str | None = None) -> Metric | None:
    """Resolves a metric identifier to a `Metric` instance.

    Args:
        identifier: a name ("auc", "mae", "MeanSquaredError", ...; see `names()`), a
            `Metric` instance (returned as is), a `Metric` subclass (instantiated), a config
            dict `{"class_name": ..., "config": ...}`, or a function
            `fn(y_true, y_pred)` (wrapped in `MeanMetricWrapper`), or None.
        name: the instance's name. Defaults to the string itself for a string identifier,
            as `compile` logs it (`metrics=["mae"]` logs `mae`; note that Keras's own
            `keras.metrics.get("mae").name` is "mean_absolute_error"), and to the snake_case
            function name for a function.

    Returns:
        A new metric with Keras's defaults (or the given instance), or None for None.

    Raises:
        ValueError: for an unknown name (listing the closest valid names), the name of a
            class that needs constructor arguments (e.g. "mean_io_u": build
            `MeanIoU(num_classes=...)` yourself), or an identifier of an unsupported type.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        metric = identifier
    elif isinstance(identifier, str):
        metric = _from_name(identifier)
    elif isinstance(identifier, dict):
        metric = deserialize(identifier)
    elif inspect.isclass(identifier) and issubclass(identifier, Metric):
        metric = identifier()
    elif callable(identifier):
        metric = MeanMetricWrapper(identifier, name=_object_name(identifier))
    else:
        raise ValueError(
            f"Could not interpret metric identifier {identifier!r} of type "
            f"{type(identifier).__name__}. Pass a metric name such as 'mae' or 'auc', a "
            "kiln.metrics.Metric, or a function fn(y_true, y_pred)."
        )
    if name is not None:
        metric.name = name
    return metric


def serialize(metric: Metric) -> dict[str, Any]:
    """Keras's `{"module", "class_name", "config", "registered_name"}` for `metric`."""
    return _serialization.serialize(metric)


def deserialize(config: dict[str, Any],
                custom_objects: dict[str, Callable] | None = None) -> Metric:
    """Rebuilds a metric from `serialize`'s output; `custom_objects` adds user classes."""
    return _serialization.build(config, "metrics", custom_objects, label="metric class")
