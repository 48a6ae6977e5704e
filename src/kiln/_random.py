"""The global seed behind unseeded layers and initializers (`kiln.utils.set_random_seed`)."""

from __future__ import annotations

import random

import jax
import numpy as np

_state = {"seed": None, "counter": 0}


def set_random_seed(seed: int) -> None:
    """Seeds Python's `random`, NumPy's global generator and kiln's own key stream.

    After this call, models built in the same order get the same initial weights and the
    same dropout masks, run after run.

    Args:
        seed: a non-negative integer.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"set_random_seed expects a non-negative int; received {seed!r}.")
    random.seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    _state["seed"] = int(seed)
    _state["counter"] = 0


def _base_seed() -> int:
    if _state["seed"] is None:
        # Unseeded like Keras: a fresh draw per process.
        _state["seed"] = int(np.random.SeedSequence().entropy % (2**31))
    return _state["seed"]


def next_seed() -> int:
    """A new 31-bit integer seed from the global stream (deterministic after set_random_seed)."""
    base = _base_seed()
    _state["counter"] += 1
    return int(np.random.SeedSequence([base, _state["counter"]]).generate_state(1)[0] % (2**31))


def make_key(seed: int | None = None) -> jax.Array:
    """A PRNG key from `seed`, or from the global stream when `seed` is None."""
    return jax.random.key(next_seed() if seed is None else int(seed))
