"""Activation functions with Keras 3's names, signatures and defaults.

Every function takes an array (or a kiln `Variable`) and returns a `jax.Array`; all are
pure `jax.numpy`/`jax.nn` code, so they trace under `jax.jit`. The formulas are the ones
Keras 3 uses on its JAX backend, so the numbers agree with `keras.activations` exactly.

Example:
    >>> import kiln
    >>> kiln.activations.get("relu")([-1.0, 2.0]).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp

from . import _registry, _serialization
from ._variables import Variable

ArrayLike = Any

__all__ = [
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink", "threshold", "get", "serialize", "deserialize", "ACTIVATIONS",
]


def _tensor(x: ArrayLike) -> jax.Array:
    return jnp.asarray(x.value if isinstance(x, Variable) else x)


# -- rectifiers ------------------------------------------------------------------------------
def relu(x: ArrayLike, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> jax.Array:
    """Rectified linear unit with Keras's optional slope, cap and threshold.

    `f(x) = min(x, max_value)` for `x > threshold`, `0` otherwise, then minus
    `negative_slope * relu(threshold - x)`.

    Args:
        x: input array.
        negative_slope: slope below the threshold.
        max_value: upper bound of the output, or None for no bound.
        threshold: values at or below it are set to 0 (before the slope term).

    Returns:
        An array of the same shape as `x`.
    """
    x = _tensor(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return jax.nn.leaky_relu(x, negative_slope=negative_slope)
    y = jnp.where(x > threshold, x, 0) if threshold != 0 else jax.nn.relu(x)
    if max_value is not None:
        y = jnp.clip(y, 0, max_value)
    if negative_slope != 0.0:
        # Keras subtracts the slope term after clipping, so the cap applies to the
        # positive part only.
        y = y - negative_slope * jax.nn.relu(threshold - x)
    return y


def leaky_relu(x: ArrayLike, negative_slope: float = 0.2) -> jax.Array:
    """`x` if `x >= 0` else `negative_slope * x` (Keras's function default is 0.2;
    the `LeakyReLU` layer's is 0.3)."""
    return jax.nn.leaky_relu(_tensor(x), negative_slope=negative_slope)


def relu6(x: ArrayLike) -> jax.Array:
    """`min(max(x, 0), 6)`."""
    return jax.nn.relu6(_tensor(x))


def elu(x: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """`x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return jax.nn.elu(_tensor(x), alpha=alpha)


def selu(x: ArrayLike) -> jax.Array:
    """`scale * elu(x, alpha)` with `alpha=1.67326324`, `scale=1.05070098`."""
    return jax.nn.selu(_tensor(x))


def celu(x: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """`x` if `x >= 0` else `alpha * (exp(x / alpha) - 1)`."""
    return jax.nn.celu(_tensor(x), alpha=alpha)


def gelu(x: ArrayLike, approximate: bool = False) -> jax.Array:
    """Gaussian error linear unit: `0.5 * x * (1 + erf(x / sqrt(2)))`.

    Args:
        x: input array.
        approximate: use the tanh approximation instead of `erf` (Keras's activation
            defaults to False; `keras.ops.gelu` defaults to True).
    """
    return jax.nn.gelu(_tensor(x), approximate=approximate)


def silu(x: ArrayLike) -> jax.Array:
    """`x * sigmoid(x)` (also registered as `swish`)."""
    return jax.nn.silu(_tensor(x))


swish = silu


def mish(x: ArrayLike) -> jax.Array:
    """`x * tanh(softplus(x))`, written out as Keras does."""
    x = _tensor(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def hard_silu(x: ArrayLike) -> jax.Array:
    """`x * relu6(x + 3) / 6` (also registered as `hard_swish`)."""
    return jax.nn.hard_silu(_tensor(x))


hard_swish = hard_silu


# -- squashing functions ---------------------------------------------------------------------
def sigmoid(x: ArrayLike) -> jax.Array:
    """`1 / (1 + exp(-x))`."""
    return jax.nn.sigmoid(_tensor(x))


def hard_sigmoid(x: ArrayLike) -> jax.Array:
    """Keras 3's piecewise-linear sigmoid: `relu6(x + 3) / 6`, i.e. `x / 6 + 0.5` on
    `[-3, 3]`, 0 below, 1 above (Keras 2 used slope 0.2)."""
    return jax.nn.hard_sigmoid(_tensor(x))


def sparse_sigmoid(x: ArrayLike) -> jax.Array:
    """0 for `x <= -1`, `(x + 1) / 2` on `(-1, 1)`, 1 for `x >= 1`."""
    return jax.nn.sparse_sigmoid(_tensor(x))


def log_sigmoid(x: ArrayLike) -> jax.Array:
    """`-softplus(-x)`, computed stably."""
    return jax.nn.log_sigmoid(_tensor(x))


def tanh(x: ArrayLike) -> jax.Array:
    """Hyperbolic tangent."""
    return jnp.tanh(_tensor(x))


def hard_tanh(x: ArrayLike) -> jax.Array:
    """`clip(x, -1, 1)`."""
    return jax.nn.hard_tanh(_tensor(x))


def tanh_shrink(x: ArrayLike) -> jax.Array:
    """`x - tanh(x)`."""
    x = _tensor(x)
    return x - jnp.tanh(x)


def softplus(x: ArrayLike) -> jax.Array:
    """`log(exp(x) + 1)`, computed stably."""
    return jax.nn.softplus(_tensor(x))


def softsign(x: ArrayLike) -> jax.Array:
    """`x / (abs(x) + 1)`."""
    return jax.nn.soft_sign(_tensor(x))


def sparse_plus(x: ArrayLike) -> jax.Array:
    """0 for `x <= -1`, `(x + 1)**2 / 4` on `(-1, 1)`, `x` for `x >= 1`."""
    return jax.nn.sparse_plus(_tensor(x))


def squareplus(x: ArrayLike, b: float = 4) -> jax.Array:
    """`(x + sqrt(x**2 + b)) / 2`."""
    return jax.nn.squareplus(_tensor(x), b=b)


def soft_shrink(x: ArrayLike, threshold: float = 0.5) -> jax.Array:
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    x = _tensor(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


def hard_shrink(x: ArrayLike, threshold: float = 0.5) -> jax.Array:
    """`x` where `abs(x) > threshold`, else 0."""
    x = _tensor(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def threshold(x: ArrayLike, threshold: float, default_value: float) -> jax.Array:
    """`x` where `x > threshold`, else `default_value`."""
    x = _tensor(x)
    return jnp.where(x > threshold, x, default_value)


def exponential(x: ArrayLike) -> jax.Array:
    """`exp(x)`."""
    return jnp.exp(_tensor(x))


def linear(x: ArrayLike) -> jax.Array:
    """The identity (what `activation=None` means)."""
    return _tensor(x)


# -- normalising functions -------------------------------------------------------------------
def _warn_if_size_one(x: jax.Array, axis: Any) -> None:
    # Keras warns (and so do we) because a softmax over one element is always 1.
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"softmax over axis {axis} of an input of shape {tuple(x.shape)}: that axis has "
            "size 1, so every output is 1. For one output unit use 'sigmoid' instead.",
            stacklevel=3,
        )


def softmax(x: ArrayLike, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """`exp(x) / sum(exp(x), axis)`, computed stably.

    Args:
        x: input array (logits).
        axis: the axis (or tuple of axes) to normalise over.
    """
    x = _tensor(x)
    _warn_if_size_one(x, axis)
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x: ArrayLike, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """`x - logsumexp(x, axis)`."""
    x = _tensor(x)
    _warn_if_size_one(x, axis)
    return jax.nn.log_softmax(x, axis=axis)


def glu(x: ArrayLike, axis: int = -1) -> jax.Array:
    """Gated linear unit: split `x` in halves `a, b` along `axis`; `a * sigmoid(b)`."""
    return jax.nn.glu(_tensor(x), axis=axis)


def sparsemax(x: ArrayLike, axis: int = -1) -> jax.Array:
    """Euclidean projection of `x` onto the probability simplex along `axis`.

    `sparsemax(x) = max(x - tau, 0)`, with `tau` chosen so the outputs sum to 1.
    """
    x = _tensor(x)
    z = jnp.moveaxis(x, axis, -1)
    z_sorted = -jnp.sort(-z, axis=-1)
    ranks = jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cumsum = jnp.cumsum(z_sorted, axis=-1)
    in_support = z_sorted * ranks > cumsum - 1
    k = jnp.sum(in_support, axis=-1, keepdims=True)
    tau = (jnp.sum(jnp.where(in_support, z_sorted, 0.0), axis=-1, keepdims=True) - 1) / k
    return jnp.moveaxis(jnp.maximum(z - tau, 0.0), -1, axis)


# -- registry --------------------------------------------------------------------------------
_CANONICAL = (
    relu, leaky_relu, relu6, elu, selu, celu, gelu, silu, mish, hard_silu, sigmoid,
    hard_sigmoid, sparse_sigmoid, log_sigmoid, tanh, hard_tanh, tanh_shrink, softplus,
    softsign, sparse_plus, squareplus, soft_shrink, hard_shrink, threshold, exponential,
    linear, softmax, log_softmax, glu, sparsemax,
)
#: Every activation name `get` accepts, mapped to its function (aliases included).
ACTIVATIONS: dict[str, Callable[..., jax.Array]] = {fn.__name__: fn for fn in _CANONICAL}
ACTIVATIONS.update(swish=silu, hard_swish=hard_silu)
_NAME_OF = {fn: fn.__name__ for fn in _CANONICAL}
for _fn in _CANONICAL:
    _registry.register(_fn, "activations")
_registry.register_alias("activations", "swish", silu)
_registry.register_alias("activations", "hard_swish", hard_silu)


def get(identifier: str | Callable | dict | None) -> Callable[..., jax.Array]:
    """Resolves an activation identifier to a function.

    Args:
        identifier: None (linear), a name such as "relu", a serialized dict, or a callable
            (returned as is).

    Returns:
        The activation function.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation identifier {identifier!r} (type "
        f"{type(identifier).__name__}). Expected None, a name such as 'relu', or a callable."
    )


def serialize(activation: Callable) -> str:
    """The name under which `activation` is stored in a config.

    Built-in activations give their canonical name ("swish" gives "silu"). A named custom
    function gives its `__name__`; pass it in `custom_objects` when loading.
    """
    if activation in _NAME_OF:
        return _NAME_OF[activation]
    name = getattr(activation, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(
            f"Cannot serialize activation {activation!r}: it is not a kiln activation and has "
            "no usable name. Define it with `def` and pass it in `custom_objects` when loading."
        )
    return _registry.get_registered_name(activation)


def deserialize(config: str | dict, custom_objects: dict[str, Callable] | None = None
                ) -> Callable[..., jax.Array]:
    """The activation named by `config` (a name, or a Keras-style serialized dict)."""
    if isinstance(config, dict) and config.get("class_name") != "function" and "config" in config \
            and isinstance(config["config"], str):
        config = config["config"]  # an older form: {"class_name": ..., "config": name}
    return _serialization.deserialize(config, "activations", custom_objects, label="activation")
