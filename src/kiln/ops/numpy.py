"""Keras's `keras.ops.numpy`: NumPy-named array functions on `jax.numpy`.

Each function has Keras's argument order and defaults and accepts kiln `Variable`s anywhere
an array goes.

>>> from kiln.ops import numpy as knp
>>> knp.shape(knp.matmul(knp.ones((2, 3)), knp.ones((3, 4))))
(2, 4)
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from . import _numpy_custom
from ._wrap import as_float, export, source_of

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
    "arctan2": jnp.arctan2, "fmax": jnp.fmax, "fmin": jnp.fmin, "fmod": jnp.fmod,
    "gcd": jnp.gcd, "lcm": jnp.lcm, "hypot": jnp.hypot, "heaviside": jnp.heaviside,
    "logaddexp": jnp.logaddexp, "logaddexp2": jnp.logaddexp2, "nextafter": jnp.nextafter,
    "ldexp": jnp.ldexp, "inner": jnp.inner, "vdot": jnp.vdot, "kron": jnp.kron,
    "cross": jnp.cross, "tensordot": jnp.tensordot, "correlate": jnp.correlate,
    "bitwise_and": jnp.bitwise_and, "bitwise_or": jnp.bitwise_or,
    "bitwise_xor": jnp.bitwise_xor, "bitwise_left_shift": jnp.left_shift,
    "bitwise_right_shift": jnp.right_shift, "left_shift": jnp.left_shift,
    "right_shift": jnp.right_shift,
    # elementwise, one input
    "abs": jnp.abs, "absolute": jnp.abs, "negative": jnp.negative, "square": jnp.square,
    "sqrt": jnp.sqrt, "exp": jnp.exp, "expm1": jnp.expm1, "log": jnp.log, "log1p": jnp.log1p,
    "log2": jnp.log2, "log10": jnp.log10, "sign": jnp.sign,
"round": jnp.round, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
    "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan, "sinh": jnp.sinh,
    "cosh": jnp.cosh, "tanh": jnp.tanh, "arcsinh": jnp.arcsinh, "arccosh": jnp.arccosh,
    "arctanh": jnp.arctanh, "reciprocal": jnp.reciprocal, "logical_not": jnp.logical_not,
    "isnan": jnp.isnan, "isinf": jnp.isinf, "isfinite": jnp.isfinite,
    "isneginf": jnp.isneginf, "isposinf": jnp.isposinf, "isreal": jnp.isreal,
    "nan_to_num": jnp.nan_to_num, "cbrt": jnp.cbrt, "exp2": jnp.exp2, "fabs": jnp.fabs,
    "deg2rad": jnp.deg2rad, "rad2deg": jnp.rad2deg, "signbit": jnp.signbit, "sinc": jnp.sinc,
    "trunc": jnp.trunc, "i0": jnp.i0, "angle": jnp.angle, "conj": jnp.conj,
    "conjugate": jnp.conjugate, "real": jnp.real, "imag": jnp.imag,
    "bitwise_invert": jnp.invert, "bitwise_not": jnp.invert,
    # shapes and indexing
    "where": jnp.where, "transpose": jnp.transpose, "concatenate": jnp.concatenate,
    "stack": jnp.stack, "hstack": jnp.hstack, "vstack": jnp.vstack, "dstack": jnp.dstack,
    "expand_dims": jnp.expand_dims, "squeeze": jnp.squeeze, "ravel": jnp.ravel,
    "swapaxes": jnp.swapaxes, "moveaxis": jnp.moveaxis, "broadcast_to": jnp.broadcast_to,
    "take": jnp.take, "take_along_axis": jnp.take_along_axis, "tile": jnp.tile,
    "repeat": jnp.repeat, "flip": jnp.flip, "roll": jnp.roll, "split": jnp.split,
    "array_split": jnp.array_split, "hsplit": jnp.hsplit, "vsplit": jnp.vsplit,
    "dsplit": jnp.dsplit, "fliplr": jnp.fliplr, "flipud": jnp.flipud, "rot90": jnp.rot90,
    "sort": jnp.sort, "argsort": jnp.argsort, "argpartition": jnp.argpartition,
    "diag": jnp.diag, "diagonal": jnp.diagonal, "diagflat": jnp.diagflat, "trace": jnp.trace,
    "tril": jnp.tril, "triu": jnp.triu, "size": jnp.size, "ndim": jnp.ndim,
    "cumsum": jnp.cumsum, "cumprod": jnp.cumprod, "einsum": jnp.einsum, "diff": jnp.diff,
    "append": jnp.append, "select": jnp.select, "searchsorted": jnp.searchsorted,
    "digitize": jnp.digitize, "unravel_index": jnp.unravel_index, "isin": jnp.isin,
    "copy": jnp.array, "trapezoid": jnp.trapezoid, "vectorize": jnp.vectorize,
    "average": jnp.average, "ptp": jnp.ptp, "corrcoef": jnp.corrcoef,
    "isclose": jnp.isclose, "allclose": jnp.allclose,
    "nancumsum": jnp.nancumsum, "nancumprod": jnp.nancumprod,
    # creation
    "zeros_like": jnp.zeros_like, "ones_like": jnp.ones_like, "full_like": jnp.full_like,
    "empty_like": jnp.zeros_like, "arange": jnp.arange, "linspace": jnp.linspace,
    "logspace": jnp.logspace, "geomspace": jnp.geomspace, "meshgrid": jnp.meshgrid,
    "vander": jnp.vander, "slogdet": jnp.linalg.slogdet,
}


def _float_rounding(fn: Callable, name: str) -> Callable:
    """Keras's `ops.floor` / `ops.ceil`: integers and bools give floatx, as in Keras."""

    def rounding(x: Any) -> jax.Array:
        return fn(as_float(x))

    rounding.__name__ = name
    rounding.__doc__ = f"Keras `ops.{name}(x)`: `{source_of(fn)}`, integers as floatx."
    return rounding


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

    reduce.__name__ = name
    reduce.__doc__ = (f"Keras `ops.{name}(x, axis=None, keepdims=False)`: "
                      f"`{source_of(fn)}`, accepting kiln Variables.")
    return reduce


_REDUCTIONS: tuple[Callable, ...] = tuple(
    _reduction(fn, name, up) for name, fn, up in (
        ("sum", jnp.sum, False), ("prod", jnp.prod, False), ("max", jnp.max, False),
        ("min", jnp.min, False), ("amax", jnp.max, False), ("amin", jnp.min, False),
        ("all", jnp.all, False), ("any", jnp.any, False), ("argmax", jnp.argmax, False),
        ("argmin", jnp.argmin, False), ("count_nonzero", jnp.count_nonzero, False),
        ("logsumexp", jax.nn.logsumexp, False), ("mean", jnp.mean, True),
        ("var", jnp.var, True), ("std", jnp.std, True), ("median", jnp.median, True),
        ("nanmax", jnp.nanmax, False), ("nanmin", jnp.nanmin, False),
        ("nansum", jnp.nansum, False), ("nanprod", jnp.nanprod, False),
        ("nanmean", jnp.nanmean, True), ("nanvar", jnp.nanvar, True),
        ("nanstd", jnp.nanstd, True), ("nanmedian", jnp.nanmedian, True),
        ("nanargmax", jnp.nanargmax, False), ("nanargmin", jnp.nanargmin, False)))

__all__ = export(globals(), _SAME_SIGNATURE, (*_REDUCTIONS, _float_rounding(jnp.floor, "floor"),
                  _float_rounding(jnp.ceil, "ceil"), *_numpy_custom.CUSTOM),
                 "kiln.ops.numpy")
