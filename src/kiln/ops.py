"""Keras-named array operations (`keras.ops`) for user code: custom layers, losses, metrics.

Each function is the matching `jax.numpy`, `jax.nn` or `jax.lax` function with Keras's
argument order and defaults, and accepts kiln `Variable`s anywhere an array goes
(`ops.matmul(x, self.kernel)`, `ops.concatenate([v1, v2])`). Recent JAX releases no
longer convert foreign objects through `__jax_array__`, so every op unwraps Variables
first. kiln itself calls JAX directly; this module exists for code written against Keras.

Example:
    >>> from kiln import ops
    >>> ops.shape(ops.matmul(ops.ones((2, 3)), ops.ones((3, 4))))
    (2, 4)
"""

from __future__ import annotations

import builtins
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _config
from ._variables import Variable, unwrap


def _accept_variables(fn: Callable, name: str, source: str | None = None) -> Callable:
    """`fn` with every kiln Variable in its arguments (nested in lists too) unwrapped."""

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        # `builtins.any`: this module defines its own `any` (and `all`, `max`, `sum`, ...).
        containers = (Variable, list, tuple, dict)
        if builtins.any(isinstance(a, containers) for a in (*args, *kwargs.values())):
            args, kwargs = unwrap((args, kwargs))
        return fn(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__module__ = __name__
    if source is not None:
        op.__doc__ = f"Keras `ops.{name}`: `{source}`, accepting kiln Variables."
    return op


def _source(fn: Callable) -> str:
    module = getattr(fn, "__module__", "") or ""
    prefix = ("jnp" if module.startswith(("jax.numpy", "jax._src.numpy"))
              else "jax.scipy.special" if "scipy" in module
              else "jax.nn" if "nn" in module else "jax.lax" if "lax" in module else module)
    return f"{prefix}.{getattr(fn, '__name__', '?')}"


# Keras name -> JAX function with the same positional signature and defaults.
_SAME_SIGNATURE: dict[str, Callable] = {
    # elementwise, two inputs
    "add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply,
    "divide": jnp.true_divide, "true_divide": jnp.true_divide, "floor_divide": jnp.floor_divide,
    "mod": jnp.mod, "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum,
    "equal": jnp.equal, "not_equal": jnp.not_equal, "greater": jnp.greater,
    "greater_equal": jnp.greater_equal, "less": jnp.less, "less_equal": jnp.less_equal,
    "logical_and": jnp.logical_and, "logical_or": jnp.logical_or,
    "logical_xor": jnp.logical_xor, "matmul": jnp.matmul, "dot": jnp.dot, "outer": jnp.outer,
    "arctan2": jnp.arctan2,
    # elementwise, one input
    "abs": jnp.abs, "absolute": jnp.abs, "negative": jnp.negative, "square": jnp.square,
    "sqrt": jnp.sqrt, "exp": jnp.exp, "expm1": jnp.expm1, "log": jnp.log, "log1p": jnp.log1p,
    "log2": jnp.log2, "log10": jnp.log10, "sign": jnp.sign, "floor": jnp.floor,
    "ceil": jnp.ceil, "round": jnp.round, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
    "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan, "sinh": jnp.sinh,
    "cosh": jnp.cosh, "reciprocal": jnp.reciprocal, "logical_not": jnp.logical_not,
    "isnan": jnp.isnan, "isinf": jnp.isinf, "isfinite": jnp.isfinite,
    "nan_to_num": jnp.nan_to_num, "erf": jax.scipy.special.erf, "rsqrt": jax.lax.rsqrt,
    "stop_gradient": jax.lax.stop_gradient,
    # shapes and indexing
    "where": jnp.where, "transpose": jnp.transpose, "concatenate": jnp.concatenate,
    "stack": jnp.stack, "hstack": jnp.hstack, "vstack": jnp.vstack,
    "expand_dims": jnp.expand_dims, "squeeze": jnp.squeeze, "ravel": jnp.ravel,
    "swapaxes": jnp.swapaxes, "moveaxis": jnp.moveaxis, "broadcast_to": jnp.broadcast_to,
    "take": jnp.take, "take_along_axis": jnp.take_along_axis, "tile": jnp.tile,
    "repeat": jnp.repeat, "flip": jnp.flip, "roll": jnp.roll, "split": jnp.split,
    "sort": jnp.sort, "argsort": jnp.argsort, "diag": jnp.diag, "diagonal": jnp.diagonal,
    "trace": jnp.trace, "tril": jnp.tril, "triu": jnp.triu, "size": jnp.size, "ndim": jnp.ndim,
    "cumsum": jnp.cumsum, "cumprod": jnp.cumprod, "einsum": jnp.einsum,
    "slice": jax.lax.dynamic_slice, "slice_update": jax.lax.dynamic_update_slice,
    # creation
    "zeros_like": jnp.zeros_like, "ones_like": jnp.ones_like, "full_like": jnp.full_like,
    "arange": jnp.arange, "linspace": jnp.linspace,
    # neural-network functions (Keras's ops defaults equal jax.nn's for these)
    "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "relu6": jax.nn.relu6,
    "tanh": jnp.tanh, "softplus": jax.nn.softplus, "softsign": jax.nn.soft_sign,
    "silu": jax.nn.silu, "swish": jax.nn.silu, "elu": jax.nn.elu, "selu": jax.nn.selu,
    "celu": jax.nn.celu, "gelu": jax.nn.gelu, "glu": jax.nn.glu,
    "hard_sigmoid": jax.nn.hard_sigmoid, "hard_silu": jax.nn.hard_silu,
    "log_sigmoid": jax.nn.log_sigmoid, "softmax": jax.nn.softmax,
    "log_softmax": jax.nn.log_softmax, "squareplus": jax.nn.squareplus,
    # control flow (same argument order as Keras's)
    "cond": jax.lax.cond, "fori_loop": jax.lax.fori_loop, "scan": jax.lax.scan,
}


def _reduction(fn: Callable, name: str, upcast: bool = False) -> Callable:
    """Keras's `(x, axis=None, keepdims=False)` reduction on top of `fn`.

    With `upcast`, low-precision floats are reduced in float32 and cast back and integers
    give float32, as Keras's JAX backend does for mean/var/std.
    """

    def reduce(x: Any, axis: Any = None, keepdims: bool = False, **kwargs: Any) -> jax.Array:
        x = jnp.asarray(x)
        if not upcast:
            return fn(x, axis=axis, keepdims=keepdims, **kwargs)
        is_float = jnp.issubdtype(x.dtype, jnp.floating)
        result = fn(x.astype(jnp.promote_types(x.dtype, jnp.float32)), axis=axis,
                    keepdims=keepdims, **kwargs)
        return result.astype(x.dtype if is_float else jnp.float32)

    reduce.__doc__ = (f"Keras `ops.{name}(x, axis=None, keepdims=False)`: "
                      f"`{_source(fn)}`, accepting kiln Variables.")
    return reduce


_REDUCTIONS: dict[str, Callable] = {
    "sum": _reduction(jnp.sum, "sum"), "prod": _reduction(jnp.prod, "prod"),
    "max": _reduction(jnp.max, "max"), "min": _reduction(jnp.min, "min"),
    "amax": _reduction(jnp.max, "amax"), "amin": _reduction(jnp.min, "amin"),
    "all": _reduction(jnp.all, "all"), "any": _reduction(jnp.any, "any"),
    "argmax": _reduction(jnp.argmax, "argmax"), "argmin": _reduction(jnp.argmin, "argmin"),
    "count_nonzero": _reduction(jnp.count_nonzero, "count_nonzero"),
    "logsumexp": _reduction(jax.nn.logsumexp, "logsumexp"),
    "mean": _reduction(jnp.mean, "mean", upcast=True),
    "var": _reduction(jnp.var, "var", upcast=True),
    "std": _reduction(jnp.std, "std", upcast=True),
}


# -- ops whose Keras signature differs from JAX's --------------------------------------------
def _floatx(dtype: Any) -> Any:
    return _config.floatx() if dtype is None else dtype


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None,
                      ragged: Any = None) -> jax.Array:
    """`x` as a `jax.Array` (optionally of `dtype`)."""
    return jnp.asarray(x, dtype=dtype)


def cast(x: Any, dtype: Any) -> jax.Array:
    """`x` converted to `dtype`."""
    return jnp.asarray(x).astype(dtype)


def shape(x: Any) -> tuple[int, ...]:
    """The static shape of `x` as a tuple of ints."""
    return tuple(jnp.shape(x))


def dtype(x: Any) -> str:
    """The dtype of `x` as a string, e.g. "float32"."""
    return jnp.asarray(x).dtype.name


def is_tensor(x: Any) -> bool:
    """Whether `x` is a JAX array (kiln's tensor type)."""
    return isinstance(x, jax.Array)


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array (copies from the device)."""
    return np.asarray(x)


def reshape(x: Any, newshape: Any) -> jax.Array:
    """`x` with shape `newshape` (one entry may be -1)."""
    return jnp.reshape(x, newshape)


def clip(x: Any, x_min: Any, x_max: Any) -> jax.Array:
    """`min(max(x, x_min), x_max)`."""
    return jnp.clip(x, x_min, x_max)


def zeros(shape: Any, dtype: Any = None) -> jax.Array:
    """An array of zeros; `dtype` defaults to floatx."""
    return jnp.zeros(shape, _floatx(dtype))


def ones(shape: Any, dtype: Any = None) -> jax.Array:
    """An array of ones; `dtype` defaults to floatx."""
    return jnp.ones(shape, _floatx(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> jax.Array:
    """An array filled with `fill_value`; `dtype` defaults to floatx (as Keras)."""
    return jnp.full(shape, fill_value, _floatx(dtype))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> jax.Array:
    """An `N x M` matrix with ones on diagonal `k`; `dtype` defaults to floatx."""
    return jnp.eye(N, M, k, dtype=_floatx(dtype))


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
            sparse: bool = False) -> jax.Array:
    """One-hot encoding of integer `x`; out-of-range values give all-zero rows."""
    if sparse:
        raise ValueError("kiln.ops.one_hot does not support sparse=True; use sparse=False.")
    return jax.nn.one_hot(x, num_classes, dtype=_floatx(dtype), axis=axis)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> jax.Array:
    """`x` if `x >= 0` else `negative_slope * x` (Keras's default slope is 0.2)."""
    return jax.nn.leaky_relu(x, negative_slope=negative_slope)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> jax.Array:
    """Vector or matrix norm (integers are converted to float first, as Keras)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(_config.floatx())
    return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[jax.Array, jax.Array]:
    """`(values, indices)` of the `k` largest entries along the last axis (always sorted)."""
    return jax.lax.top_k(x, k)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> jax.Array:
    """`x` padded by `pad_width`; `constant_values` only applies to mode "constant"."""
    if constant_values is None:
        return jnp.pad(x, pad_width, mode=mode)
    if mode != "constant":
        raise ValueError(f"pad: constant_values is only used with mode='constant'; "
                         f"received mode={mode!r}.")
    return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[jax.Array]:
    """The slices of `x` along `axis`, as a list."""
    x = jnp.asarray(x)
    return [jnp.take(x, i, axis=axis) for i in range(x.shape[axis])]


def scatter(indices: Any, values: Any, shape: Any) -> jax.Array:
    """A zero array of `shape` with `values` added at `indices` (shape `(n, rank)`)."""
    indices, values = jnp.asarray(indices), jnp.asarray(values)
    return jnp.zeros(shape, values.dtype).at[tuple(indices.T)].add(values)


_CUSTOM = (convert_to_tensor, cast, shape, dtype, is_tensor, convert_to_numpy, reshape, clip,
           zeros, ones, full, eye, one_hot, leaky_relu, norm, top_k, pad, unstack, scatter)

# Build the public functions: every one of them unwraps Variables before running.
for _name, _fn in _SAME_SIGNATURE.items():
    globals()[_name] = _accept_variables(_fn, _name, _source(_fn))
for _name, _fn in _REDUCTIONS.items():
    globals()[_name] = _accept_variables(_fn, _name)
for _fn in _CUSTOM:
    globals()[_fn.__name__] = _accept_variables(_fn, _fn.__name__)
del _name, _fn

__all__ = sorted([*_SAME_SIGNATURE, *_REDUCTIONS, *(f.__name__ for f in _CUSTOM)])
