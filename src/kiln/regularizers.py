"""Weight regularizers with Keras 3's names, arguments and formulas.

A regularizer maps a weight to a scalar penalty that is added to the training loss. The
penalties are pure `jax.numpy` functions (`l1_l2_penalty`, `orthogonal_penalty`) wrapped
in Keras-named classes.

Example:
    >>> import kiln, numpy as np
    >>> float(kiln.regularizers.L2(0.1)(np.array([1.0, 2.0])))  # 0.1 * (1 + 4), no 1/2
    0.5
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp

from . import _config
from . import _registry, _serialization
from ._utils import to_snake_case
from ._variables import Variable

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


def _tensor(x: Any) -> jax.Array:
    return jnp.asarray(x.value if isinstance(x, Variable) else x)


def _check_factor(value: Any, name: str) -> float:
    # Keras accepts only finite, non-negative Python numbers (validate_float_arg).
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"Regularization factor `{name}` must be a finite, non-negative "
                         f"number; received {name}={value!r}.")
    return float(value)


def l1_l2_penalty(x: jax.Array, l1: float = 0.0, l2: float = 0.0) -> jax.Array:
    """`l1 * sum(|x|) + l2 * sum(x**2)`, in `x`'s dtype; a zero factor adds no term."""
    x = _tensor(x)
    penalty = jnp.zeros((), x.dtype)
    if l1:
        penalty = penalty + jnp.asarray(l1, x.dtype) * jnp.sum(jnp.abs(x))
    if l2:
        penalty = penalty + jnp.asarray(l2, x.dtype) * jnp.sum(jnp.square(x))
    return penalty


def orthogonal_penalty(x: jax.Array, factor: float = 0.01, mode: str = "rows") -> jax.Array:
    """`factor * 0.5 * sum(|G - diag(G)|) / (n * (n - 1) / 2)`, `G` the Gram matrix of the
    L2-normalised rows (or columns) of the 2-D `x`, `n` their number."""
    x = _tensor(x)
    if x.ndim != 2:
        raise ValueError(f"OrthogonalRegularizer needs a 2-D weight; received shape "
                         f"{tuple(x.shape)}.")
    axis = 1 if mode == "rows" else 0
    # Keras normalises as x * min(rsqrt(sum(x^2)), 1 / epsilon).
    inv_norm = jnp.minimum(jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True)),
                           1.0 / _config.epsilon())
    x = x * inv_norm
    gram = x @ x.T if mode == "rows" else x.T @ x
    n = gram.shape[0]
    off_diagonal = gram * (1.0 - jnp.eye(n, dtype=x.dtype))
    return factor * 0.5 * jnp.sum(jnp.abs(off_diagonal)) / (n * (n - 1.0) / 2.0)


class Regularizer:
    """Base class: `__call__(weight) -> scalar penalty`; subclasses define `get_config`."""

    def __call__(self, x: Any) -> jax.Array | float:
        return 0.0

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"{type(self).__name__} must implement get_config() to be saved; return its "
            "constructor arguments as a dict.")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x**2)` (string "l1l2"; note both default to 0)."""

    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0):
        self.l1 = _check_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _check_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> jax.Array:
        return l1_l2_penalty(x, self.l1, self.l2)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(|x|)` (string "l1")."""

    def __init__(self, l1: float | None = 0.01):
        self.l1 = _check_factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Any) -> jax.Array:
        x = _tensor(x)
        return jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x**2)` (string "l2"). No 1/2 factor, as Keras: the gradient is `2 * l2 * x`."""

    def __init__(self, l2: float | None = 0.01):
        self.l2 = _check_factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> jax.Array:
        x = _tensor(x)
        return jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (`mode="rows"`) or columns of a 2-D weight; see
    `orthogonal_penalty`."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _check_factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer mode must be 'rows' or 'columns'; "
                             f"received mode={mode!r}.")
        self.mode = mode

    def __call__(self, x: Any) -> jax.Array:
        return orthogonal_penalty(x, self.factor, self.mode)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


# Keras exports the classes under lowercase names too; `l1_l2` is the class, not a function.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
#: Every string `get` accepts -> class. As in Keras, "l1l2" is accepted but "l1_l2" is not.
REGULARIZERS: dict[str, type] = {c.__name__: c for c in _CLASSES}
REGULARIZERS.update({to_snake_case(c.__name__): c for c in _CLASSES})
for _cls in _CLASSES:
    _registry.register(_cls, "regularizers")
    _registry.register_alias("regularizers", to_snake_case(_cls.__name__), _cls)


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """A Keras-format config: `{"module", "class_name", "config", "registered_name"}`."""
    return _serialization.serialize(regularizer)


def deserialize(config: dict | str, custom_objects: dict[str, Any] | None = None) -> Regularizer:
    """Builds a regularizer from a name or a `serialize` dict (Keras's format too)."""
    return _serialization.build(config, "regularizers", custom_objects, label="regularizer")


def get(identifier: Any) -> Regularizer | Callable[[Any], Any] | None:
    """Resolves a regularizer identifier.

    Args:
        identifier: None; a name ("l1", "l2", "l1l2", "L1L2", "orthogonal_regularizer");
            a config dict; a `Regularizer` instance or class; or a callable
            `weight -> scalar` (returned as is).

    Returns:
        A regularizer, or None for None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret regularizer identifier {identifier!r} (type "
        f"{type(identifier).__name__}). Expected a name such as 'l2', a config dict, a "
        "Regularizer, or a callable weight -> scalar.")
