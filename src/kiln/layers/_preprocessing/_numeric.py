"""Numeric preprocessing layers: Rescaling, Normalization, CategoryEncoding.

These run anywhere: on NumPy data before `fit`, or inside a jitted model (their `call` is
pure jax.numpy). `Normalization.adapt` computes its statistics on the host with NumPy.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ... import _config
from .._layer import Layer
from ._encoding import check_output_mode, encode_categorical


class Rescaling(Layer):
    """Multiplies the inputs by `scale` and adds `offset`: `x * scale + offset`.

    Inputs of any dtype are cast to the layer's dtype (float32) first, as in Keras.

    Args:
        scale: a float, or an array broadcastable to the inputs (e.g. one value per channel).
        offset: a float or broadcastable array added after scaling.

    Example:
        >>> Rescaling(1.0 / 255)(np.array([[0, 255]])).tolist()
        [[0.0, 1.0]]
    """

    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs: jax.Array) -> jax.Array:
        scale = jnp.asarray(self.scale, dtype=self.compute_dtype)
        offset = jnp.asarray(self.offset, dtype=self.compute_dtype)
        return inputs.astype(self.compute_dtype) * scale + offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": _listify(self.scale),
                "offset": _listify(self.offset)}


def _listify(value: Any) -> Any:
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, jax.Array)) else value


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance, per feature.

    `call` computes `(x - mean) / max(sqrt(variance), epsilon)` (epsilon = 1e-7, Keras's
    backend epsilon), or with `invert=True`, `mean + x * max(sqrt(variance), epsilon)`.
    `mean` and `variance` are given, or learned by `adapt(data)`, which stores them as the
    non-trainable weights `mean`, `variance` (and an int32 `count` kept for Keras
    compatibility) so that `get_weights()` equals Keras's. `adapt` uses the population
    variance (`np.var`); batches from an iterable are merged with Keras's pooled formula.

    Args:
        axis: the axis or axes that keep a separate mean/variance per index (default -1,
            the features); `None` uses one scalar mean and variance for everything.
        mean / variance: fixed statistics (both or neither), broadcast to the kept axes.
        invert: whether to undo the normalization instead.

    Example:
        >>> layer = Normalization(axis=None)
        >>> layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype="float32"))
        >>> [round(float(v), 4) for v in layer(np.array([1.0, 3.0]))]
        [-1.4142, 0.0]
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] | None = -1, mean: Any = None,
                 variance: Any = None, invert: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization needs both `mean` and `variance`, or neither (then "
                             f"call adapt(data)); received mean={mean!r}, variance={variance!r}.")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization `mean` and `variance` must have the same shape; "
                                 f"received {np.shape(mean)} and {np.shape(variance)}.")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"Normalization `mean` has rank {np.ndim(mean)}, more than the "
                                 f"{len(self.axis)} kept axes axis={self.axis}. Pass one value "
                                 "per index of the kept axes.")

    def build(self, input_shape: Any) -> None:
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization axis={self.axis} is out of range for inputs of rank "
                             f"{ndim} (shape {tuple(input_shape)}); use axes in [-{ndim}, {ndim}).")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise ValueError(f"Normalization needs a known size on kept axis {a}; received "
                                 f"input shape {tuple(input_shape)}.")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        self._build_input_shape = tuple(input_shape)
        stats_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            # Keras's order and names: mean, variance, count (int, never updated by adapt).
            self.adapt_mean = self.add_weight(stats_shape, "zeros", name="mean", trainable=False)
            self.adapt_variance = self.add_weight(stats_shape, "ones", name="variance",
                                                  trainable=False)
            self.count = self.add_weight((), "zeros", dtype="int32", name="count", trainable=False)
        else:
            self._fixed = tuple(self._broadcast_given(v)
                                for v in (self.input_mean, self.input_variance))
        self.built = True  # also when build() is called directly, as Keras users do

    def _broadcast_given(self, value: Any) -> np.ndarray:
        """Aligns a given mean/variance with the kept axes from the right, as Keras does."""
        value = np.asarray(value, dtype=self.dtype)
        shape = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            shape[self._keep_axis[-i]] = value.shape[-i]
        return np.broadcast_to(value.reshape(shape), self._broadcast_shape)

    @property
    def mean(self) -> Any:
        """The mean, shaped to broadcast against the inputs (None before build)."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return jnp.asarray(self._fixed[0])
        return jnp.reshape(self.adapt_mean.value, self._broadcast_shape).astype(self.dtype)

    @property
    def variance(self) -> Any:
        """The variance, shaped to broadcast against the inputs (None before build)."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return jnp.asarray(self._fixed[1])
        return jnp.reshape(self.adapt_variance.value, self._broadcast_shape).astype(self.dtype)

    def call(self, inputs: jax.Array) -> jax.Array:
        x = inputs.astype(self.compute_dtype)
        scale = jnp.maximum(jnp.sqrt(self.variance), _config.epsilon())
        if self.invert:
            return self.mean + x * scale
        return (x - self.mean) / scale

    def adapt(self, data: Any) -> None:
        """Learns the mean and (population) variance of `data` over the reduced axes.

        Args:
            data: a NumPy/JAX array, or an iterable of batches (arrays, or `(x, y)` tuples
                whose `x` is used); a batched iterable is merged batch by batch.
        """
        if isinstance(data, (np.ndarray, jax.Array)):
            batches, shape = None, tuple(data.shape)
        elif hasattr(data, "__iter__"):
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError("Normalization.adapt received an empty iterable; pass an array "
                                 "or at least one batch, e.g. layer.adapt(x_train).")
            first = np.asarray(first[0] if isinstance(first, tuple) else first)
            batches, shape = itertools.chain([first], it), tuple(first.shape)
        else:
            raise TypeError(f"Normalization.adapt expects an array or an iterable of batches; "
                            f"received {type(data).__name__}.")
        if self.input_mean is not None:
            raise ValueError("This Normalization layer was given a fixed `mean` and `variance`; "
                             "adapt() cannot change them. Create it without mean/variance.")
        self._check_adapt_shape(shape)
        if batches is None:
            data = np.asarray(data)
            mean, var = np.mean(data, axis=self._reduce_axis), np.var(data, axis=self._reduce_axis)
        else:
            mean, var = self._pooled_moments(batches)
        self.adapt_mean.assign(np.asarray(mean, dtype=self.dtype))
        self.adapt_variance.assign(np.asarray(var, dtype=self.dtype))

    def _check_adapt_shape(self, shape: tuple) -> None:
        if not self.built:
            self._maybe_build(shape)
        elif any(shape[d] != self._build_input_shape[d] for d in self._keep_axis):
            raise ValueError(f"Normalization was built for inputs of shape "
                             f"{self._build_input_shape}; adapt() received data of shape {shape}, "
                             f"which differs on the kept axes {self._keep_axis}.")

    def _pooled_moments(self, batches: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Merges per-batch moments with Keras's running (lack-of-fit) formula."""
        stats_shape = tuple(self._build_input_shape[d] for d in self._keep_axis)
        mean, var, total = np.zeros(stats_shape, self.dtype), np.zeros(stats_shape, self.dtype), 0
        for batch in batches:
            batch = np.asarray(batch[0] if isinstance(batch, tuple) else batch, dtype=self.dtype)
            if any(batch.shape[d] != self._build_input_shape[d] for d in self._keep_axis):
                raise ValueError(f"Normalization.adapt got a batch of shape {batch.shape}; "
                                 f"expected {self._build_input_shape} on the kept axes.")
            b_mean, b_var = batch.mean(axis=self._reduce_axis), batch.var(axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
            total += count
            w = float(count) / total
            new_mean = mean * (1.0 - w) + b_mean * w
            var = ((var + (mean - new_mean) ** 2) * (1.0 - w)
                   + (b_var + (b_mean - new_mean) ** 2) * w)
            mean = new_mean
        return mean, var

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": list(self.axis), "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}


class CategoryEncoding(Layer):
    """Encodes integer category ids as one-hot, multi-hot or count vectors.

    A rank-1 input is one sample: `CategoryEncoding(4)([3, 2, 0, 1])` gives `[1, 1, 1, 1]`.
    For a batch `(N, k)`, "multi_hot" and "count" give `(N, num_tokens)`; "one_hot" gives
    `(N, k, num_tokens)` (or `(N, num_tokens)` when k is 1). Ids outside `[0, num_tokens)`
    encode to zeros (Keras on JAX does the same). Only dense outputs are supported.

    Args:
        num_tokens: the number of categories (required).
        output_mode: "multi_hot" (default), "one_hot" or "count".
        sparse: must be False (kiln has no sparse tensors).

    Call arguments:
        inputs: integer ids.
        count_weights: optional weights of the same shape, summed in "count" mode.
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.output_mode = check_output_mode(output_mode, ("count", "one_hot", "multi_hot"),
                                             "CategoryEncoding")
        if num_tokens is None:
            raise ValueError("CategoryEncoding needs num_tokens (the number of categories). If "
                             "it is not known in advance, use IntegerLookup instead.")
        if int(num_tokens) < 1:
            raise ValueError(f"CategoryEncoding num_tokens must be >= 1; received {num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding(sparse=True) is not supported: kiln produces dense "
                             "arrays only. Use sparse=False.")
        self.num_tokens = int(num_tokens)
        self.sparse = False

    def call(self, inputs: jax.Array, count_weights: Any = None) -> jax.Array:
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError("CategoryEncoding `count_weights` only applies to "
                                 f"output_mode='count'; this layer uses {self.output_mode!r}.")
            count_weights = jnp.asarray(count_weights, dtype=self.dtype)
        return encode_categorical(inputs, self.output_mode, self.num_tokens, self.dtype,
                                  count_weights)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}
