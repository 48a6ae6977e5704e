"""Small array helpers shared by the metric implementations."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

# Keras uses one rank-alignment rule for losses and metrics; so does kiln.
from ..losses._reduction import squeeze_or_expand_to_same_rank as match_rank  # noqa: F401


def divide_no_nan(x: Any, y: Any) -> jax.Array:
    """`x / y`, with 0 wherever `y == 0` (no NaN or inf from an empty denominator)."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, 0, x / safe)
