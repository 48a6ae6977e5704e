"""Pure normalization functions (Keras 3's formulas on its JAX backend) and the helpers the
normalization layers share.

Keras computes `inv = rsqrt(var + eps) * gamma` and `out = x * inv + (beta - mean * inv)`, with
`jnp.var` (the biased variance) for the statistics; these functions do the same operation for
operation, so the float32 rounding matches.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from ... import _config, initializers, regularizers
from ...constraints import get as get_constraint  # noqa: F401  (shared by the layer files)

Axes = int | Sequence[int]


# -- shared helpers for weight arguments ---------------------------------------------------------
def rebuild_weight_args(config: dict[str, Any]) -> dict[str, Any]:
    """Turns serialized `*_initializer` / `*_regularizer` / `*_constraint` entries of a layer
    config back into objects (the inverse of `_serialize` in `get_config`)."""
    config = dict(config)
    for key, value in config.items():
        if key.endswith("_initializer"):
            config[key] = initializers.get(value)
        elif key.endswith("_regularizer"):
            config[key] = regularizers.get(value)
        elif key.endswith("_constraint"):
            config[key] = get_constraint(value)
    return config


def _axes_list(axis: Axes, ndim: int) -> list[int]:
    """Sorted, non-negative axes; raises a teaching error for an out-of-range axis."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"Axis {a} is out of bounds for an input of rank {ndim}; "
                             f"received axis={axis}. Use an axis in [-{ndim}, {ndim - 1}].")
    return sorted(a % ndim for a in axes)


def _check_axis_arg(axis: Any) -> Axes:
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
        return list(axis)
    raise TypeError(f"`axis` must be an int or a list/tuple of ints; received {axis!r}.")


def _param_shape(ndim: int, axes: list[int], x_shape: Sequence[int]) -> list[int]:
    """Shape that broadcasts a per-feature parameter over the non-normalized axes."""
    shape = [1] * ndim
    for a in axes:
        shape[a] = x_shape[a]
    return shape


def _compute_dtype(x: jax.Array) -> Any:
    # Keras computes statistics in at least float32 (`result_type(x.dtype, "float32")`).
    return jnp.result_type(x.dtype, jnp.float32)


# -- pure functions -----------------------------------------------------------------------------
def moments(x: jax.Array, axes: Sequence[int], mask: jax.Array | None = None
            ) -> tuple[jax.Array, jax.Array]:
    """Mean and biased variance of `x` over `axes` (kept as size-1 dims).

    With a `mask` (True where a value counts, broadcastable to `x`), Keras's masked formula:
    `mean = sum(m * x) / (sum(m) + epsilon)`, `var = sum(m * (x - mean)**2) / (sum(m) + epsilon)`.
    """
    axes = tuple(axes)
    if mask is None:
        return jnp.mean(x, axes, keepdims=True), jnp.var(x, axis=axes, keepdims=True)
    mask = jnp.broadcast_to(mask, x.shape).astype(bool)
    weight = jnp.sum(mask.astype(x.dtype), axes, keepdims=True) + _config.epsilon()
    mean = jnp.sum(jnp.where(mask, x, 0), axes, keepdims=True) / weight
    diff = jnp.where(mask, x - mean, 0)
    return mean, jnp.sum(jnp.square(diff), axes, keepdims=True) / weight


def normalize(x: jax.Array, mean: jax.Array, variance: jax.Array, epsilon: float,
              gamma: jax.Array | None = None, beta: jax.Array | None = None) -> jax.Array:
    """`(x - mean) / sqrt(variance + epsilon) * gamma + beta`, all arguments broadcast.

    Computed as Keras does, `x * inv + (beta - mean * inv)` with `inv = rsqrt(var + eps) * gamma`,
    so the float32 rounding matches.
    """
    inv = jax.lax.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    res = -mean * inv
    if beta is not None:
        res = res + beta
    return x * inv + res


def layer_norm(x: jax.Array, axes: Sequence[int], epsilon: float = 1e-3,
               gamma: jax.Array | None = None, beta: jax.Array | None = None,
               rms_scaling: bool = False) -> jax.Array:
    """Normalizes each sample over `axes`; `gamma`/`beta` must broadcast against `x`.

    `rms_scaling=True` reproduces Keras's deprecated variant `x * rsqrt(var + eps) * gamma`
    (it scales by the variance, not the root mean square, and has no beta).
    """
    mean, variance = moments(x, axes)
    if rms_scaling:
        out = x * jax.lax.rsqrt(variance + epsilon)
        return out * gamma if gamma is not None else out
    return normalize(x, mean, variance, epsilon, gamma, beta)


def rms_norm(x: jax.Array, axes: Sequence[int], epsilon: float = 1e-6,
             scale: jax.Array | None = None) -> jax.Array:
    """`x * rsqrt(mean(x**2, axes) + epsilon) * scale`."""
    out = x * jax.lax.rsqrt(jnp.mean(jnp.square(x), tuple(axes), keepdims=True) + epsilon)
    return out * scale if scale is not None else out


def unit_norm(x: jax.Array, axes: Sequence[int], epsilon: float = 1e-12) -> jax.Array:
    """`x / ||x||_2` over `axes`, as Keras: `x * min(rsqrt(sum(x**2)), 1 / epsilon)`."""
    inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), tuple(axes), keepdims=True))
    return x * jnp.minimum(inv, 1.0 / epsilon)


def group_norm(x: jax.Array, groups: int, axis: int, epsilon: float = 1e-3,
               gamma: jax.Array | None = None, beta: jax.Array | None = None) -> jax.Array:
    """Splits the `axis` channels into `groups` and normalizes each group of each sample over
    its channels and every other non-batch axis. `gamma`/`beta` have shape `(channels,)`."""
    axis = axis % x.ndim
    grouped_shape = list(x.shape)
    grouped_shape[axis: axis + 1] = [groups, x.shape[axis] // groups]
    xg = x.reshape(grouped_shape)
    reduce = [a for a in range(1, xg.ndim) if a != axis]
    mean, variance = moments(xg, reduce)
    pshape = [1] * xg.ndim
    pshape[axis: axis + 2] = [groups, x.shape[axis] // groups]
    g = None if gamma is None else gamma.reshape(pshape)
    b = None if beta is None else beta.reshape(pshape)
    return normalize(xg, mean, variance, epsilon, g, b).reshape(x.shape)
