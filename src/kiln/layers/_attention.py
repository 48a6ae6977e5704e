"""`MultiHeadAttention` (Vaswani et al. 2017) with Keras's weights, masks and numerics.

Keras builds four projection sublayers, `query`, `key`, `value` and `attention_output`, with
kernels `(dim, heads, key_dim)`, `(dim, heads, key_dim)`, `(dim, heads, value_dim)` and
`(heads, value_dim, out_dim)`; kiln builds the same, in the same order, so
`set_weights(keras_layer.get_weights())` works.

Two numeric paths, as in Keras's JAX backend: with no dropout, no returned scores and
`(batch, time, dim)` inputs, Keras calls XLA's dot-product attention (masked logits set to
`-0.7 * finfo.max`, so a fully masked row attends uniformly); otherwise it uses einsums and a
masked softmax (masked logits set to -1e9, masked weights then zeroed).
"""

from __future__ import annotations

import functools
import math
import string
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import activations, initializers, regularizers
from .._scope import next_rng_key
from ._core import _serialize
from ._layer import Layer

# -- pure functions -----------------------------------------------------------------------------


def attention_equations(rank: int, attn_axes: Sequence[int]) -> tuple[str, str, int]:
    """Einsum equations for scores and combination over `attn_axes` of rank-`rank` tensors.

    Projected tensors are `(batch, <other dims>, <attention dims>, heads, channels)`; every axis
    other than the attention axes and the channels (heads included) is a batch axis. Scores
    are `(<batch axes>, <query attention axes>, <key attention axes>)`.

    Returns:
        `(key,query->scores equation, scores,value->output equation, scores rank)`.
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, extra = list(target), rank
    for i in sorted(attn_axes):
        source[i] = letters[extra]
        extra += 1
    source = "".join(source)
    product = ("".join(target[i] for i in batch) + "".join(target[i] for i in attn_axes)
               + "".join(source[i] for i in attn_axes))
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def expand_mask(mask: jax.Array, rank: int, n_attn_axes: int) -> jax.Array:
    """Inserts the heads axis (Keras: at `-2 * n_attn_axes - 1`) until `mask` has `rank` dims."""
    while mask.ndim < rank:
        mask = jnp.expand_dims(mask, -2 * n_attn_axes - 1)
    return mask


def masked_softmax(scores: jax.Array, mask: jax.Array | None, axes: tuple[int, ...]) -> jax.Array:
    """Keras's `Softmax(axis)(scores, mask)`: masked logits -1e9, masked weights then 0."""
    if mask is not None:
        scores = jnp.where(mask, scores, jnp.asarray(-1e9, scores.dtype))
    if len(axes) == 1:
        weights = jax.nn.softmax(scores, axis=axes[0])
    else:
        weights = jnp.exp(scores - jax.nn.logsumexp(scores, axis=axes, keepdims=True))
    return weights if mask is None else jnp.where(mask, weights, 0.0)


@functools.partial(jax.jit, static_argnames=("scale", "is_causal"))
def xla_attention(query: jax.Array, key: jax.Array, value: jax.Array, mask: jax.Array | None,
                  scale: float, is_causal: bool) -> jax.Array:
    """XLA dot-product attention on `(batch, time, heads, dim)` tensors (Keras's fast path).

    `softmax(q k^T * scale, masked to -0.7 * finfo.max) v`; a fully masked row attends
    uniformly, as in `jax.nn.dot_product_attention(implementation="xla")`.
    """
    logits = jnp.einsum("btnh,bsnh->bnts", query, key) * jnp.asarray(scale, query.dtype)
    keep = None if mask is None else jnp.broadcast_to(mask, logits.shape)
    if is_causal:
        causal = jnp.tril(jnp.ones(logits.shape[-2:], bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = jnp.where(keep, logits, jnp.asarray(-0.7 * jnp.finfo(logits.dtype).max,
                                                     logits.dtype))
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(value.dtype)
    return jnp.einsum("bnts,bsnh->btnh", probs, value)


@functools.partial(jax.jit, static_argnames=("equations", "norm_axes", "scale", "dropout"))
def einsum_attention(query: jax.Array, key: jax.Array, value: jax.Array, mask: jax.Array | None,
                     rng: jax.Array | None, equations: tuple[str, str], norm_axes: tuple[int, ...],
                     scale: float, dropout: float) -> tuple[jax.Array, jax.Array]:
    """Keras's einsum path: `(softmax(scale * q k^T, masked) [dropout]) v` over any attention
    axes. `mask` is broadcastable to the scores; `rng` (or None) drives the dropout.

    Returns:
        `(output, scores)`; the scores are the weights before dropout, as Keras returns them.
    """
    scores = jnp.einsum(equations[0], key, query * jnp.asarray(scale, query.dtype))
    if mask is not None:
        mask = expand_mask(mask, scores.ndim, len(norm_axes))
    scores = masked_softmax(scores, mask, norm_axes)
    weights = scores
    if rng is not None:
        keep = jax.random.bernoulli(rng, 1.0 - dropout, scores.shape)
        weights = jnp.where(keep, scores / (1.0 - dropout), 0.0)
    return jnp.einsum(equations[1], weights, value), scores


def causal_mask(q_len: int, v_len: int) -> jax.Array:
    """`(1, q_len, v_len)` lower-triangular mask: query i sees keys 0..i."""
    return jnp.tril(jnp.ones((q_len, v_len), bool))[None]


def sliding_window_mask(q_len: int, v_len: int, window: int) -> jax.Array:
    """`(1, q_len, v_len)` band: `|i - j| < window`."""
    rows, cols = jnp.arange(q_len)[:, None], jnp.arange(v_len)[None, :]
    return (jnp.abs(rows - cols) < window)[None]


# -- projections --------------------------------------------------------------------------------


class _Projection(Layer):
    """Keras's `EinsumDense` as MultiHeadAttention uses it: contracts the last `bound_dims`
    axes with `kernel (*bound, *output_shape)` and adds `bias (*output_shape)`."""

    def __init__(self, bound_dims: int, output_shape: Sequence[int], use_bias: bool,
                 kernel_initializer: Any, bias_initializer: Any, kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, activation: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.bound_dims = bound_dims
        self.projection_shape = tuple(int(d) for d in output_shape)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.activation = activations.get(activation)

    def build(self, input_shape: Any) -> None:
        bound = tuple(input_shape[len(input_shape) - self.bound_dims:])
        self.kernel = self.add_weight(bound + self.projection_shape, self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(self.projection_shape, self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs: jax.Array) -> jax.Array:
        y = jnp.tensordot(inputs, self.kernel.value, axes=self.bound_dims)
        if self.bias is not None:
            y = y + self.bias.value
        return self.activation(y)


def _fresh(initializer: Any) -> Any:
    # Keras clones the initializer for every projection, so each gets its own seed.
    if hasattr(initializer, "get_config") and hasattr(type(initializer), "from_config"):
        return type(initializer).from_config(initializer.get_config())
    return initializer


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


class MultiHeadAttention(Layer):
    """Multi-head attention: `softmax(Q K^T / sqrt(key_dim)) V` per head, then a projection.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default key_dim).
        dropout: dropout rate on the attention weights (training only).
        use_bias: whether the projections have biases.
        output_shape: output size(s) of the last projection (default: the query's last dim).
        attention_axes: axes attention is applied over (default: all but batch, heads, dim).
        sliding_window: optional band width; a query sees keys with `|i - j| < sliding_window`.
        kernel_initializer / bias_initializer / *_regularizer / *_constraint: for every
            projection (each gets its own copy of the initializer).
        use_gate: multiply the attention output by `sigmoid(query projection)` (gated attention).
        seed: makes the dropout reproducible.
        flash_attention: accepted for compatibility; XLA chooses the kernel.

    Call arguments:
        query `(B, T, dim)`, value `(B, S, dim_v)`, key (default value); attention_mask
        `(B, T, S)` booleans (True = attend); return_attention_scores (also return the
        `(B, heads, T, S)` weights); use_causal_mask; training. A mask on the query (from
        Embedding(mask_zero=True)) masks query rows and, when value is the same tensor
        (self-attention), value columns, as Keras's propagated masks do.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> mha(jnp.ones((1, 3, 8)), jnp.ones((1, 5, 8))).shape
        (1, 3, 8)
    """

    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, sliding_window: int | None = None,
                 flash_attention: bool | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 use_gate: bool = False, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim),
                           ("value_dim", 1 if value_dim is None else value_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"MultiHeadAttention({arg}=...) must be a positive int; "
                                 f"received {value!r}.")
        if sliding_window is not None and (not isinstance(sliding_window, int)
                                           or sliding_window <= 0):
            raise ValueError(f"sliding_window must be None or a positive int; received "
                             f"{sliding_window!r}.")
        if flash_attention and dropout > 0.0:
            raise ValueError("Dropout is not supported with flash_attention=True; set "
                             "dropout=0.0 or leave flash_attention unset.")
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim or key_dim
        self.dropout, self.use_bias, self.use_gate = float(dropout), bool(use_bias), bool(use_gate)
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = tuple(output_shape) if output_shape else None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.sliding_window, self.flash_attention, self.seed = sliding_window, flash_attention, seed
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        # Keras gives the activity regularizer to the projections, not to the layer's output.
        self._projection_activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self._pending_shapes: tuple = (None, None)

    def __call__(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        if value is None:
            raise TypeError("MultiHeadAttention needs a `value`: call it as mha(query, value) "
                            "(self-attention: mha(x, x)).")
        if not self.built:
            self._pending_shapes = (_shape(value), None if key is None else _shape(key))
        return super().__call__(query, value, key, **kwargs)

    def _projection(self, name: str, bound: int, shape: Sequence[int], input_shape: Any,
                    activation: Any = None) -> _Projection:
        layer = _Projection(bound, shape, self.use_bias, _fresh(self.kernel_initializer),
                            _fresh(self.bias_initializer), self.kernel_regularizer,
                            self.bias_regularizer, self.kernel_constraint, self.bias_constraint,
                            activation=activation, name=name, dtype=self.dtype_policy,
                            activity_regularizer=self._projection_activity_regularizer)
        layer._maybe_build(tuple(input_shape))
        return layer

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Creates the projections from the query, value (and key) shapes."""
        if value_shape is None:
            value_shape, key_shape = self._pending_shapes
            value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"MultiHeadAttention: value and key must agree on every dimension "
                             f"but the last; received value shape {tuple(value_shape)} and key "
                             f"shape {tuple(key_shape)}.")
        heads = self.num_heads
        self._query_dense = self._projection("query", 1, (heads, self.key_dim), query_shape)
        self._key_dense = self._projection("key", 1, (heads, self.key_dim), key_shape)
        if self.use_gate:
            self._gate_dense = self._projection("gate", 1, (heads, self.value_dim), query_shape,
                                                activation="sigmoid")
        self._value_dense = self._projection("value", 1, (heads, self.value_dim), value_shape)
        rank = len(query_shape) + 1  # the projected rank: heads added
        axes = self.attention_axes or tuple(range(1, rank - 2))
        self.attention_axes = tuple(a if a >= 0 else rank - 1 + a for a in axes)
        self._dot_equation, self._combine_equation, scores_rank = attention_equations(
            rank, self.attention_axes)
        self._norm_axes = tuple(range(scores_rank - len(self.attention_axes), scores_rank))
        out_shape = self._output_shape or (query_shape[-1],)
        self._output_dense = self._projection(
            "attention_output", 2, out_shape, tuple(query_shape[:-1]) + (heads, self.value_dim))
        self.built = True

    @property
    def query_dense(self) -> _Projection:
        return self._query_dense

    @property
    def key_dense(self) -> _Projection:
        return self._key_dense

    @property
    def value_dense(self) -> _Projection:
        return self._value_dense

    @property
    def output_dense(self) -> _Projection:
        return self._output_dense

    # -- the call ------------------------------------------------------------------------------
    def call(self, query: jax.Array, value: jax.Array, key: jax.Array | None = None,
             query_mask: Any = None, value_mask: Any = None, key_mask: Any = None,
             attention_mask: Any = None, return_attention_scores: bool = False,
             training: bool | None = None, use_causal_mask: bool = False,
             mask: Any = None) -> Any:
        # `mask` is the query's propagated mask (Keras's `query._keras_mask`). A tensor used as
        # both query and value (self-attention) carries it to the value and key too.
        query_mask = mask if mask is not None else query_mask
        if query_mask is not None and value is query and value_mask is None:
            value_mask = query_mask
        if query_mask is not None and key is query and key_mask is None:
            key_mask = query_mask
        key = value if key is None else key
        causal_only = (use_causal_mask and self.sliding_window is None and all(
            m is None for m in (query_mask, value_mask, key_mask, attention_mask)))
        if not causal_only:
            attention_mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                                  attention_mask, use_causal_mask)
        gate = self._gate_dense(query) if self.use_gate else None
        q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        output, scores = self._compute_attention(q, k, v, attention_mask, training,
                                                 return_attention_scores, causal_only)
        output = self._output_dense(output if gate is None else output * gate)
        return (output, scores) if return_attention_scores else output

    def _attention_mask(self, query: jax.Array, value: jax.Array, query_mask: Any,
                        value_mask: Any, key_mask: Any, attention_mask: Any,
                        use_causal_mask: bool) -> jax.Array | None:
        """AND of the query mask `[B, T, 1]`, value/key masks `[B, 1, S]`, the causal and
        sliding-window masks `[1, T, S]` and the explicit `attention_mask` (Keras's order)."""
        parts = []
        if query_mask is not None:
            parts.append(jnp.asarray(query_mask).astype(bool)[..., None])
        for m in (value_mask, key_mask):
            if m is not None:
                parts.append(jnp.asarray(m).astype(bool)[..., None, :])
        q_len, v_len = query.shape[1], value.shape[1]
        if use_causal_mask:
            parts.append(causal_mask(q_len, v_len))
        if self.sliding_window is not None:
            parts.append(sliding_window_mask(q_len, v_len, self.sliding_window))
        if attention_mask is not None:
            parts.insert(0, jnp.asarray(attention_mask).astype(bool))
        if not parts:
            return None
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part
        return combined

    def _compute_attention(self, query: jax.Array, key: jax.Array, value: jax.Array,
                           attention_mask: jax.Array | None, training: bool | None,
                           return_attention_scores: bool, causal_only: bool) -> tuple:
        """Attention over the projected `(B, ..., heads, dim)` tensors -> (output, scores)."""
        scale = 1.0 / math.sqrt(float(self.key_dim))
        n_axes = len(self.attention_axes)
        if self.dropout == 0.0 and not return_attention_scores and query.ndim == 4:
            mask = None if attention_mask is None else expand_mask(attention_mask, 4, n_axes)
            return xla_attention(query, key, value, mask, scale, causal_only), None
        if causal_only:
            attention_mask = causal_mask(query.shape[1], value.shape[1])
        rng = next_rng_key(self.seed) if (training and self.dropout > 0.0) else None
        return einsum_attention(query, key, value, attention_mask, rng,
                                (self._dot_equation, self._combine_equation), self._norm_axes,
                                scale, self.dropout)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "use_gate": self.use_gate,
                "output_shape": None if self._output_shape is None else list(self._output_shape),
                "attention_axes": (None if self.attention_axes is None
                                   else list(self.attention_axes)),
                "sliding_window": self.sliding_window,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer),
                "activity_regularizer": _serialize(self._projection_activity_regularizer),
                "kernel_constraint": None, "bias_constraint": None, "seed": self.seed}
