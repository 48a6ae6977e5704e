"""Keras 3's `keras.random`: seeded draws on JAX, with Keras's numbers for int seeds.

An int seed draws from the raw uint32 key `[seed, 0]`; a `SeedGenerator` holds that key in a
non-trainable `Variable` and advances it by `[0, 1]` per draw (inside a kiln scope the advance
is recorded as a write, so it happens inside the compiled step); a jax key array is used as is.
`seed=None` draws from the open scope's key stream, else from kiln's global stream.

Example:
    >>> import kiln.random
    >>> kiln.random.normal((2,), seed=1).shape
    (2,)
"""

from __future__ import annotations

import random as _py_random
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _config, _random, _scope
from ._naming import unique_name
from ._variables import Variable, binding_scopes

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]


def _tracing() -> bool:
    return isinstance(jnp.zeros(()), jax.core.Tracer)


class SeedGenerator:
    """A stateful seed: each `next()` returns the current uint32 key and advances it.

    Args:
        seed: an int in [0, 2**32); None picks one (Python's `random`, as Keras does).
        name: the name (default `seed_generator`, `seed_generator_1`, ...).

    Example:
        >>> gen = SeedGenerator(3)
        >>> [int(x) for x in gen.next()], [int(x) for x in gen.state.value]
        ([3, 0], [3, 1])
    """

    def __init__(self, seed: int | None = None, name: str | None = None):
        self.name = name or unique_name("SeedGenerator")
        self._initial_seed = seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        _check_int_seed(seed, "SeedGenerator")
        with jax.ensure_compile_time_eval(), _scope.name_scope(self.name):
            self.state = Variable(np.array([int(seed), 0], np.uint32), trainable=False,
                                  name="seed_generator_state",
                                  path=_scope.scoped_path("seed_generator_state"))

    def next(self, ordered: bool = True) -> jax.Array:
        """The current state (a uint32 key of shape (2,)); the state advances."""
        value = self.state.value
        if ordered:
            new = value + jnp.array([0, 1], jnp.uint32)
        else:
            new = (value + 1) * 5387 % 933199
        if not binding_scopes() and isinstance(new, jax.core.Tracer):
            raise ValueError(
                f"SeedGenerator '{self.name}' was advanced inside a traced function with no "
                "kiln scope bound to its state, so its state would freeze (and leak a tracer). "
                "Use it in a layer run by model.fit/predict, or pass seed= a jax key array "
                "that is an argument of the traced function.")
        self.state.assign(new)
        return value

    def get_config(self) -> dict[str, Any]:
        """`{"seed": the seed given (None if none), "name": ...}`, as Keras writes it."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SeedGenerator":
        """A new generator from `get_config()`'s dict."""
        return cls(**config)


def _check_int_seed(seed: Any, where: str) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{where}: `seed` must be an int, a SeedGenerator, a jax key array "
                         f"or None; received {seed!r} of type {type(seed).__name__}.")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"{where}: an int seed must lie in [0, 2**32) (a uint32 key); "
                         f"received {seed}. Pass a seed in that range, e.g. seed % 2**32.")


def _key(seed: Any) -> Any:
    """The key a draw uses: see the module docstring."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, jax.Array):
        return seed
    if seed is not None:
        _check_int_seed(seed, "kiln.random")
        return jnp.array([int(seed), 0], jnp.uint32)
    scope = _scope.current()
    if scope is not None and scope._rng.key is not None:
        return scope.next_key()
    if _tracing():
        raise ValueError(
            "An unseeded kiln.random draw (seed=None) inside a traced (jit) function would "
            "freeze one value into the compiled program. Pass seed= a SeedGenerator stored "
            "on your layer (self.seed_generator = kiln.random.SeedGenerator(1337)), or an int.")
    return _random.make_key()


def _shape(shape: Any) -> tuple:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


def _float_dtype(dtype: Any, fn: str) -> Any:
    dtype = dtype or _config.floatx()
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise ValueError(f"kiln.random.{fn} needs a floating point dtype; received {dtype}.")
    return dtype


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> jax.Array:
    """Samples of N(mean, stddev**2).

    >>> float(normal((3,), seed=0).std()) > 0
    True
    """
    dtype = _float_dtype(dtype, "normal")
    return jax.random.normal(_key(seed), shape=_shape(shape), dtype=dtype) * stddev + mean


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> jax.Array:
    """Samples of U[minval, maxval).

    >>> bool((uniform((4,), 2.0, 3.0, seed=0) >= 2.0).all())
    True
    """
    dtype = _float_dtype(dtype, "uniform")
    return jax.random.uniform(_key(seed), shape=_shape(shape), dtype=dtype, minval=minval,
                              maxval=maxval)


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> jax.Array:
    """Integers uniform in [minval, maxval).

    >>> int(randint((5,), 0, 1, seed=0).sum())
    0
    """
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.integer):
        raise ValueError(f"kiln.random.randint needs an integer dtype; received {dtype}.")
    return jax.random.randint(_key(seed), shape=_shape(shape), dtype=dtype, minval=minval,
                              maxval=maxval)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> jax.Array:
    """Normal samples re-drawn beyond two standard deviations.

    >>> bool((abs(truncated_normal((50,), seed=0)) <= 2).all())
    True
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    sample = jax.random.truncated_normal(_key(seed), -2.0, 2.0, shape=_shape(shape),
                                         dtype=dtype)
    return sample * stddev + mean


def categorical(logits: Any, num_samples: int, dtype: Any = "int32",
                seed: Any = None) -> jax.Array:
    """`num_samples` class indices per row of 2-D `logits`.

    >>> categorical([[0.0, 50.0]], 3, seed=0).tolist()
    [[1, 1, 1]]
    """
    logits = jnp.asarray(logits)
    if logits.ndim != 2:
        raise ValueError("kiln.random.categorical expects 2-D logits (batch_size, num_classes); "
                         f"received shape {tuple(logits.shape)}.")
    out = jax.random.categorical(_key(seed), logits[..., None],
                                 shape=(logits.shape[0], num_samples), axis=1)
    return out.astype(dtype)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> jax.Array:
    """Zeroes entries with probability `rate`, scales the rest by 1/(1-rate).

    >>> dropout(jnp.ones((3,)), 0.0).tolist()
    [1.0, 1.0, 1.0]
    """
    inputs = jnp.asarray(inputs)
    if isinstance(rate, (int, float)) and rate == 1.0:
        return jnp.zeros_like(inputs)
    if isinstance(rate, (int, float)) and rate == 0.0:
        return inputs
    keep = 1.0 - rate
    shape = inputs.shape if noise_shape is None else tuple(
        inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    mask = jnp.broadcast_to(jax.random.bernoulli(_key(seed), p=keep, shape=shape), inputs.shape)
    return jax.lax.select(mask, inputs / keep, jnp.zeros_like(inputs))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> jax.Array:
    """`x` permuted along `axis`.

    >>> sorted(shuffle(jnp.arange(4), seed=0).tolist())
    [0, 1, 2, 3]
    """
    return jax.random.permutation(_key(seed), jnp.asarray(x), axis, independent=True)


def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
    """Gamma(alpha) samples.

    >>> bool((gamma((4,), 2.0, seed=0) > 0).all())
    True
    """
    dtype = _float_dtype(dtype, "gamma")
    return jax.random.gamma(_key(seed), alpha, shape=_shape(shape), dtype=dtype)


def binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = None,
             seed: Any = None) -> jax.Array:
    """Binomial(counts, probabilities) samples (as floats by default).

    >>> binomial((2,), 5, 1.0, seed=0).tolist()
    [5.0, 5.0]
    """
    dtype = _float_dtype(dtype, "binomial")
    return jax.random.binomial(_key(seed), jnp.array(counts), jnp.array(probabilities),
                               shape=_shape(shape), dtype=dtype)


def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
    """Beta(alpha, beta) samples.

    >>> bool(((beta((4,), 2.0, 3.0, seed=0) > 0)).all())
    True
    """
    dtype = _float_dtype(dtype, "beta")
    return jax.random.beta(_key(seed), jnp.array(alpha), jnp.array(beta), shape=_shape(shape),
                           dtype=dtype)
