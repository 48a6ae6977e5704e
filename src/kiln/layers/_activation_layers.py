"""Activation layers: ReLU, LeakyReLU, PReLU, ELU and Softmax, with Keras 3's arguments.

Each wraps the pure function of `kiln.activations` (PReLU adds its learned slope `alpha`).
Note Keras's two defaults for leaky ReLU: the `LeakyReLU` layer uses slope 0.3, the
`leaky_relu` function 0.2.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import jax
import jax.numpy as jnp

from .. import activations, initializers, regularizers
from ._core import _serialize
from ._layer import Layer
from ._normalization import get_constraint, rebuild_weight_args


def _non_negative(layer: str, name: str, value: Any, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if (value is None or isinstance(value, bool) or not isinstance(value, (int, float))
            or value < 0):
        raise ValueError(f"{layer}({name}=...) must be a non-negative number; received "
                         f"{name}={value!r}.")
    return value


class ReLU(Layer):
    """Rectified linear unit with Keras's optional cap, slope and threshold:
    `min(x, max_value)` for `x >= threshold`, `negative_slope * (x - threshold)` below it.

    Args:
        max_value: the largest output (None: no cap).
        negative_slope: slope below the threshold.
        threshold: values below it are damped (set to 0 with the default slope).
    """

    supports_masking = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_value = _non_negative("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _non_negative("ReLU", "negative_slope", negative_slope)
        self.threshold = _non_negative("ReLU", "threshold", threshold)

    def call(self, inputs: jax.Array) -> jax.Array:
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """`x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: the slope for negative inputs (Keras's layer default 0.3). The
            deprecated Keras 2 name `alpha` is accepted with a warning.
    """

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU(alpha=...) is deprecated (as in Keras 3); use "
                          "negative_slope=... instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _non_negative("LeakyReLU", "negative_slope", negative_slope)

    def call(self, inputs: jax.Array) -> jax.Array:
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Leaky ReLU with a learned slope: `relu(x) - alpha * relu(-x)`.

    Args:
        alpha_initializer: initializer of `alpha` (Keras's default zeros: starts as a ReLU).
        alpha_regularizer / alpha_constraint: penalty and constraint on `alpha`.
        shared_axes: input axes (1-based, the batch axis is 0) along which one slope is
            shared, e.g. `[1, 2]` for one slope per channel of `(N, H, W, C)` images.

    The weight `alpha` has the input's shape without the batch axis (size 1 on shared axes).
    """

    supports_masking = True

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: int | Sequence[int] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = get_constraint(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)

    def build(self, input_shape: Any) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"PReLU(shared_axes=...) entries must be input axes in "
                                 f"[1, {len(input_shape) - 1}] (0 is the batch axis); received "
                                 f"{self.shared_axes} for input shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU needs known sizes on its non-shared axes; received input "
                             f"shape {tuple(input_shape)}. Share the unknown axes with "
                             "shared_axes=[...].")
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def call(self, inputs: jax.Array) -> jax.Array:
        # Keras's form, kept for identical rounding: relu(x) + (-alpha) * relu(-x).
        return jax.nn.relu(inputs) + (-self.alpha.value) * jax.nn.relu(-inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "alpha_initializer": _serialize(self.alpha_initializer),
                "alpha_regularizer": _serialize(self.alpha_regularizer),
                "alpha_constraint": _serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "PReLU":
        return cls(**rebuild_weight_args(config))


class ELU(Layer):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        alpha: the scale of the negative part.
    """

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs: jax.Array) -> jax.Array:
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        # Keras's ELU config omits alpha (so a non-default alpha is lost); kiln keeps it.
        return {**super().get_config(), "alpha": self.alpha}


def _large_negative(dtype: Any) -> float:
    # Keras fills masked logits with -1e9 (-3e4 in float16, whose range is smaller).
    return -30000.0 if jnp.dtype(dtype) == jnp.float16 else -1e9


class Softmax(Layer):
    """Softmax over `axis`; with a `mask` (True = keep), masked positions get probability 0.

    Args:
        axis: the axis, or list of axes, to normalize over.

    Call arguments:
        inputs: logits.
        mask: optional boolean (or 0/1) array broadcastable to `inputs`; e.g. an attention
            mask. Masked logits are replaced by a large negative number before the softmax,
            and the outputs there are set to 0, as in Keras.
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)

    def call(self, inputs: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        if mask is not None:
            mask = self._check_mask(jnp.asarray(mask), inputs)
            inputs = jnp.where(mask, inputs, _large_negative(inputs.dtype))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            axes = tuple(self.axis)
            outputs = jnp.exp(inputs - jax.nn.logsumexp(inputs, axis=axes, keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, list) else self.axis
            outputs = activations.softmax(inputs, axis=axis)
        return outputs if mask is None else jnp.where(mask, outputs, 0.0)

    @staticmethod
    def _check_mask(mask: jax.Array, inputs: jax.Array) -> jax.Array:
        fits = mask.ndim <= inputs.ndim and all(
            m in (1, i) for m, i in zip(mask.shape[::-1], inputs.shape[::-1]))
        if not fits:
            raise ValueError(f"Softmax mask of shape {tuple(mask.shape)} does not broadcast to "
                             f"inputs of shape {tuple(inputs.shape)}; each mask dimension must "
                             "be 1 or equal the input's (aligned from the right).")
        # Keras treats a non-boolean mask as `mask > 0.5`.
        return mask if mask.dtype == jnp.bool_ else mask > 0.5

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
