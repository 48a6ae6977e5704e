"""Weight initializers with Keras 3's names, arguments and defaults.

Each initializer is a pure sampler, `initializer.sample(key, shape, dtype)`, inside a small
Keras-style object: `initializer(shape, dtype)` draws with the instance's own seed.

Seeding, as Keras 3: an instance fixes its seed when it is constructed, so calling the same
instance twice returns the same values. `seed=int` gives the same numbers in every process.
`seed=None` draws the seed from Python's `random` module (as Keras does), which
`kiln.utils.set_random_seed(s)` seeds, so seeded runs are reproducible. An integer seed `s`
becomes the raw JAX key `uint32[s, 0]`, as on Keras's JAX backend, and the samplers are the
same `jax.random` calls, so kiln and Keras give bitwise-equal values for the same seed.
Layers resolve a fresh instance per weight, so two layers get different weights.

Example:
    >>> import kiln
    >>> init = kiln.initializers.get("glorot_uniform")
    >>> init((3, 4)).shape
    (3, 4)
"""

from __future__ import annotations

import inspect
import random
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _initializer_samplers as _s
from ._initializer_samplers import Shape, compute_fans, seed_key
from . import _registry, _serialization
from ._stft_initializer import STFT as STFT
from ._stft_initializer import STFTInitializer as STFTInitializer
from ._stft_initializer import stft as stft
from ._utils import to_snake_case
from ._variables import Variable

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "Identity", "RandomNormal", "TruncatedNormal",
    "RandomUniform", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
    "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "compute_fans", "seed_key",
    "get", "serialize", "deserialize", "STFT", "STFTInitializer", "stft",
]


class Initializer:
    """Base class of initializers.

    kiln's initializers implement the pure `sample(key, shape, dtype)`; `__call__(shape,
    dtype)` then draws with the instance's own seed. A Keras-style subclass that only
    defines `__call__(shape, dtype=None)` works too (its `sample` ignores the key).
    """

    def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
        if type(self).sample is Initializer.sample:
            raise NotImplementedError(
                f"{type(self).__name__} must define __call__(shape, dtype=None) or "
                "sample(key, shape, dtype).")
        return self.sample(None, shape, dtype)

    def sample(self, key: jax.Array | None, shape: Shape, dtype: Any = None) -> jax.Array:
        """Draws a value of `shape` and `dtype` (floatx when None) from PRNG `key`.

        Args:
            key: a JAX PRNG key, or None to use the instance's own seed.
            shape: the weight's shape.
            dtype: the weight's dtype.

        Returns:
            A `jax.Array` of that shape and dtype.
        """
        if type(self).__call__ is Initializer.__call__:
            raise NotImplementedError(
                f"{type(self).__name__} must define __call__(shape, dtype=None) or "
                "sample(key, shape, dtype).")
        return jnp.asarray(self(shape, dtype))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serializable."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Initializer":
        return cls(**config)

    def clone(self) -> "Initializer":
        return type(self).from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (the default bias initializer)."""

    def sample(self, key, shape, dtype=None):
        # Built on the host: jnp.zeros compiles a program for every new shape (model builds
        # with many BatchNormalization layers spent seconds there).
        return jnp.asarray(np.zeros(_s.standardize_shape(shape), _s.standardize_dtype(dtype)))


class Ones(Initializer):
    """All ones."""

    def sample(self, key, shape, dtype=None):
        return jnp.asarray(np.ones(_s.standardize_shape(shape), _s.standardize_dtype(dtype)))


class Constant(Initializer):
    """Every entry equals `value` (a scalar, or an array that broadcasts to the shape)."""

    def __init__(self, value: Any = 0.0):
        if isinstance(value, dict):  # Keras serializes array values as {"config": {"value": ...}}
            value = value.get("config", {}).get("value", value)
        self.value = value

    def sample(self, key, shape, dtype=None):
        dtype = _s.standardize_dtype(dtype)
        return jnp.asarray(self.value, dtype) * jnp.ones(_s.standardize_shape(shape), dtype)

    def get_config(self):
        value = self.value
        if isinstance(value, (np.ndarray, np.generic, jax.Array)):
            value = np.asarray(value).tolist()
        return {"value": value}


class Identity(Initializer):
    """`gain * eye(rows, cols)` for a 2-D shape."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def sample(self, key, shape, dtype=None):
        shape = _s.standardize_shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape; received shape={shape}.")
        return self.gain * jnp.eye(*shape, dtype=_s.standardize_dtype(dtype))

    def get_config(self):
        # Keras 3 returns {} here (dropping gain); we keep it. Keras's {} still loads.
        return {"gain": self.gain}


def _default_seed() -> int:
    # Keras draws an unseeded initializer's seed with Python's random.randint(1, 1e9) at
    # construction; drawing it the same way makes set_random_seed(s) give Keras's weights.
    return random.randint(1, int(1e9))


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the seed and turns it into a key."""

    def __init__(self, seed: int | None = None):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"`seed` must be an int or None; received seed={seed!r} "
                             f"(type {type(seed).__name__}).")
        self._init_seed = None if seed is None else int(seed)
        self.seed = _default_seed() if seed is None else int(seed)

    def _key(self, key: jax.Array | None) -> jax.Array:
        return seed_key(self.seed) if key is None else key

    def get_config(self):
        return {"seed": self._init_seed}


class RandomNormal(RandomInitializer):
    """`N(mean, stddev**2)` samples (strings "random_normal", "normal")."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def sample(self, key, shape, dtype=None):
        return _s.normal(self._key(key), shape, dtype, self.mean, self.stddev)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """`mean + stddev * z`, `z` a unit normal truncated to `[-2, 2]`."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def sample(self, key, shape, dtype=None):
        return _s.truncated_normal(self._key(key), shape, dtype, self.mean, self.stddev)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """`U[minval, maxval)` samples (strings "random_uniform", "uniform")."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def sample(self, key, shape, dtype=None):
        return _s.uniform(self._key(key), shape, dtype, self.minval, self.maxval)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Samples with variance `scale / n`, `n` = fan_in, fan_out or their mean.

    Args:
        scale: positive scaling factor.
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal" (alias "normal"), "untruncated_normal" or "uniform";
            see `kiln._initializer_samplers.variance_scaling` for the formulas.
        seed: int or None (see the module docstring).
        input_axes, output_axes: optional axes whose sizes give the fans.
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None,
                 input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        if not scale > 0.0:
            raise ValueError(f"VarianceScaling needs scale > 0; received scale={scale!r}.")
        if mode not in _MODES:
            raise ValueError(f"VarianceScaling mode must be one of {_MODES}; received {mode!r}.")
        distribution = str(distribution).lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling distribution must be one of {_DISTRIBUTIONS} "
                             f"or 'normal'; received {distribution!r}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def sample(self, key, shape, dtype=None):
        return _s.variance_scaling(self._key(key), shape, dtype, self.scale, self.mode,
                                   self.distribution, self.input_axes, self.output_axes)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are class constants."""

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(self._SCALE, self._MODE, self._DISTRIBUTION, seed, input_axes,
                         output_axes)

    def get_config(self):
        return {"seed": self._init_seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """`U[-l, l]`, `l = sqrt(6 / (fan_in + fan_out))` (the Dense and Conv default)."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev `sqrt(2 / (fan_in + fan_out))`."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """`U[-l, l]`, `l = sqrt(6 / fan_in)`."""
    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev `sqrt(2 / fan_in)`."""
    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """`U[-l, l]`, `l = sqrt(3 / fan_in)`."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "uniform"


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev `sqrt(1 / fan_in)`."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


class Orthogonal(RandomInitializer):
    """A random (semi-)orthogonal matrix times `gain` (the LSTM/GRU recurrent default)."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = gain
        super().__init__(seed)

    def sample(self, key, shape, dtype=None):
        return _s.orthogonal(self._key(key), shape, dtype, self.gain)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


# -- registry and lookup ---------------------------------------------------------------------
_CLASSES = (Initializer, Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal,
            RandomUniform, VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
            LecunUniform, LecunNormal, Orthogonal)
#: Every name `get` accepts (class names, their snake_case, Keras's aliases) -> class.
INITIALIZERS: dict[str, type] = {c.__name__: c for c in _CLASSES}
INITIALIZERS.update({to_snake_case(c.__name__): c for c in _CLASSES})
INITIALIZERS.update(zero=Zeros, one=Ones, normal=RandomNormal, uniform=RandomUniform,
                    IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal)
for _cls in _CLASSES:
    _registry.register(_cls, "initializers")
for _alias, _cls in INITIALIZERS.items():
    if _alias != _cls.__name__:
        _registry.register_alias("initializers", _alias, _cls)

# Keras also exports each class under its snake_case name (keras.initializers.zeros, ...).
zeros, ones, constant, identity, orthogonal = Zeros, Ones, Constant, Identity, Orthogonal
random_normal, truncated_normal, random_uniform = RandomNormal, TruncatedNormal, RandomUniform
variance_scaling, glorot_uniform, glorot_normal = VarianceScaling, GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
# Keras's compatibility names for two classes (same objects, so configs keep the main name).
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal


def serialize(initializer: Initializer) -> dict[str, Any]:
    """A Keras-format config: `{"module", "class_name", "config", "registered_name"}`."""
    return _serialization.serialize(initializer)


def deserialize(config: dict | str, custom_objects: dict[str, Any] | None = None) -> Initializer:
    """Builds an initializer from a name or a `serialize` dict (Keras's format too)."""
    return _serialization.build(config, "initializers", custom_objects, label="initializer")


def _from_array(value: Any) -> Callable[..., jax.Array]:
    value = jnp.asarray(value.value if isinstance(value, Variable) else value)

    def initialize(shape: Shape, dtype: Any = None) -> jax.Array:
        if _s.standardize_shape(shape) != tuple(value.shape):
            raise ValueError(f"This initializer holds an array of shape {tuple(value.shape)}; "
                             f"it was asked for shape {_s.standardize_shape(shape)}.")
        return value.astype(_s.standardize_dtype(dtype))

    return initialize


def get(identifier: Any) -> Initializer | Callable[..., jax.Array] | None:
    """Resolves an initializer identifier.

    Args:
        identifier: None; a name ("glorot_uniform", "GlorotUniform", "zeros", "normal", ...);
            a config dict; an `Initializer` instance or class; a callable
            `(shape, dtype=None) -> array` (returned as is); or an array to copy.

    Returns:
        An initializer, or None for None.
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, (np.ndarray, np.generic, jax.Array, Variable)):
        return _from_array(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret initializer identifier {identifier!r} (type "
        f"{type(identifier).__name__}). Expected a name such as 'glorot_uniform', a config "
        "dict, an Initializer, or a callable (shape, dtype=None) -> array.")
