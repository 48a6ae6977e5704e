"""Keras `ops.numpy` functions whose Keras signature or dtype rule differs from JAX's.

>>> from kiln.ops import _numpy_custom as c
>>> c.divide_no_nan(1.0, 0.0).item()
0.0
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._wrap import as_float, floatx


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None,
                      ragged: Any = None) -> jax.Array:
    """`x` as a `jax.Array` (optionally of `dtype`).

    >>> convert_to_tensor([1, 2]).shape
    (2,)
    """
    return jnp.asarray(x, dtype=dtype)


def array(x: Any, dtype: Any = None) -> jax.Array:
    """`x` as a new array (optionally of `dtype`).

    >>> array([1.0, 2.0]).dtype.name
    'float32'
    """
    return jnp.array(x, dtype=dtype)


def cast(x: Any, dtype: Any) -> jax.Array:
    """`x` converted to `dtype`.

    >>> cast([1.5], "int32").tolist()
    [1]
    """
    return jnp.asarray(x).astype(dtype)


def shape(x: Any) -> tuple[int, ...]:
    """The static shape of `x` as a tuple of ints.

    >>> shape(jnp.ones((2, 3)))
    (2, 3)
    """
    return tuple(jnp.shape(x))


def dtype(x: Any) -> str:
    """The dtype of `x` as a string, e.g. "float32".

    >>> dtype(jnp.ones(2))
    'float32'
    """
    return jnp.asarray(x).dtype.name


def reshape(x: Any, newshape: Any) -> jax.Array:
    """`x` with shape `newshape` (one entry may be -1).

    >>> reshape(jnp.ones(6), (2, -1)).shape
    (2, 3)
    """
    return jnp.reshape(x, newshape)


def view(x: Any, dtype: Any = None) -> jax.Array:
    """The bytes of `x` reinterpreted as `dtype` (Keras's `ops.view`).

    >>> view(jnp.zeros(2, "float32"), "int32").tolist()
    [0, 0]
    """
    x = jnp.asarray(x)
    return x if dtype is None else x.view(dtype)


def clip(x: Any, x_min: Any, x_max: Any) -> jax.Array:
    """`min(max(x, x_min), x_max)`.

    >>> clip(jnp.array([-2.0, 2.0]), -1, 1).tolist()
    [-1.0, 1.0]
    """
    return jnp.clip(x, x_min, x_max)


def zeros(shape: Any, dtype: Any = None) -> jax.Array:
    """An array of zeros; `dtype` defaults to floatx.

    >>> zeros((2,)).tolist()
    [0.0, 0.0]
    """
    return jnp.zeros(shape, floatx(dtype))


def ones(shape: Any, dtype: Any = None) -> jax.Array:
    """An array of ones; `dtype` defaults to floatx.

    >>> ones((2,)).tolist()
    [1.0, 1.0]
    """
    return jnp.ones(shape, floatx(dtype))


def empty(shape: Any, dtype: Any = None) -> jax.Array:
    """An array of `shape` (zero-filled, as JAX has no uninitialized memory).

    >>> empty((1,)).shape
    (1,)
    """
    return jnp.zeros(shape, floatx(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> jax.Array:
    """An array filled with `fill_value`; `dtype` defaults to floatx (as Keras).

    >>> full((1,), 3).tolist()
    [3.0]
    """
    return jnp.full(shape, fill_value, floatx(dtype))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> jax.Array:
    """An `N x M` matrix with ones on diagonal `k`; `dtype` defaults to floatx.

    >>> eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return jnp.eye(N, M, k, dtype=floatx(dtype))


def identity(n: int, dtype: Any = None) -> jax.Array:
    """The `n x n` identity matrix; `dtype` defaults to floatx.

    >>> identity(1).tolist()
    [[1.0]]
    """
    return jnp.identity(n, dtype=floatx(dtype))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> jax.Array:
    """Ones at and below diagonal `k`; `dtype` defaults to floatx.

    >>> tri(2).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return jnp.tri(N, M, k, dtype=floatx(dtype))


def divide_no_nan(x1: Any, x2: Any) -> jax.Array:
    """`x1 / x2`, with 0 wherever `x2 == 0`.

    >>> divide_no_nan(jnp.array([1.0, 2.0]), jnp.array([0.0, 4.0])).tolist()
    [0.0, 0.5]
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.true_divide(x1, safe))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> jax.Array:
    """Vector or matrix norm (integers are converted to float first, as Keras).

    >>> norm(jnp.array([3.0, 4.0])).item()
    5.0
    """
    return jnp.linalg.norm(as_float(x), ord=ord, axis=axis, keepdims=keepdims)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> jax.Array:
    """`x` padded by `pad_width`; `constant_values` only applies to mode "constant".

    >>> pad(jnp.ones(1), 1).tolist()
    [0.0, 1.0, 0.0]
    """
    if constant_values is None:
        return jnp.pad(x, pad_width, mode=mode)
    if mode != "constant":
        raise ValueError(f"pad: constant_values is only used with mode='constant'; "
                         f"received mode={mode!r}.")
    return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)


def _quantile_float(x: Any) -> jax.Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype("float32")


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
             keepdims: bool = False) -> jax.Array:
    """The `q`-th quantiles (0 <= q <= 1) of `x` along `axis`.

    >>> quantile(jnp.array([1.0, 2.0, 3.0]), 0.5).item()
    2.0
    """
    return jnp.quantile(_quantile_float(x), q, axis=axis, method=method, keepdims=keepdims)


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
               keepdims: bool = False) -> jax.Array:
    """The `q`-th percentiles (0 <= q <= 100) of `x` along `axis`.

    >>> percentile(jnp.array([1.0, 2.0, 3.0]), 50).item()
    2.0
    """
    return jnp.percentile(_quantile_float(x), q, axis=axis, method=method, keepdims=keepdims)


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                keepdims: bool = False) -> jax.Array:
    """`quantile` ignoring NaNs.

    >>> nanquantile(jnp.array([1.0, jnp.nan, 3.0]), 0.5).item()
    2.0
    """
    return jnp.nanquantile(_quantile_float(x), q, axis=axis, method=method, keepdims=keepdims)


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                  keepdims: bool = False) -> jax.Array:
    """`percentile` ignoring NaNs.

    >>> nanpercentile(jnp.array([1.0, jnp.nan, 3.0]), 50).item()
    2.0
    """
    return jnp.nanpercentile(_quantile_float(x), q, axis=axis, method=method,
                             keepdims=keepdims)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> jax.Array:
    """Counts of each non-negative integer in 1-D (or per row of 2-D) `x`.

    >>> bincount(jnp.array([0, 1, 1])).tolist()
    [1, 2]
    """
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by kiln; use sparse=False.")
    x = jnp.asarray(x)
    length = max(int(np.max(np.asarray(x))) + 1 if x.size else 0, minlength)
    count = lambda row, w: jnp.bincount(row, weights=w, minlength=minlength, length=length)
    if x.ndim == 2:
        return jax.vmap(count)(x, None if weights is None else jnp.asarray(weights))
    return count(x, weights)


def histogram(x: Any, bins: int = 10, range: Any = None) -> tuple[jax.Array, jax.Array]:
    """`(counts, bin_edges)` of 1-D `x` over `bins` equal-width bins.

    The counts are float32, as Keras's (and `jnp.histogram`'s).

    >>> histogram(jnp.array([0.0, 1.0]), bins=2)[0].tolist()
    [1.0, 1.0]
    """
    return jnp.histogram(jnp.asarray(x), bins=bins, range=range)


def nonzero(x: Any) -> tuple[jax.Array, ...]:
    """The indices of the non-zero entries of `x`, one int32 array per axis.

    >>> nonzero(jnp.array([0, 3, 0, 4]))[0].tolist()
    [1, 3]
    """
    return tuple(i.astype("int32") for i in jnp.nonzero(jnp.asarray(x)))


def unique(x: Any, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, axis: Any = None, size: Any = None) -> Any:
    """The unique entries of `x` (eager only unless `size` is given, as in JAX).

    >>> unique(jnp.array([2, 1, 2])).tolist()
    [1, 2]
    """
    return jnp.unique(jnp.asarray(x), return_inverse=return_inverse,
                      return_counts=return_counts, axis=axis, size=size)


def get_item(x: Any, key: Any) -> jax.Array:
    """`x[key]`.

    >>> get_item(jnp.arange(3), 1).item()
    1
    """
    return jnp.asarray(x)[key]


def blackman(x: int) -> jax.Array:
    """The Blackman window of length `x` (floatx).

    >>> blackman(3).shape
    (3,)
    """
    return jnp.blackman(x).astype(floatx(None))


def bartlett(x: int) -> jax.Array:
    """The Bartlett window of length `x` (floatx).

    >>> bartlett(3).tolist()
    [0.0, 1.0, 0.0]
    """
    return jnp.bartlett(x).astype(floatx(None))


def hamming(x: int) -> jax.Array:
    """The Hamming window of length `x` (floatx).

    >>> hamming(3).shape
    (3,)
    """
    return jnp.hamming(x).astype(floatx(None))


def hanning(x: int) -> jax.Array:
    """The Hann window of length `x` (floatx).

    >>> hanning(3).tolist()
    [0.0, 1.0, 0.0]
    """
    return jnp.hanning(x).astype(floatx(None))


def kaiser(x: int, beta: float) -> jax.Array:
    """The Kaiser window of length `x` with shape parameter `beta` (floatx).

    >>> kaiser(3, 0.0).tolist()
    [1.0, 1.0, 1.0]
    """
    return jnp.kaiser(x, beta).astype(floatx(None))


CUSTOM = (convert_to_tensor, array, cast, shape, dtype, reshape, view, clip, zeros, ones,
          empty, full, eye, identity, tri, divide_no_nan, pad, quantile, percentile,
          nanquantile, nanpercentile, bincount, histogram, nonzero, unique, get_item,
          blackman, bartlett, hamming, hanning, kaiser)
