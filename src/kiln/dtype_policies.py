"""Keras's dtype policies: a layer's compute dtype and variable dtype, and the global policy.

A policy named after a float dtype ("float32", "bfloat16", ...) computes and stores in that
dtype; "mixed_float16" / "mixed_bfloat16" compute in float16 / bfloat16 and keep the weights in
float32. Layers cast their floating inputs to the compute dtype and read their weights cast to
it (Keras's autocast), so only the stored weights and the optimizer stay in float32.

Example:
    >>> policy = DTypePolicy("mixed_float16")
    >>> policy.compute_dtype, policy.variable_dtype
    ('float16', 'float32')
    >>> set_dtype_policy("mixed_bfloat16")
    >>> dtype_policy()
    <DTypePolicy "mixed_bfloat16">
    >>> set_dtype_policy("float32")
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from . import _config, _scope
from ._variables import Variable

__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get",
           "serialize", "set_dtype_policy"]

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_GLOBAL: list["DTypePolicy | None"] = [None]  # None: follow floatx


def _standard_dtype(name: Any) -> str:
    return np.dtype(jnp.dtype(name)).name


class DTypePolicy:
    """A layer's dtype policy: `compute_dtype` for its computations, `variable_dtype` for its
    weights (Keras's `keras.DTypePolicy`).

    Args:
        name: "mixed_float16", "mixed_bfloat16", or a dtype name such as "float32" (both
            dtypes are then that one). Default: the global policy's name.

    Example:
        >>> DTypePolicy("float32").get_config()
        {'name': 'float32'}
        >>> DTypePolicy("mixed_bfloat16") == DTypePolicy.from_config({"name": "mixed_bfloat16"})
        True
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy expected a string name such as 'mixed_float16'; "
                            f"received name={name!r} (of type {type(name).__name__}).")
        self._name = name
        self._compute_dtype, self._variable_dtype = _parse(name)
        self._quantization_mode = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's inputs, computations and outputs."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer creates its weights in."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        return self._quantization_mode

    def get_config(self) -> dict[str, Any]:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self._name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy  # Keras's alias


def _parse(name: str) -> tuple[str, str]:
    if name in _MIXED:
        return _MIXED[name], "float32"
    try:
        dtype = _standard_dtype(name)
    except TypeError:
        dtype = None
    if dtype is None:
        raise ValueError(f"Cannot convert '{name}' to a DTypePolicy. Expected 'mixed_float16', "
                         "'mixed_bfloat16' or the name of a dtype such as 'float32'.")
    return dtype, dtype


def get(identifier: Any) -> DTypePolicy:
    """A policy from a name, a dtype, a policy, a Keras config dict, or None (the global one).

    Example:
        >>> get({"module": "keras", "class_name": "DTypePolicy",
        ...      "config": {"name": "mixed_float16"}, "registered_name": None}).compute_dtype
        'float16'
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(_standard_dtype(identifier))
    except TypeError:
        raise ValueError(f"Cannot interpret dtype {identifier!r} as a DTypePolicy. Pass a "
                         "policy name ('mixed_float16', 'float32', ...) or a DTypePolicy."
                         ) from None


def serialize(policy: DTypePolicy) -> dict[str, Any]:
    """The policy in Keras's format (`module` "keras", `class_name` "DTypePolicy")."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}


def deserialize(config: dict[str, Any], custom_objects: Any = None) -> DTypePolicy:
    """The inverse of `serialize` (also reads Keras's "FloatDTypePolicy" configs)."""
    class_name = config.get("class_name")
    if class_name not in ("DTypePolicy", "FloatDTypePolicy"):
        raise ValueError(f"Cannot deserialize a dtype policy of class {class_name!r}: expected "
                         "'DTypePolicy' or 'FloatDTypePolicy' (quantized policies are not "
                         "supported by kiln).")
    return DTypePolicy.from_config(dict(config.get("config") or {}))


def set_dtype_policy(policy: Any) -> None:
    """Sets the global policy new layers use when created without `dtype=` (Keras's
    `keras.config.set_dtype_policy`); a name or a `DTypePolicy`."""
    if not isinstance(policy, (str, DTypePolicy)):
        raise ValueError(f"set_dtype_policy expected a policy name such as 'mixed_float16' or a "
                         f"DTypePolicy; received {policy!r}.")
    _GLOBAL[0] = get(policy)


def dtype_policy() -> DTypePolicy:
    """The global policy (`DTypePolicy(floatx())` until one is set)."""
    policy = _GLOBAL[0]
    if policy is None:
        policy = DTypePolicy(_config.floatx())
    return policy


# -- used by Layer.__call__ ---------------------------------------------------------------------
def _cast_leaf(x: Any, dtype: str) -> Any:
    if isinstance(x, (jax.Array, np.ndarray)) and x.dtype != dtype and \
            jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(dtype)
    return x


def cast_inputs(args: tuple, kwargs: dict, dtype: str) -> tuple[tuple, dict]:
    """Floating array inputs cast to `dtype` (Keras's `convert_input`, used by
    `Layer.__call__`); the common case (one array already in `dtype`, no keyword arguments)
    returns at once.

    Example:
        >>> args, _ = cast_inputs((jnp.ones(2), jnp.arange(2)), {}, "float16")
        >>> [str(a.dtype) for a in args]
        ['float16', 'int32']
    """
    if len(args) == 1 and not kwargs and getattr(args[0], "dtype", None) == dtype:
        return args, kwargs
    cast = functools.partial(_cast_leaf, dtype=dtype)
    return jax.tree_util.tree_map(cast, args), jax.tree_util.tree_map(cast, kwargs)


@contextlib.contextmanager
def autocast_scope(variables: list[Variable], dtype: str) -> Iterator[None]:
    """Keras's AutocastScope for `Layer.call`: binds each floating trainable variable (not
    created with `autocast=False`) to its value cast to `dtype` for the block; the block's
    writes and `add_loss` values are handed on to the enclosing scope.

    Example:
        >>> v = Variable(jnp.ones(2), name="v")
        >>> with autocast_scope([v], "bfloat16"):
        ...     str(v.value.dtype)
        'bfloat16'
    """
    values = {v: v.value.astype(dtype) for v in variables
              if v.trainable and getattr(v, "autocast", True)
              and jnp.issubdtype(v.dtype, jnp.floating) and v.dtype != dtype}
    if not values:
        yield
        return
    outer = _scope.current()
    with _scope.bind(values) as inner:
        yield
    for key, value in inner.writes.items():
        inner.variables[key].assign(value)
    for source, value in zip(inner.sources, inner.losses):
        if outer is not None:
            outer.add_loss(source, value)
