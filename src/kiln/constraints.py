"""Weight constraints, as `keras.constraints`: applied to a weight after each optimizer update.

Each is a callable `w -> w'` (pure jax.numpy) with `get_config`; `get` resolves Keras's names.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from . import _config
from . import _registry, _serialization
from ._utils import to_snake_case


class Constraint:
    """Base class: subclasses implement `__call__(w)` and return the projected weight."""

    def __call__(self, w: jax.Array) -> jax.Array:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Constraint":
        return cls(**config)


def _norms(w: jax.Array, axis: Any) -> jax.Array:
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))


def _rescale(w: jax.Array, norms: jax.Array, desired: jax.Array) -> jax.Array:
    # Keras adds epsilon to the norm in the denominator: `w * desired / (eps + norms)`.
    return w * (desired / (_config.epsilon() + norms))


class MaxNorm(Constraint):
    """Rescales each slice along `axis` so its L2 norm is at most `max_value`.

    `w * clip(n, 0, max_value) / (eps + n)`, with `n = ||w||` over `axis` (0: each column of a
    Dense kernel).
    """

    def __init__(self, max_value: float = 2.0, axis: Any = 0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: jax.Array) -> jax.Array:
        norms = _norms(w, self.axis)
        return _rescale(w, norms, jnp.clip(norms, 0, self.max_value))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's norm into `[min_value, max_value]` at speed `rate`:
    `desired = rate * clip(n, min, max) + (1 - rate) * n`."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: jax.Array) -> jax.Array:
        norms = _norms(w, self.axis)
        desired = (self.rate * jnp.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return _rescale(w, norms, desired)

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Clamps negative weights to 0."""

    def __call__(self, w: jax.Array) -> jax.Array:
        return jnp.maximum(w, 0)


class UnitNorm(Constraint):
    """Scales each slice along `axis` to unit L2 norm: `w / (eps + ||w||)`."""

    def __init__(self, axis: Any = 0):
        self.axis = axis

    def __call__(self, w: jax.Array) -> jax.Array:
        return w / (_config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


_CLASSES = {c.__name__: c for c in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
for _name, _cls in _CLASSES.items():
    _registry.register(_cls, "constraints")
    _registry.register_alias("constraints", to_snake_case(_name), _cls)

max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm


def get(identifier: Any) -> Callable | None:
    """None, a callable, a name ("max_norm", "NonNeg", ...) or a `{"class_name", "config"}`
    dict -> a constraint."""
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, (dict, str)):
        return deserialize(identifier)
    raise TypeError(f"Cannot interpret constraint {identifier!r}: pass a name, a config dict "
                    "or a callable.")


def serialize(constraint: Any) -> Any:
    """Keras's `{"module", "class_name", "config", "registered_name"}` (None for None)."""
    return _serialization.serialize(constraint)


def deserialize(config: dict | str, custom_objects: dict[str, Any] | None = None) -> Constraint:
    """Builds a constraint from a name ("max_norm", "NonNeg", ...) or a `serialize` dict."""
    return _serialization.build(config, "constraints", custom_objects, label="constraint")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]
