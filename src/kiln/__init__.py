"""kiln: Keras's API on JAX and optax. `import kiln as keras` and Keras code runs, compiled by XLA.

Example:
    >>> import kiln as keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
"""

import importlib
from typing import Any

from . import activations as activations
from . import applications as applications
from . import backend as backend
from . import callbacks as callbacks
from . import config as config
from . import constraints as constraints
from . import datasets as datasets
from . import distribution as distribution
from . import dtype_policies as dtype_policies
from . import initializers as initializers
from . import layers as layers
from . import losses as losses
from . import metrics as metrics
from . import mixed_precision as mixed_precision
from . import models as models
from . import ops as ops
from . import optimizers as optimizers
from . import random as random
from . import regularizers as regularizers
from . import saving as saving
from . import preprocessing as preprocessing
from . import tree as tree
from . import utils as utils
from ._keras_scopes import StatelessScope as StatelessScope
from ._keras_scopes import device as device
from ._scope import name_scope as name_scope
from ._variables import Variable as Variable
from .dtype_policies import DTypePolicy as DTypePolicy
from .dtype_policies import FloatDTypePolicy as FloatDTypePolicy
from .initializers import Initializer as Initializer
from .layers import Input as Input
from .layers import InputSpec as InputSpec
from .layers import InputLayer as InputLayer
from .layers import KerasTensor as KerasTensor
from .layers import Layer as Layer
from .losses import Loss as Loss
from .metrics import Metric as Metric
from .models import Model as Model
from .optimizers import Optimizer as Optimizer
from .models import Sequential as Sequential
from .regularizers import Regularizer as Regularizer

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`kiln.wrappers` loads on first use: it imports scikit-learn (0.7 s), which
    `import kiln` should not pay."""
    if name == "wrappers":
        return importlib.import_module("kiln.wrappers")
    raise AttributeError(f"module 'kiln' has no attribute {name!r}")


def version() -> str:
    """kiln's version (Keras's `keras.version()` gives Keras's)."""
    return __version__


__all__ = [
    "DTypePolicy", "FloatDTypePolicy", "Initializer", "Input", "InputLayer", "InputSpec",
    "KerasTensor", "Layer", "Loss", "Metric", "Model", "Optimizer", "Regularizer", "Sequential",
    "StatelessScope", "Variable", "device", "name_scope", "preprocessing", "tree", "version",
    "wrappers", "activations", "applications", "backend",
    "callbacks",
    "config", "constraints", "datasets", "distribution", "dtype_policies", "initializers",
    "layers", "losses", "metrics", "mixed_precision", "models", "ops", "optimizers", "random",
    "regularizers", "saving", "utils"
]
