"""Regularization layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout
and ActivityRegularization.

The random layers act only when called with `training=True` (as in `fit`) and are the identity
otherwise. Their keys come from `next_rng_key`, so they stay pure inside a jitted step. The
distributions match Keras's; the individual random draws do not (different key streams).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp

from .. import _config
from .. import regularizers
from .._scope import next_rng_key
from ._layer import Layer

# SELU's constants, which AlphaDropout keeps the self-normalizing property for.
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _check_rate(layer: str, rate: Any, name: str = "rate", upper_open: bool = False) -> float:
    is_number = isinstance(rate, (int, float)) and not isinstance(rate, bool)
    if not is_number or not (0.0 <= rate < 1.0 if upper_open else 0.0 <= rate <= 1.0):
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{layer}({name}=...) must be a number in {interval}; received "
                         f"{name}={rate!r}.")
    return float(rate)


def dropout(key: jax.Array, x: jax.Array, rate: float, noise_shape: Sequence[int]) -> jax.Array:
    """Inverted dropout with a keep mask of `noise_shape` broadcast over `x`:
    kept values are scaled by `1 / (1 - rate)`, dropped ones are 0."""
    keep = jax.random.bernoulli(key, 1.0 - rate, tuple(noise_shape))
    return jnp.where(keep, x / (1.0 - rate), jnp.zeros_like(x))


def alpha_dropout(key: jax.Array, x: jax.Array, rate: float,
                  noise_shape: Sequence[int]) -> jax.Array:
    """Keras's AlphaDropout: dropped values are set to SELU's negative saturation
    `alpha' = -alpha * scale`, then `a * x + b` restores the mean and variance, with
    `a = ((1 - rate) * (1 + rate * alpha'**2)) ** -0.5` and `b = -a * alpha' * rate`."""
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    kept = (jax.random.uniform(key, tuple(noise_shape)) >= rate).astype(x.dtype)
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    return a * (x * kept + alpha_p * (1 - kept)) + b


class _SpatialDropout(Layer):
    """Drops whole feature maps: one keep/drop draw per (sample, channel), shared across the
    `rank` spatial (or time) axes. Variants are the `rank` parameter, not subclasses."""

    rank = 1
    supports_masking = True

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.rate = _check_rate(type(self).__name__, rate, upper_open=True)
        data_format = data_format or _config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{type(self).__name__}(data_format=...) must be 'channels_last' or "
                             f"'channels_first'; received {data_format!r}.")
        self.data_format = data_format
        self.seed = seed

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self.rank + 2} "
                             f"(batch, {self.rank} spatial axes, channels); received shape "
                             f"{tuple(input_shape)}.")

    def _noise_shape(self, shape: tuple) -> tuple:
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            return (shape[0], shape[1]) + ones
        return (shape[0],) + ones + (shape[-1],)

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        if not training or self.rate == 0.0:
            return inputs
        return dropout(next_rng_key(self.seed), inputs, self.rate, self._noise_shape(inputs.shape))

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "rate": self.rate, "seed": self.seed}
        if self.rank > 1:  # Keras's SpatialDropout1D has no data_format argument
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of `(batch, steps, channels)` inputs (same mask at every step).

    Args:
        rate: fraction of the channels to drop, in [0, 1).
        seed: makes the masks reproducible.
    """

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of `(batch, rows, cols, channels)` inputs
    (`(batch, channels, rows, cols)` with data_format="channels_first").

    Args:
        rate: fraction of the channels to drop, in [0, 1).
        data_format: "channels_last" (default) or "channels_first".
        seed: makes the masks reproducible.
    """

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole feature volumes of 5-D inputs; arguments as SpatialDropout2D."""

    rank = 3


class GaussianNoise(Layer):
    """Adds `N(0, stddev**2)` noise in training; the identity at inference.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's bound).
        seed: makes the noise reproducible.
    """

    supports_masking = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.stddev = _check_rate("GaussianNoise", stddev, name="stddev")
        self.seed = seed

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        if not training or self.stddev == 0.0:
            return inputs
        noise = jax.random.normal(next_rng_key(self.seed), inputs.shape, inputs.dtype)
        return inputs + self.stddev * noise

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies the inputs by `N(1, rate / (1 - rate))` noise in training (mean-preserving);
    the identity at inference.

    Args:
        rate: the equivalent drop probability, in [0, 1].
        seed: makes the noise reproducible.
    """

    supports_masking = True

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rate = _check_rate("GaussianDropout", rate)
        self.seed = seed

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        if not training or self.rate == 0.0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = jax.random.normal(next_rng_key(self.seed), inputs.shape, inputs.dtype)
        return inputs * (1.0 + stddev * noise)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout for SELU networks: keeps the inputs' mean and variance (see `alpha_dropout`).
    Active only in training.

    Args:
        rate: fraction of the inputs to drop, in [0, 1).
        noise_shape: shape of the keep mask (None entries take the inputs' size).
        seed: makes the masks reproducible.
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rate = _check_rate("AlphaDropout", rate, upper_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs: jax.Array, training: bool | None = None) -> jax.Array:
        if not training or self.rate == 0.0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        return alpha_dropout(next_rng_key(self.seed), inputs, self.rate, shape)

    def get_config(self) -> dict[str, Any]:
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape,
                "seed": self.seed}


class ActivityRegularization(Layer):
    """The identity, adding `(l1 * sum|x| + l2 * sum x**2) / batch_size` to the training loss
    (Keras's activity regularization, normalized by the batch size).

    Args:
        l1: the L1 factor.
        l2: the L2 factor.
    """

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        kwargs.pop("activity_regularizer", None)  # it is built from l1 and l2
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, inputs: jax.Array) -> jax.Array:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
