"""What the applications parity files share: building both libraries' models fast."""

from unittest import mock

import jax
import numpy as np


def numpy_sampling():
    """jax.random's truncated_normal / uniform / normal drawn with NumPy (seeded)."""
    rng = np.random.default_rng(0)

    def dtype_of(dtype):
        return np.dtype(dtype or "float32")

    def truncated_normal(key, lower, upper, shape=(), dtype=None, **kwargs):
        return np.clip(rng.standard_normal(shape), lower, upper).astype(dtype_of(dtype))

    def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0, **kwargs):
        return rng.uniform(minval, maxval, shape).astype(dtype_of(dtype))

    def normal(key, shape=(), dtype=None, **kwargs):
        return rng.standard_normal(shape).astype(dtype_of(dtype))
    return mock.patch.multiple(jax.random, truncated_normal=truncated_normal, uniform=uniform,
                               normal=normal)
