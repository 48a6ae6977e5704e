"""The built-in per-sample loss functions by name (what a serialized `fn` refers to).

Both `LossFunctionWrapper.from_config` and the `kiln.losses` registry read this table, so the
wrapper can rebuild its function without importing the registry above it.

Example:
    >>> function_from_config({"class_name": "function", "config": "mean_squared_error"}).__name__
    'mean_squared_error'
"""

from __future__ import annotations

from typing import Any, Callable

from .._utils import unknown_name_error
from ._crossentropy import (binary_crossentropy, binary_focal_crossentropy,
                            categorical_crossentropy, categorical_focal_crossentropy,
                            kl_divergence, poisson, sparse_categorical_crossentropy)
from ._regression import (categorical_hinge, cosine_similarity, dice, hinge, huber, log_cosh,
                          mean_absolute_error, mean_absolute_percentage_error,
                          mean_squared_error, mean_squared_logarithmic_error, squared_hinge,
                          tversky)

__all__ = ["FUNCTIONS", "function_from_config"]

FUNCTIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
        categorical_focal_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson,
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge,
        squared_hinge, categorical_hinge, dice, tversky,
    )
}


def function_from_config(config: Any) -> Callable:
    """The function named by `config`: a name, or Keras's `{"class_name": "function",
    "config": "<name>"}`. Raises ValueError listing the closest names for an unknown one."""
    name = config.get("config") if isinstance(config, dict) else config
    if isinstance(name, str) and name in FUNCTIONS:
        return FUNCTIONS[name]
    raise unknown_name_error("loss function", name, FUNCTIONS,
                             argument="LossFunctionWrapper.from_config(fn=...)")
