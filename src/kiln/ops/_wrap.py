"""The machinery shared by the `kiln.ops` modules: Variable unwrapping and export tables.

>>> from kiln.ops import _wrap
>>> import jax.numpy as jnp
>>> float(_wrap.accept_variables(jnp.add, "add")(1.0, 2.0))
3.0
"""

from __future__ import annotations

import builtins
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from .. import _config
from .._variables import Variable, unwrap


# The graph builder for ops called on symbolic tensors (`kiln.Input(...)` and what layers
# return on it). `kiln.layers` sets it when it loads: the symbolic tensor and the graph node
# live there, above this package, so this module only holds the slot and asks it.
SYMBOLIC: dict[str, Callable | None] = {"call": None}


def is_symbolic(args: Any, kwargs: Any) -> bool:
    """Whether a symbolic tensor is among the arguments (nested in lists and dicts too)."""
    leaves = jax.tree_util.tree_leaves((args, kwargs), is_leaf=_symbolic_leaf)
    return builtins.any(_symbolic_leaf(x) for x in leaves)


def _symbolic_leaf(x: Any) -> bool:
    return getattr(type(x), "_kiln_symbolic", False)


def accept_variables(fn: Callable, name: str, source: str | None = None,
                     module: str | None = None) -> Callable:
    """`fn` with every kiln Variable in its arguments (nested in lists too) unwrapped.

    >>> import jax.numpy as jnp
    >>> accept_variables(jnp.negative, "negative")(1.0).item()
    -1.0
    """

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        graph = SYMBOLIC["call"]
        if graph is not None and is_symbolic(args, kwargs):  # a functional-graph node
            return graph(op, args, kwargs)
        containers = (Variable, list, tuple, dict)
        if builtins.any(isinstance(a, containers) for a in (*args, *kwargs.values())):
            args, kwargs = unwrap((args, kwargs))
        return fn(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__module__ = module or "kiln.ops"
    if source is not None:
        op.__doc__ = f"Keras `ops.{name}`: `{source}`, accepting kiln Variables."
    return op


def source_of(fn: Callable) -> str:
    """A short readable origin of a JAX function, e.g. "jnp.add".

    >>> import jax.numpy as jnp
    >>> source_of(jnp.add)
    'jnp.add'
    """
    module = getattr(fn, "__module__", "") or ""
    prefix = ("jnp" if module.startswith(("jax.numpy", "jax._src.numpy"))
              else "jax.scipy.special" if "scipy" in module
              else "jax.nn" if "nn" in module else "jax.lax" if "lax" in module else module)
    return f"{prefix}.{getattr(fn, '__name__', '?')}"


def floatx(dtype: Any) -> Any:
    """`dtype`, or kiln's floatx when it is None.

    >>> floatx(None)
    'float32'
    """
    return _config.floatx() if dtype is None else dtype


def as_float(x: Any) -> jax.Array:
    """`x` as an array, integers and bools converted to floatx (Keras's rule for most math).

    >>> as_float(1).dtype.name
    'float32'
    """
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(_config.floatx())


def export(namespace: dict, same_signature: dict[str, Callable],
           custom: tuple[Callable, ...], module: str) -> list[str]:
    """Define the wrapped public functions of one ops module in `namespace`; return names.

    >>> ns = {}
    >>> import jax.numpy as jnp
    >>> export(ns, {"add": jnp.add}, (), "m")
    ['add']
    """
    for name, fn in same_signature.items():
        namespace[name] = accept_variables(fn, name, source_of(fn), module)
    for fn in custom:
        namespace[fn.__name__] = accept_variables(fn, fn.__name__, None, module)
    return sorted([*same_signature, *(f.__name__ for f in custom)])
