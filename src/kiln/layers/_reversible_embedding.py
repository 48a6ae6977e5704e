"""ReversibleEmbedding: an Embedding that also projects hidden states back to vocabulary logits
(`layer(x, reverse=True)`), with tied or separate weights, as Keras 3's layer."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._core import _serialize
from ._embedding import Embedding


class ReversibleEmbedding(Embedding):
    """Embedding with a reverse projection, for language-model heads.

    Forward (`reverse=False`, the default) it is an `Embedding`: ids `(..., )` to vectors
    `(..., output_dim)`. With `reverse=True` it maps hidden states `(..., output_dim)` to
    logits `(..., input_dim)`: `x @ embeddings.T` when `tie_weights` (default), else
    `x @ reverse_embeddings` (a second trainable `(output_dim, input_dim)` weight).

    Args:
        input_dim, output_dim, embeddings_initializer, embeddings_regularizer,
        embeddings_constraint, mask_zero: as `Embedding` (the mask applies forward only).
        tie_weights: reuse the embeddings for the reverse projection (default True).
        reverse_dtype: a dtype to compute the reverse projection in (e.g. "float32" under a
            mixed policy), or None for the compute dtype.
        logit_soft_cap: if set, reverse logits become `tanh(logits / cap) * cap`.

    Example:
        >>> emb = ReversibleEmbedding(10, 4)
        >>> hidden = emb(jnp.array([[1, 2]]))
        >>> emb(hidden, reverse=True).shape
        (1, 2, 10)
    """

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True,
                 embeddings_initializer: Any = "uniform", embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 reverse_dtype: Any = None, logit_soft_cap: float | None = None, **kwargs: Any):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self._reversing = False  # the direction of the latest call, read by compute_mask

    def build(self, input_shape: Any = None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                (self.output_dim, self.input_dim), self.embeddings_initializer,
                name="reverse_embeddings")

    def call(self, inputs: jax.Array, reverse: bool = False) -> jax.Array:
        self._reversing = bool(reverse)
        if not reverse:
            return super().call(inputs)
        if self.tie_weights:
            kernel = jnp.transpose(self.embeddings.value)
        else:
            kernel = self.reverse_embeddings.value
        if self.reverse_dtype is not None:
            inputs, kernel = inputs.astype(self.reverse_dtype), kernel.astype(self.reverse_dtype)
        logits = jnp.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = jnp.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        # The padding mask of the ids, forward only (reverse outputs are logits).
        return None if self._reversing else super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape: Any, reverse: bool = False) -> tuple:
        shape = list(input_shape)
        if reverse:
            return tuple(shape[:-1] + [self.input_dim])
        return tuple(shape + [self.output_dim])

    def get_config(self) -> dict[str, Any]:
        # activity_regularizer and quantization_config complete Keras's key set.
        return {**super().get_config(), "activity_regularizer": _serialize(
                    self.activity_regularizer), "quantization_config": None,
                "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}
