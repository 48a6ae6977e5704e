"""Type aliases for the training path (a ground module: imports nothing of kiln).

Example:
    >>> import jax.numpy as jnp
    >>> params: Params = {"dense/kernel": jnp.zeros((2, 1))}
    >>> batch: Batch = (jnp.zeros((4, 2)), jnp.zeros((4, 1)), None)
    >>> sorted(params), len(batch)
    (['dense/kernel'], 3)
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

import jax

__all__ = ["Array", "Batch", "Key", "Logs", "Params", "ParamsView", "PyTree", "State"]

#: A JAX array (or a tracer standing for one during `jax.jit`).
Array = jax.Array
#: Any nesting of lists, tuples and dicts with arrays at the leaves.
PyTree = Any
#: Trainable variable values keyed by variable path (`"dense/kernel"`).
Params = dict[str, jax.Array]
#: Non-trainable variable values (batch-norm statistics, seed counters) keyed by path.
State = dict[str, jax.Array]
#: A PRNG key (new-style typed key or raw `uint32[2]` key data).
Key = jax.Array
#: One batch as the training step sees it: `(x, y, sample_weight)`; y and weights may be None.
Batch = Tuple[PyTree, Optional[PyTree], Optional[PyTree]]
#: The numbers a step or an epoch reports: `{"loss": 0.3, "accuracy": 0.9}`.
Logs = dict[str, Any]
#: Read-only mapping form of `Params`, for functions that only look values up.
ParamsView = Mapping[str, jax.Array]
