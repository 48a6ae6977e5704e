"""Metrics with Keras's names, arguments and formulas, usable inside a jitted train step.

Every metric is a small object with Keras's stateful API (`update_state`, `result`,
`reset_state`) over `Variable`s, plus a pure trio the trainer runs under `jax.jit`:
`stateless_init()` -> state dict, `stateless_update(state, y_true, y_pred, sample_weight)`
-> new state, `stateless_result(state)` -> value. The trio is derived from the ordinary
methods, so a user subclass written the Keras way needs no changes.

Example:
    >>> import kiln.metrics as metrics
    >>> m = metrics.get("mae")
    >>> state = m.stateless_init()
    >>> state = m.stateless_update(state, [[1.0], [2.0]], [[1.5], [2.0]])
    >>> m.name, float(m.stateless_result(state))
    ('mae', 0.25)
"""


from ._at_thresholds import (  # noqa: F401
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from ._auc import AUC
from ._base import Metric
from ._confusion import (  # noqa: F401
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from ._correlation import concordance_correlation, pearson_correlation
from ._fscore import F1Score, FBetaScore
from ._functions import (  # noqa: F401
    binary_accuracy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_accuracy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy,
    squared_hinge,
    top_k_categorical_accuracy,
)
from ._iou import (  # noqa: F401
    BinaryIoU,
    IoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
)
from ._probabilistic import (  # noqa: F401
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    LogCoshError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from ._reduction import Mean, MeanMetricWrapper, Sum
from ._regression_extra import (  # noqa: F401
    ConcordanceCorrelation,
    CosineSimilarity,
    PearsonCorrelation,
    R2Score,
)
from ._wrappers import (  # noqa: F401
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from ._get import get, names, serialize, deserialize

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "TruePositives", "TrueNegatives", "FalsePositives",
    "FalseNegatives", "Precision", "Recall", "AUC", "PrecisionAtRecall", "RecallAtPrecision",
    "SensitivityAtSpecificity", "SpecificityAtSensitivity", "F1Score", "FBetaScore", "IoU",
    "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "MeanSquaredError", "MeanAbsoluteError",
    "RootMeanSquaredError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "CosineSimilarity", "LogCoshError", "R2Score", "PearsonCorrelation", "ConcordanceCorrelation",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge", "binary_accuracy",
    "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "poisson", "hinge", "squared_hinge",
    "categorical_hinge", "huber", "log_cosh", "pearson_correlation", "concordance_correlation",
    "get", "names", "serialize", "deserialize",
]
