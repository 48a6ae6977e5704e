"""`GroupQueryAttention` (Ainslie et al. 2023): attention with fewer key/value heads than
query heads, Keras 3's `keras.layers.GroupQueryAttention`.

Keras builds `EinsumDense` projections `query (dim, q_heads, head_dim)`, `key` and `value`
`(dim, kv_heads, head_dim)`, an optional sigmoid `gate` like `query`, and `attention_output
(q_heads, head_dim, dim)`, in the order query, key, gate, value, attention_output; kiln builds
the same, so `set_weights(keras_layer.get_weights())` works. Each key/value head serves
`q_heads // kv_heads` consecutive query heads (`repeat` on the heads axis). The numeric paths
are those of `MultiHeadAttention` (`_attention.py`): XLA dot-product attention without
dropout or returned scores, einsums and a masked softmax otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import initializers, regularizers
from .._naming import unique_name
from .._scope import next_rng_key
from ..constraints import get as get_constraint
from ._attention import (
    causal_mask,
    einsum_attention,
    expand_mask,
    sliding_window_mask,
    xla_attention,
)
from ._conv import serialize_constraint
from ._core import _serialize
from ._einsum_dense import EinsumDense
from ._layer import Layer

# b batch, q query length, k key length, m model dim, u query heads, v kv heads, h head dim.
_EQUATIONS = ("bkuh,bquh->buqk", "buqk,bkuh->bquh")  # (key, query) -> scores; combine


def _fresh(initializer: Any) -> Any:
    # Keras clones the initializer for every projection, so each gets its own draws.
    if hasattr(initializer, "get_config") and hasattr(type(initializer), "from_config"):
        return type(initializer).from_config(initializer.get_config())
    return initializer


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def combine_masks(q_len: int, v_len: int, query_mask: Any = None, value_mask: Any = None,
                  key_mask: Any = None, attention_mask: Any = None,
                  use_causal_mask: bool = False,
                  sliding_window: int | None = None) -> jax.Array | None:
    """The AND of the query mask `[B, T, 1]`, value/key masks `[B, 1, S]`, the causal and
    sliding-window masks `[1, T, S]` and `attention_mask` `[B, T, S]`; None when none."""
    parts = []
    if attention_mask is not None:
        parts.append(jnp.asarray(attention_mask).astype(bool))
    if query_mask is not None:
        parts.append(jnp.asarray(query_mask).astype(bool)[..., None])
    for m in (value_mask, key_mask):
        if m is not None:
            parts.append(jnp.asarray(m).astype(bool)[..., None, :])
    if use_causal_mask:
        parts.append(causal_mask(q_len, v_len))
    if sliding_window is not None:
        parts.append(sliding_window_mask(q_len, v_len, sliding_window))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


class GroupQueryAttention(Layer):
    """Grouped-query attention: `num_query_heads` query heads share `num_key_value_heads`
    key/value heads (multi-query attention when it is 1, multi-head when equal).

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads; must divide num_query_heads.
        dropout: dropout rate on the attention weights (training only).
        use_bias: whether the projections have biases.
        sliding_window: optional band width; a query sees keys with `|i - j| < sliding_window`.
        flash_attention: accepted for compatibility (XLA picks the kernel); True forbids
            dropout and returned scores, as in Keras.
        kernel_initializer / bias_initializer / *_regularizer / *_constraint: for every
            projection (each gets its own copy of the initializer).
        use_gate: multiply the attention output by `sigmoid(gate projection of the query)`.
        seed: makes the dropout reproducible.

    Call arguments:
        query `(B, T, dim)`, value `(B, S, dim)`, key (default value); query_mask, value_mask,
        key_mask; attention_mask `(B, T, S)` booleans (True = attend);
        return_attention_scores (also return the `(B, num_query_heads, T, S)` weights);
        training; use_causal_mask.

    Example:
        >>> gqa = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
        >>> gqa(jnp.ones((1, 3, 8)), jnp.ones((1, 5, 8))).shape
        (1, 3, 8)
        >>> [w.shape for w in gqa.get_weights()][:4]
        [(8, 4, 4), (4, 4), (8, 2, 4), (2, 4)]
    """

    supports_masking = True

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int,
                 dropout: float = 0.0, use_bias: bool = True, sliding_window: int | None = None,
                 flash_attention: bool | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 use_gate: bool = False, seed: int | None = None, name: str | None = None,
                 **kwargs: Any):
        super().__init__(name=name or unique_name("GroupedQueryAttention"), **kwargs)
        _check_heads(head_dim, num_query_heads, num_key_value_heads)
        if sliding_window is not None and (isinstance(sliding_window, bool) or not isinstance(
                sliding_window, int) or sliding_window <= 0):
            raise ValueError(f"GroupQueryAttention(sliding_window=...) must be None or a "
                             f"positive int; received {sliding_window!r}.")
        if flash_attention and dropout > 0.0:
            raise ValueError("GroupQueryAttention: dropout is not supported with "
                             f"flash_attention=True; received dropout={dropout}. Set "
                             "dropout=0.0 or leave flash_attention unset.")
        self.head_dim, self.num_query_heads = head_dim, num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout, self.use_bias, self.use_gate = float(dropout), bool(use_bias), bool(use_gate)
        self.sliding_window, self.flash_attention, self.seed = sliding_window, flash_attention, seed
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        # Keras gives the activity regularizer to the projections, not to the layer's output.
        self._projection_activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = get_constraint(kernel_constraint)
        self.bias_constraint = get_constraint(bias_constraint)
        self._pending_shapes: tuple = (None, None)

    def __call__(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        if value is None:
            raise TypeError("GroupQueryAttention needs a `value`: call it as gqa(query, value) "
                            "(self-attention: gqa(x, x)).")
        if not self.built:
            self._pending_shapes = (_shape(value), None if key is None else _shape(key))
        return super().__call__(query, value, key, **kwargs)

    def _projection(self, name: str, equation: str, output_shape: tuple, bias_axes: str,
                    input_shape: Any, activation: Any = None) -> EinsumDense:
        layer = EinsumDense(equation, output_shape, activation=activation,
                            bias_axes=bias_axes if self.use_bias else None,
                            kernel_initializer=_fresh(self.kernel_initializer),
                            bias_initializer=_fresh(self.bias_initializer),
                            kernel_regularizer=self.kernel_regularizer,
                            bias_regularizer=self.bias_regularizer,
                            kernel_constraint=self.kernel_constraint,
                            bias_constraint=self.bias_constraint, name=name,
                            activity_regularizer=self._projection_activity_regularizer,
                            dtype=self.dtype_policy)
        layer._maybe_build(tuple(input_shape))
        return layer

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Creates the projections from the query, value (and key) shapes."""
        if value_shape is None:
            value_shape, key_shape = self._pending_shapes
            value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"GroupQueryAttention: value and key must agree on every dimension "
                             f"but the last; received value shape {tuple(value_shape)} and key "
                             f"shape {tuple(key_shape)}.")
        u, v, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.feature_dim = query_shape[-1]
        self._query_dense = self._projection("query", "bqm,muh->bquh", (None, u, h), "uh",
                                             query_shape)
        self._key_dense = self._projection("key", "bkm,mvh->bkvh", (None, v, h), "vh", key_shape)
        if self.use_gate:
            self._gate_dense = self._projection("gate", "bqm,muh->bquh", (None, u, h), "uh",
                                                query_shape, activation="sigmoid")
        self._value_dense = self._projection("value", "bkm,mvh->bkvh", (None, v, h), "vh",
                                             value_shape)
        self._output_dense = self._projection("attention_output", "bquh,uhm->bqm",
                                              (None, self.feature_dim), "m", (None, None, u, h))
        self.built = True

    # -- the call ------------------------------------------------------------------------------
    def call(self, query: jax.Array, value: jax.Array, key: jax.Array | None = None,
             query_mask: Any = None, value_mask: Any = None, key_mask: Any = None,
             attention_mask: Any = None, return_attention_scores: bool = False,
             training: bool | None = None, use_causal_mask: bool = False,
             mask: Any = None) -> Any:
        if self.flash_attention and return_attention_scores:
            raise ValueError("GroupQueryAttention: return_attention_scores=True is not "
                             "supported with flash_attention=True; leave flash_attention unset "
                             "to get the scores.")
        # `mask` is the query's propagated mask; self-attention carries it to value and key.
        query_mask = mask if mask is not None else query_mask
        if query_mask is not None and value is query and value_mask is None:
            value_mask = query_mask
        key = value if key is None else key
        causal_only = (use_causal_mask and self.sliding_window is None and all(
            m is None for m in (query_mask, value_mask, key_mask, attention_mask)))
        if not causal_only:
            attention_mask = combine_masks(query.shape[1], value.shape[1], query_mask,
                                           value_mask, key_mask, attention_mask,
                                           use_causal_mask, self.sliding_window)
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)
        k = jnp.repeat(self._key_dense(key), self.num_repeats, axis=2)
        v = jnp.repeat(self._value_dense(value), self.num_repeats, axis=2)
        output, scores = self._compute_attention(q, k, v, attention_mask, training,
                                                 return_attention_scores, causal_only)
        output = self._output_dense(output if gate is None else output * gate)
        return (output, scores) if return_attention_scores else output

    def _compute_attention(self, query: jax.Array, key: jax.Array, value: jax.Array,
                           attention_mask: jax.Array | None, training: bool | None,
                           return_attention_scores: bool, causal_only: bool) -> tuple:
        """Attention over `(B, len, num_query_heads, head_dim)` tensors -> (output, scores)."""
        scale = 1.0 / math.sqrt(float(self.head_dim))
        if self.dropout == 0.0 and not return_attention_scores:
            mask = None if attention_mask is None else expand_mask(attention_mask, 4, 1)
            return xla_attention(query, key, value, mask, scale, causal_only), None
        if causal_only:
            attention_mask = causal_mask(query.shape[1], value.shape[1])
        rng = next_rng_key(self.seed) if (training and self.dropout > 0.0) else None
        return einsum_attention(query, key, value, attention_mask, rng, _EQUATIONS, (3,),
                                scale, self.dropout)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window,
                "dropout": self.dropout,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer),
                "activity_regularizer": _serialize(self._projection_activity_regularizer),
                "kernel_constraint": serialize_constraint(self.kernel_constraint),
                "bias_constraint": serialize_constraint(self.bias_constraint),
                "seed": self.seed}


def _check_heads(head_dim: Any, num_query_heads: Any, num_key_value_heads: Any) -> None:
    for arg, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                       ("num_key_value_heads", num_key_value_heads)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"GroupQueryAttention({arg}=...) must be a positive int; "
                             f"received {value!r}.")
    if num_query_heads % num_key_value_heads:
        raise ValueError(f"GroupQueryAttention: num_query_heads must be divisible by "
                         f"num_key_value_heads; received {num_query_heads} and "
                         f"{num_key_value_heads}. Pick num_key_value_heads among the "
                         "divisors of num_query_heads.")
