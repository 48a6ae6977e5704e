"""Pure samplers behind `kiln.initializers`: `(key, shape, dtype, ...) -> array`.

They are the same `jax.random` calls Keras's JAX backend makes, so with the same key they
return the same numbers as Keras.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _config

Shape = Sequence[int]

# The standard deviation of a unit normal truncated to [-2, 2]; dividing by it gives the
# truncated draw the requested variance (the constant Keras uses).
TRUNCATED_STDDEV = 0.87962566103423978


def standardize_dtype(dtype: Any) -> jnp.dtype:
    """`dtype`, or floatx when it is None."""
    return jnp.dtype(_config.floatx() if dtype is None else dtype)


def standardize_shape(shape: Shape | int) -> tuple[int, ...]:
    """`shape` as a tuple of Python ints (an int means a vector)."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def seed_key(seed: int) -> jax.Array:
    """The raw JAX key Keras's JAX backend builds from an integer seed: `uint32[seed, 0]`."""
    return jnp.array([int(seed) & 0xFFFFFFFF, 0], dtype=jnp.uint32)


def compute_fans(shape: Shape, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None) -> tuple[int, int]:
    """`(fan_in, fan_out)` of a weight, as Keras computes them.

    A scalar has fans 1 and 1; a vector `(n,)` has `n` and `n`; a matrix `(in, out)` has
    `in` and `out`; a conv kernel `(*window, in, out)` has `in * prod(window)` and
    `out * prod(window)`. With both `input_axes` and `output_axes` given, each fan is the
    product of those dimensions.
    """
    shape = standardize_shape(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def normal(key: jax.Array, shape: Shape, dtype: Any = None, mean: float = 0.0,
           stddev: float = 1.0) -> jax.Array:
    """`mean + stddev * N(0, 1)` samples."""
    shape = standardize_shape(shape)
    z = jax.random.normal(key, _flat(shape), dtype=standardize_dtype(dtype)).reshape(shape)
    return z * stddev + mean


def truncated_normal(key: jax.Array, shape: Shape, dtype: Any = None, mean: float = 0.0,
                     stddev: float = 1.0) -> jax.Array:
    """`mean + stddev * z`, `z` a unit normal truncated to `[-2, 2]` (as Keras)."""
    shape = standardize_shape(shape)
    z = jax.random.truncated_normal(key, -2.0, 2.0, _flat(shape),
                                    dtype=standardize_dtype(dtype)).reshape(shape)
    return z * stddev + mean


def uniform(key: jax.Array, shape: Shape, dtype: Any = None, minval: float = 0.0,
            maxval: float = 1.0) -> jax.Array:
    """Samples from `U[minval, maxval)`."""
    shape = standardize_shape(shape)
    return jax.random.uniform(key, _flat(shape), dtype=standardize_dtype(dtype),
                              minval=minval, maxval=maxval).reshape(shape)


def _flat(shape: tuple[int, ...]) -> tuple[int]:
    # jax.random draws element i of any shape from counter i (row-major), so a flat draw
    # reshaped gives the same numbers as Keras's shaped draw. XLA CPU compiles the flat one
    # much faster for some shapes (a (128, 10) kernel: 0.42 s shaped, 0.10 s flat).
    return (math.prod(shape),)


def variance_scaling(key: jax.Array, shape: Shape, dtype: Any = None, scale: float = 1.0,
                     mode: str = "fan_in", distribution: str = "truncated_normal",
                     input_axes: Sequence[int] | None = None,
                     output_axes: Sequence[int] | None = None) -> jax.Array:
    """Samples with variance `scale / n`, `n` = fan_in, fan_out or their mean (`mode`).

    "truncated_normal": stddev `sqrt(scale / n) / 0.8796...`, cut at 2 of its stddevs;
    "untruncated_normal": stddev `sqrt(scale / n)`; "uniform": `U[-l, l]`,
    `l = sqrt(3 * scale / n)`. Keras floors `n` at 1.
    """
    fan_in, fan_out = compute_fans(shape, input_axes, output_axes)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    variance = scale / max(1.0, n)
    if distribution == "truncated_normal":
        return truncated_normal(key, shape, dtype, 0.0, math.sqrt(variance) / TRUNCATED_STDDEV)
    if distribution == "untruncated_normal":
        return normal(key, shape, dtype, 0.0, math.sqrt(variance))
    limit = math.sqrt(3.0 * variance)
    return uniform(key, shape, dtype, -limit, limit)


def orthogonal(key: jax.Array, shape: Shape, dtype: Any = None, gain: float = 1.0) -> jax.Array:
    """A (semi-)orthogonal matrix times `gain`, reshaped to `shape`.

    `shape` is flattened to `(prod(shape[:-1]), shape[-1])`. A normal draw of the taller
    orientation is QR-factorised and Q's columns multiplied by `sign(diag(R))`, which
    makes the result uniform over orthogonal matrices; then the rows (or columns, whichever
    are fewer) are orthonormal.
    """
    shape = standardize_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"Orthogonal needs a shape of rank >= 2; received shape={shape}. "
                         "Use it for kernels, not biases.")
    rows, cols = math.prod(shape[:-1]), shape[-1]
    dtype = standardize_dtype(dtype)
    # XLA's CPU QR has no 16-bit kernels (Keras fails there); factorise in float32 then cast.
    work = jnp.promote_types(dtype, jnp.float32)
    a = jax.random.normal(key, (max(rows, cols), min(rows, cols)), dtype=work)
    q, r = jnp.linalg.qr(a)
    q = q * jnp.sign(jnp.diag(r))
    if rows < cols:
        q = q.T
    return (gain * jnp.reshape(q, shape)).astype(dtype)
