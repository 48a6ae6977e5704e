"""Small array helpers shared by the metric implementations."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def match_rank(x1: jax.Array, x2: jax.Array, expand_rank_1: bool = True
               ) -> tuple[jax.Array, jax.Array]:
    """Aligns ranks that differ by one through a trailing axis of size 1 (Keras's rule).

    When one array has one more axis than the other and that last axis has size 1, it is
    squeezed, except that a rank-1 partner is expanded instead when `expand_rank_1` is True.
    Anything else is returned unchanged (matches Keras's `squeeze_or_expand_to_same_rank`).
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def divide_no_nan(x: Any, y: Any) -> jax.Array:
    """`x / y`, with 0 wherever `y == 0` (no NaN or inf from an empty denominator)."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, 0, x / safe)
