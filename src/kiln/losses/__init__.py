"""Losses with Keras 3's names, arguments and numbers.

Each loss is a per-sample pure function (`binary_crossentropy(y_true, y_pred, ...)` returns one
value per sample) plus a class (`BinaryCrossentropy(...)`), a `LossFunctionWrapper` around that
function which casts inputs, applies `sample_weight` and reduces. `get(identifier)` resolves
strings exactly as Keras does (case-sensitive, with the aliases `mse`, `mae`, `bce`, ...).

Example:
    >>> import kiln.losses as losses
    >>> float(losses.get("mse")([[1.0], [2.0]], [[1.0], [4.0]])[1])
    4.0
    >>> float(losses.MeanSquaredError()([1.0, 2.0], [[1.0], [4.0]]))
    2.0
"""


from ._base import Loss, LossFunctionWrapper
from ._classes import (  # noqa: F401
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
)
from ._crossentropy import (  # noqa: F401
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from ._reduction import REDUCTIONS, squeeze_or_expand_to_same_rank
from ._regression import (  # noqa: F401
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
from ._get import get, serialize, deserialize, names
from ._extra import (  # noqa: F401
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
)

__all__ = [
    "Loss", "LossFunctionWrapper", "REDUCTIONS", "get", "serialize", "deserialize", "names",
    "squeeze_or_expand_to_same_rank", "BinaryCrossentropy", "BinaryFocalCrossentropy",
    "CategoricalCrossentropy", "CategoricalFocalCrossentropy", "CategoricalHinge",
    "CosineSimilarity", "Dice", "Hinge", "Huber", "KLDivergence", "LogCosh", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_hinge", "cosine_similarity", "dice", "hinge", "huber", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy",
    "squared_hinge", "tversky",
    "CTC", "Circle", "CategoricalGeneralizedCrossEntropy", "ctc", "circle",
    "categorical_generalized_cross_entropy",
]
