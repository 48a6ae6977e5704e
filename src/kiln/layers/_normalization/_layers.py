"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
RMSNormalization and UnitNormalization, thin Keras-named shells over `_functions`."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import jax

from ... import initializers, regularizers
from .._core import _serialize
from .._layer import Layer
from ._functions import (Axes, _axes_list, _check_axis_arg, _compute_dtype, _param_shape,
                         get_constraint, group_norm, layer_norm, moments, normalize,
                         rebuild_weight_args, rms_norm, unit_norm)


class _AffineNorm(Layer):
    """Shared constructor, weights and config of the normalizations with gamma and beta."""

    supports_masking = True

    def __init__(self, axis: Axes, epsilon: float, center: bool, scale: bool,
                 beta_initializer: Any, gamma_initializer: Any, beta_regularizer: Any,
                 gamma_regularizer: Any, beta_constraint: Any, gamma_constraint: Any,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _check_axis_arg(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = get_constraint(beta_constraint)
        self.gamma_constraint = get_constraint(gamma_constraint)
        self.gamma = self.beta = None

    def _add_affine(self, shape: tuple, gamma: bool = True, beta: bool = True) -> None:
        # Keras's order: gamma, then beta.
        if gamma:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if beta:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    @staticmethod
    def _value(var: Any, dtype: Any, shape: Sequence[int] | None = None) -> jax.Array | None:
        if var is None:
            return None
        value = var.value.astype(dtype)
        return value if shape is None else value.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        config = {"axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                  "scale": self.scale}
        for key in ("beta_initializer", "gamma_initializer", "beta_regularizer",
                    "gamma_regularizer", "beta_constraint", "gamma_constraint"):
            config[key] = _serialize(getattr(self, key))
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**rebuild_weight_args(config))


class BatchNormalization(_AffineNorm):
    """Batch normalization with Keras's moving statistics.

    In training (`training=True` and the layer trainable) it normalizes with the batch's mean
    and biased variance over every axis but `axis`, and updates
    `moving = moving * momentum + batch_stat * (1 - momentum)`. Otherwise it uses the moving
    statistics. As in Keras 3, `layer.trainable = False` means inference mode even when
    called with `training=True` (the usual setting for fine-tuning).

    Args:
        axis: the feature axis (default the last; 1 after channels_first convolutions).
        momentum: weight of the old value in the moving averages (Keras's 0.99).
        epsilon: added to the variance (Keras's 1e-3).
        center / scale: whether to create and apply `beta` / `gamma`.
        beta_* / gamma_*: initializers, regularizers and constraints of the weights.
        moving_mean_initializer / moving_variance_initializer: zeros / ones.

    Weights, in Keras's order: gamma, beta (trainable), moving_mean, moving_variance.

    Example:
        >>> import jax.numpy as jnp
        >>> bn = BatchNormalization()
        >>> bn(jnp.array([[0.0], [2.0]]), training=True).round(4)  # (x - 1) / sqrt(1 + 1e-3)
        Array([[-0.9995],
               [ 0.9995]], dtype=float32)
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False,
                 synchronized: bool = False, **kwargs: Any):
        for key in ("renorm_clipping", "renorm_momentum"):
            kwargs.pop(key, None)  # only meaningful with renorm, which is refused below
        if renorm or synchronized:
            raise NotImplementedError(
                "BatchNormalization(renorm=True) and (synchronized=True) are not supported by "
                "kiln (synchronized is TensorFlow-only in Keras too). Remove the argument.")
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        if not isinstance(self.axis, int):
            raise TypeError(f"BatchNormalization(axis=...) must be one int; received {axis!r}.")
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: Any) -> None:
        _axes_list(self.axis, len(input_shape))
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"BatchNormalization needs a known size on axis {self.axis}; "
                             f"received input shape {tuple(input_shape)}.")
        self._add_affine((dim,), gamma=self.scale, beta=self.center)
        self.moving_mean = self.add_weight((dim,), self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight((dim,), self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)

    def call(self, inputs: jax.Array, training: bool | None = None,
             mask: jax.Array | None = None) -> jax.Array:
        x = inputs.astype(_compute_dtype(inputs))
        axis = self.axis % x.ndim
        pshape = [1] * x.ndim
        pshape[axis] = x.shape[axis]
        moving_mean = self.moving_mean.value.astype(x.dtype)
        moving_variance = self.moving_variance.value.astype(x.dtype)
        if training and self.trainable:
            mean, variance = moments(x, [a for a in range(x.ndim) if a != axis],
                                     self._broadcast_mask(mask, x))
            mean, variance = mean.reshape(-1), variance.reshape(-1)
            m = self.momentum
            # Keras's update, term for term: moving * momentum + batch * (1 - momentum).
            self.moving_mean.assign(moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(moving_variance * m + variance * (1.0 - m))
        else:
            mean, variance = moving_mean, moving_variance
        out = normalize(x, mean.reshape(pshape), variance.reshape(pshape), self.epsilon,
                        self._value(self.gamma, x.dtype, pshape),
                        self._value(self.beta, x.dtype, pshape))
        return out.astype(self.compute_dtype)

    @staticmethod
    def _broadcast_mask(mask: jax.Array | None, x: jax.Array) -> jax.Array | None:
        if mask is None:
            return None
        if mask.ndim != x.ndim - 1:
            raise ValueError(f"BatchNormalization expects a mask with one dimension less than "
                             f"its inputs; received mask shape {tuple(mask.shape)} for inputs "
                             f"of shape {tuple(x.shape)}.")
        return mask[..., None]  # Keras expands the mask on the last axis.

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": _serialize(self.moving_mean_initializer),
                "moving_variance_initializer": _serialize(self.moving_variance_initializer),
                "renorm": False, "synchronized": False}


class LayerNormalization(_AffineNorm):
    """Normalizes each sample over `axis`: `(x - mean) / sqrt(var + epsilon) * gamma + beta`.

    Args:
        axis: the axis or axes to normalize over (default the last).
        epsilon: added to the variance (Keras's default 1e-3).
        center / scale: whether to create and apply `beta` / `gamma`.
        rms_scaling: Keras's deprecated variant (scales by the variance, no beta); warns.
        beta_* / gamma_*: initializers, regularizers and constraints of the weights.

    Example:
        >>> import jax.numpy as jnp
        >>> LayerNormalization()(jnp.array([[1.0, 3.0]])).round(4)  # (x - 2) / sqrt(1 + 1e-3)
        Array([[-0.9995,  0.9995]], dtype=float32)
    """

    def __init__(self, axis: Axes = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, rms_scaling: bool = False, **kwargs: Any):
        if rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) is deprecated in Keras: it "
                          "scales by the variance, not the root mean square. Use "
                          "RMSNormalization for RMS normalization.", stacklevel=2)
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape: Any) -> None:
        axes = _axes_list(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        self._add_affine(shape, gamma=self.scale or self.rms_scaling,
                         beta=self.center and not self.rms_scaling)

    def call(self, inputs: jax.Array) -> jax.Array:
        x = inputs.astype(_compute_dtype(inputs))
        axes = _axes_list(self.axis, x.ndim)
        pshape = _param_shape(x.ndim, axes, x.shape)
        out = layer_norm(x, axes, self.epsilon, self._value(self.gamma, x.dtype, pshape),
                         self._value(self.beta, x.dtype, pshape), self.rms_scaling)
        return out.astype(self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rms_scaling": self.rms_scaling}


class GroupNormalization(_AffineNorm):
    """Group normalization: the channels on `axis` are split into `groups`; each group of each
    sample is normalized over its channels and the other non-batch axes.

    Args:
        groups: number of groups; it must divide the channels (-1: one group per channel,
            i.e. instance normalization).
        axis: the channel axis (default the last).
        epsilon, center, scale, beta_* / gamma_*: as in LayerNormalization.
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any):
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization(groups=...) must be a positive int, or -1 for "
                             f"instance normalization; received {groups!r}.")
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        if not isinstance(self.axis, int):
            raise TypeError(f"GroupNormalization(axis=...) must be one int; received {axis!r}.")
        self.groups = groups

    def build(self, input_shape: Any) -> None:
        _axes_list(self.axis, len(input_shape))
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"GroupNormalization needs a known size on axis {self.axis}; "
                             f"received input shape {tuple(input_shape)}.")
        groups = dim if self.groups == -1 else self.groups
        if dim < groups or dim % groups:
            raise ValueError(f"GroupNormalization(groups={groups}) must divide the {dim} "
                             f"channels on axis {self.axis} (and not exceed them). Choose "
                             f"groups among the divisors of {dim}.")
        self.groups = groups  # Keras also resolves -1 to the channel count here.
        self._add_affine((dim,), gamma=self.scale, beta=self.center)

    def call(self, inputs: jax.Array) -> jax.Array:
        x = inputs.astype(_compute_dtype(inputs))
        out = group_norm(x, self.groups, self.axis, self.epsilon,
                         self._value(self.gamma, x.dtype), self._value(self.beta, x.dtype))
        return out.astype(self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups}


class RMSNormalization(Layer):
    """Root-mean-square normalization: `x * rsqrt(mean(x**2, axis) + epsilon) * scale`.

    Args:
        axis: the axis or axes to normalize over (default the last).
        epsilon: added to the mean square (Keras's default 1e-6).

    The weight is named `scale` (initialized to ones), as in Keras.
    """

    def __init__(self, axis: Axes = -1, epsilon: float = 1e-6, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _check_axis_arg(axis)
        self.epsilon = float(epsilon)

    def build(self, input_shape: Any) -> None:
        axes = _axes_list(self.axis, len(input_shape))
        self.scale = self.add_weight(tuple(input_shape[a] for a in axes), "ones", name="scale")

    def call(self, inputs: jax.Array) -> jax.Array:
        x = inputs.astype(_compute_dtype(inputs))
        axes = _axes_list(self.axis, x.ndim)
        scale = self.scale.value.astype(x.dtype).reshape(_param_shape(x.ndim, axes, x.shape))
        return rms_norm(x, axes, self.epsilon, scale).astype(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`: `x / max(||x||_2, 1e-12)`.

    Args:
        axis: the axis or axes over which the norm is taken (default the last).
    """

    supports_masking = True

    def __init__(self, axis: Axes = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _check_axis_arg(axis)

    def call(self, inputs: jax.Array) -> jax.Array:
        return unit_norm(inputs, _axes_list(self.axis, inputs.ndim))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
