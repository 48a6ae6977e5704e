"""Embedding (integer ids -> dense vectors, optionally masking id 0) and Masking (marks
timesteps equal to `mask_value` as padding), with Keras 3's arguments and masks.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import initializers, regularizers
from ._core import _serialize
from ._layer import Layer
from ._normalization import get_constraint, rebuild_weight_args


def _positive_int(name: str, value: Any) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Embedding({name}=...) must be a positive integer; received "
                         f"{name}={value!r} (of type {type(value).__name__}).")
    return int(value)


class Embedding(Layer):
    """Looks up a vector for each integer id: `outputs = embeddings[inputs]`.

    Args:
        input_dim: the vocabulary size (ids are in `[0, input_dim)`).
        output_dim: the vector size.
        embeddings_initializer: Keras's default "uniform", i.e. U(-0.05, 0.05).
        embeddings_regularizer / embeddings_constraint: on the `(input_dim, output_dim)`
            weight `embeddings`.
        mask_zero: whether id 0 is padding; then the layer outputs a mask `inputs != 0` that
            downstream layers (RNNs, pooling, attention, losses) respect.
        weights: optional initial value of the embeddings (Keras's argument).

    Input shape `(batch, ...)` of integers; output shape `(batch, ..., output_dim)`.

    Example:
        >>> emb = Embedding(10, 4, mask_zero=True)
        >>> emb(jnp.array([[1, 0]])).shape, emb.compute_mask(jnp.array([[1, 0]]))
        ((1, 2, 4), Array([[ True, False]], dtype=bool))
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Any = None, **kwargs: Any):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Embedding(input_length=...) is deprecated in Keras 3 and ignored; "
                          "remove it.", stacklevel=2)
        for key in ("lora_rank", "lora_alpha", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise NotImplementedError(f"Embedding({key}=...) is not supported by kiln; "
                                          "remove the argument.")
        super().__init__(**kwargs)
        self.input_dim = _positive_int("input_dim", input_dim)
        self.output_dim = _positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = get_constraint(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # Keras's flag follows mask_zero
        if weights is not None:
            self._maybe_build(None)
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim), self.embeddings_initializer, name="embeddings",
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)

    def call(self, inputs: jax.Array) -> jax.Array:
        if inputs.dtype not in (jnp.int32, jnp.int64):
            inputs = inputs.astype(jnp.int32)  # Keras casts float ids to int32 too
        self._check_ids(inputs)
        # jnp.take as Keras's JAX backend: an out-of-range id inside a jitted step gives NaN.
        return jnp.take(self.embeddings.value, inputs, axis=0).astype(self.compute_dtype)

    def _check_ids(self, ids: jax.Array) -> None:
        """On concrete (eager) inputs, reject ids outside the vocabulary with a teaching error;
        traced inputs cannot be checked without slowing the step."""
        if isinstance(ids, jax.core.Tracer) or ids.size == 0:
            return
        low, high = int(jnp.min(ids)), int(jnp.max(ids))
        if low < 0 or high >= self.input_dim:
            raise ValueError(f"Embedding '{self.name}' has input_dim={self.input_dim}, so ids "
                             f"must be in [0, {self.input_dim - 1}]; received ids from {low} to "
                             f"{high}. Increase input_dim or re-index the inputs.")

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero or inputs is None:
            return None
        return jnp.not_equal(inputs, 0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": _serialize(self.embeddings_initializer),
                "embeddings_regularizer": _serialize(self.embeddings_regularizer),
                "embeddings_constraint": _serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Embedding":
        return cls(**rebuild_weight_args(config))


class Masking(Layer):
    """Marks the timesteps whose features all equal `mask_value` as padding.

    The output mask is `any(inputs != mask_value, axis=-1)`; the outputs are the inputs with
    masked timesteps set to 0 (as Keras does).

    Args:
        mask_value: the padding value.

    Example:
        >>> x = jnp.array([[[1.0], [0.0]]])
        >>> Masking().compute_mask(x)
        Array([[ True, False]], dtype=bool)
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs: jax.Array) -> jax.Array:
        keep = jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return jnp.where(keep, inputs, jnp.zeros_like(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}
