"""The `keras.backend` helpers that user code still calls.

Example:
    >>> import kiln
    >>> kiln.backend.standardize_dtype(float), kiln.backend.result_type("int32", "float16")
    ('float32', 'float16')
    >>> kiln.backend.is_float_dtype("bfloat16"), kiln.backend.image_data_format()
    (True, 'channels_last')
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from ._config import (epsilon, floatx, image_data_format, set_epsilon, set_floatx,
                      set_image_data_format)
from ._naming import clear_session, get_uid
from .utils._dataset_utils import is_keras_tensor

__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
           "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
           "set_floatx", "set_image_data_format", "standardize_dtype"]

_PYTHON = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32",
           complex: "complex64"}
_ALLOWED = {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
            "bfloat16", "float16", "float32", "float64", "complex64", "complex128", "string",
            "float8_e4m3fn", "float8_e5m2", "int4", "uint4"}


def backend() -> str:
    """kiln always runs on JAX."""
    return "jax"


def standardize_dtype(dtype: Any) -> str:
    """A dtype's Keras name ("float32", "int32", ...): None is floatx, Python types map as
    Keras maps them on JAX (int is int32)."""
    if dtype is None:
        return floatx()
    dtype = _PYTHON.get(dtype, dtype) if isinstance(dtype, (type, str)) else dtype
    if not isinstance(dtype, str):
        name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None)
        dtype = name if isinstance(name, str) else str(dtype).split(".")[-1]
    if dtype not in _ALLOWED:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {sorted(_ALLOWED)}.")
    return dtype


def is_float_dtype(dtype: Any) -> bool:
    """Whether `dtype` is a floating type (float16/32/64, bfloat16, float8)."""
    name = standardize_dtype(dtype)
    return name.startswith("float") or name.startswith("bfloat")


def is_int_dtype(dtype: Any) -> bool:
    """Whether `dtype` is a (signed or unsigned) integer type."""
    name = standardize_dtype(dtype)
    return name.startswith("int") or name.startswith("uint")


def result_type(*dtypes: Any) -> str:
    """The dtype an op on `dtypes` gives, by JAX's promotion lattice as Keras uses it. Python
    `int` / `float` are weak: they only lift bool to int32, or an integer to floatx."""
    if not dtypes:
        return floatx()
    strong = [standardize_dtype(d) for d in dtypes if d not in (int, float, bool)]
    out = (functools.reduce(lambda a, b: str(jnp.promote_types(a, b)), strong) if strong
           else ("bool" if all(d is bool for d in dtypes) else "int32"))
    if float in dtypes and not (is_float_dtype(out) or out.startswith("complex")):
        out = floatx()
    elif int in dtypes and out == "bool":
        out = "int32"
    # canonical as JAX runs it: 64-bit types become 32-bit unless jax_enable_x64 is on
    return out if out == "string" else jax.dtypes.canonicalize_dtype(jnp.dtype(out)).name

