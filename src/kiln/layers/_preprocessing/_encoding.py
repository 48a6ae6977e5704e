"""Categorical encoding shared by the preprocessing layers (pure jax.numpy, jittable).

Matches Keras's `encode_categorical_inputs` on the JAX backend: a rank-1 input is one
sample, so `multi_hot` / `count` reduce over axis 0; otherwise they reduce over axis 1.
Indices outside `[0, depth)` (kiln uses -1 for masked tokens and padding) encode to zeros,
as `jax.nn.one_hot` does.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from ..._utils import unknown_name_error

_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


def check_output_mode(output_mode: Any, allowed: Sequence[str], layer: str) -> str:
    """Returns the canonical `output_mode` name, or raises a ValueError naming the valid ones."""
    mode = _ALIASES.get(output_mode, output_mode)
    if mode not in allowed:
        raise unknown_name_error("output_mode", output_mode, allowed,
                                 argument=f"{layer}(output_mode=...)")
    return mode


def encode_categorical(indices: Any, output_mode: str, depth: int, dtype: Any,
                       count_weights: Any = None) -> jax.Array:
    """Encodes integer category indices.

    Args:
        indices: integer array; a rank-1 array is a single sample.
        output_mode: "int" (cast only), "one_hot", "multi_hot" or "count".
        depth: the number of categories (size of the last output axis).
        dtype: the output dtype (for "count" with `count_weights`, their dtype).
        count_weights: optional weights, same shape as `indices`, summed in "count" mode.

    Returns:
        "one_hot": `indices.shape + (depth,)`, with a trailing axis of size 1 replaced;
        "multi_hot" / "count": `(depth,)` for rank-1 input, else the input shape with axis 1
        removed and `depth` appended.
    """
    indices = jnp.asarray(indices)
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices[None]
    indices = indices.astype(jnp.int32)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return jax.nn.one_hot(indices, depth, dtype=dtype)
    axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        # `initial=0` keeps an empty axis (a batch of empty token lists) valid.
        return jnp.max(jax.nn.one_hot(indices, depth, dtype=dtype), axis=axis, initial=0)
    if output_mode == "count":
        if count_weights is None:
            return jnp.sum(jax.nn.one_hot(indices, depth, dtype=dtype), axis=axis)
        weights = jnp.asarray(count_weights)
        hot = jax.nn.one_hot(indices, depth, dtype=weights.dtype)
        return jnp.sum(hot * weights[..., None], axis=axis)
    raise unknown_name_error("output_mode", output_mode, ("int", "one_hot", "multi_hot", "count"))
