"""Dot-product (Luong) and additive (Bahdanau) attention over `[query, value(, key)]`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .._scope import next_rng_key
from ._layer import Layer

# -- pure functions -----------------------------------------------------------------------------


def dot_scores(query: jax.Array, key: jax.Array, scale: jax.Array | None = None) -> jax.Array:
    """`scale * query @ key^T`: `(B, Tq, dim), (B, Tv, dim) -> (B, Tq, Tv)`."""
    scores = jnp.matmul(query, jnp.swapaxes(key, -2, -1))
    return scores if scale is None else scores * scale


def concat_scores(query: jax.Array, key: jax.Array, weight: jax.Array,
                  scale: jax.Array | None = None) -> jax.Array:
    """Keras's "concat" mode: `weight * sum(tanh(scale * (q_i + k_j)), -1)`."""
    summed = query[..., :, None, :] + key[..., None, :, :]
    if scale is not None:
        summed = scale * summed
    return weight * jnp.sum(jnp.tanh(summed), axis=-1)


def additive_scores(query: jax.Array, key: jax.Array, scale: jax.Array | float = 1.0) -> jax.Array:
    """Bahdanau scores: `sum(scale * tanh(q_i + k_j), -1)` with `scale` of shape `(dim,)`."""
    return jnp.sum(scale * jnp.tanh(query[..., :, None, :] + key[..., None, :, :]), axis=-1)


def score_mask(scores_shape: tuple, value_mask: jax.Array | None,
               use_causal_mask: bool) -> jax.Array | None:
    """The `(B, 1, Tv)` value mask, AND-ed with the `(1, Tq, Tv)` causal mask if asked."""
    if value_mask is not None:
        value_mask = jnp.asarray(value_mask).astype(bool)[..., None, :]
    if not use_causal_mask:
        return value_mask
    causal = jnp.tril(jnp.ones(scores_shape[-2:], bool))[None]
    return causal if value_mask is None else value_mask & causal


def attention_weights(scores: jax.Array, mask: jax.Array | None) -> jax.Array:
    """`softmax(scores)` over the last axis, masked steps lowered by 1e9 first (as Keras)."""
    if mask is not None:
        scores = jnp.where(mask, scores, scores - jnp.asarray(1e9, scores.dtype))
    return jax.nn.softmax(scores, axis=-1)


# -- layers -------------------------------------------------------------------------------------


class Attention(Layer):
    """Dot-product attention (Luong-style) over `[query, value]` or `[query, value, key]`.

    `scores = query @ key^T` (times a learned scalar with `use_scale`), or with
    `score_mode="concat"`, `concat_score_weight * sum(tanh(query_i + key_j))`;
    `output = softmax(scores) @ value`. Masked value steps get `-1e9` before the softmax and
    masked query steps output zeros.

    Args:
        use_scale: learn a scalar scale (initialized to 1).
        score_mode: "dot" or "concat".
        dropout: dropout on the attention weights (training only).
        seed: makes the dropout reproducible.

    Call arguments:
        inputs: `[query (B, Tq, dim), value (B, Tv, dim)(, key (B, Tv, dim))]`.
        mask: `[query_mask (B, Tq), value_mask (B, Tv)]` (either may be None).
        return_attention_scores: also return the `(B, Tq, Tv)` weights.
        use_causal_mask: query i only sees value steps 0..i.

    Example:
        >>> Attention()([jnp.ones((2, 3, 4)), jnp.ones((2, 5, 4))]).shape
        (2, 3, 4)
    """

    supports_masking = True

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention score_mode must be 'dot' or 'concat'; received "
                             f"{score_mode!r}.")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed

    def _validate(self, inputs: Any, mask: Any = None) -> None:
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            received = (f"a list of length {len(inputs)}" if isinstance(inputs, (list, tuple))
                        else type(inputs).__name__)
            raise ValueError(f"{kind} must be called on a list [query, value] or [query, value, "
                             f"key]; received {received}.")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{kind} mask must be a list [query_mask, value_mask]; received "
                             f"{mask!r}.")

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight")

    def _scores(self, query: jax.Array, key: jax.Array) -> jax.Array:
        scale = None if self.scale is None else self.scale.value
        if self.score_mode == "concat":
            return concat_scores(query, key, self.concat_score_weight.value, scale)
        return dot_scores(query, key, scale)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        self._validate(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask, v_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._scores(query, key)
        weights = attention_weights(scores, score_mask(scores.shape, v_mask, use_causal_mask))
        dropped = weights
        if training and self.dropout > 0:
            keep = jax.random.bernoulli(next_rng_key(self.seed), 1.0 - self.dropout, weights.shape)
            dropped = jnp.where(keep, weights / (1.0 - self.dropout), 0.0)
        output = jnp.matmul(dropped, value)
        if q_mask is not None:
            output = jnp.where(jnp.asarray(q_mask).astype(bool)[..., None], output, 0.0)
        # Keras returns the weights after dropout as the scores.
        return (output, dropped) if return_attention_scores else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not mask or mask[0] is None:
            return None
        return jnp.asarray(mask[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: `scores = sum(scale * tanh(query_i + key_j))`.

    Args:
        use_scale: learn a per-feature scale of shape `(dim,)` (glorot_uniform; default True).
        dropout: dropout on the attention weights (training only).

    Called like `Attention`.
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform", name="scale")

    def _scores(self, query: jax.Array, key: jax.Array) -> jax.Array:
        return additive_scores(query, key, 1.0 if self.scale is None else self.scale.value)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config
