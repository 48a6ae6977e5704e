"""`Identity`, the `Wrapper` base, `TimeDistributed` and `SpectralNormalization` (Keras 3's)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .. import initializers
from ._core import _deserialize_layer, _serialize
from ._layer import Layer, _accepts


class Identity(Layer):
    """Returns its inputs unchanged (a placeholder layer).

    Example:
        >>> Identity()(jnp.arange(3.0)).tolist()
        [0.0, 1.0, 2.0]
    """

    supports_masking = True

    def call(self, inputs: Any) -> Any:
        return inputs


class Wrapper(Layer):
    """Base of the layers that wrap one other layer (`self.layer`).

    Args:
        layer: the wrapped `Layer` instance.

    Example:
        >>> Wrapper(Identity()).layer.__class__.__name__
        'Identity'
    """

    def __init__(self, layer: Layer, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} expects a Layer instance as `layer`; "
                             f"received {layer!r}. Pass e.g. Dense(4).")
        self.layer = layer

    def build(self, input_shape: Any) -> None:
        self.layer._maybe_build(input_shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.layer(inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": _serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Wrapper":
        config = dict(config)
        config["layer"] = _deserialize_layer(config["layer"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Applies the wrapped layer to every time slice `inputs[:, t]` of a sequence.

    Input shape: `(batch, time, ...)`; the wrapped layer sees `(batch, ...)` and is called
    once per time step, with one set of weights.

    Example:
        >>> from kiln.layers import Dense
        >>> TimeDistributed(Dense(4))(jnp.ones((2, 5, 3))).shape
        (2, 5, 4)
    """

    supports_masking = True

    def build(self, input_shape: Any) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed expects inputs of rank >= 3 (batch, time, ...); "
                             f"received shape {tuple(input_shape)}. Add a time axis.")
        self.layer._maybe_build((input_shape[0],) + tuple(input_shape[2:]))

    def call(self, inputs: jax.Array, training: bool | None = None,
             mask: jax.Array | None = None) -> jax.Array:
        if mask is not None and tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(f"The mask of TimeDistributed must start with (batch, time) = "
                             f"{tuple(inputs.shape[:2])}; received mask shape "
                             f"{tuple(mask.shape)}.")
        outputs = []
        for t in range(inputs.shape[1]):
            kwargs: dict[str, Any] = {"training": training}
            if mask is not None and _accepts(self.layer.call, "mask"):
                kwargs["mask"] = mask[:, t]
            outputs.append(self.layer(inputs[:, t], **kwargs))
        return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs, axis=1), *outputs)


def _l2_normalize(x: jax.Array) -> jax.Array:
    return x / jnp.sqrt(jnp.maximum(jnp.sum(x * x), 1e-12))


class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's `kernel` (or `embeddings`) by its largest singular value,
    estimated by power iteration with a persistent non-trainable vector `vector_u`.

    The kernel is renormalized (and `vector_u` updated) only in training calls, as in Keras.

    Args:
        layer: a layer with a `kernel` or `embeddings` weight.
        power_iterations: power-iteration steps per training call (default 1).

    Example:
        >>> from kiln.layers import Dense
        >>> sn = SpectralNormalization(Dense(3))
        >>> sn(jnp.ones((2, 4)), training=True).shape, sn.vector_u.shape
        ((2, 3), (1, 3))
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError("SpectralNormalization(power_iterations=...) must be a positive "
                             f"int; received {power_iterations!r}.")
        self.power_iterations = power_iterations

    def build(self, input_shape: Any) -> None:
        self.layer._maybe_build(input_shape)
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(f"SpectralNormalization needs a layer with a `kernel` or "
                             f"`embeddings` weight; {type(self.layer).__name__} has neither.")
        self.kernel = kernel
        self.vector_u = self.add_weight((1, kernel.shape[-1]),
                                        initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u", dtype=kernel.dtype)

    def normalized_weights(self) -> tuple[jax.Array, jax.Array]:
        """The updated `(vector_u, kernel / sigma)`, sigma the estimated spectral norm."""
        shape = self.kernel.shape
        w = jnp.reshape(self.kernel.value, (-1, shape[-1]))
        u = self.vector_u.value
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = (v @ w) @ u.T
        return u, jnp.reshape(w / sigma, shape)

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        if training:
            u, kernel = self.normalized_weights()
            zero = jnp.all(self.kernel.value == 0)
            self.vector_u.assign(jnp.where(zero, self.vector_u.value, u))
            self.kernel.assign(jnp.where(zero, self.kernel.value, kernel))
        out = self.layer(inputs, training=training)
        return out.astype(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "power_iterations": self.power_iterations}
