"""What kiln's training needs from the global distribution: where a train state's values and
a step's batch live. Without a distribution every function here is the identity."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from ._distribution import distribution


def replicated_sharding(dist: Any) -> jax.sharding.NamedSharding:
    """The sharding that keeps a full copy on every device of `dist`'s mesh."""
    mesh = dist.device_mesh.backend_mesh
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())


def replicate(tree: Any) -> Any:
    """`tree` copied to every device of the global distribution (unchanged without one).

    Example:
        >>> import numpy as np
        >>> replicate({"a": np.ones(2)})["a"].shape
        (2,)
    """
    dist = distribution()
    if dist is None:
        return tree
    return jax.device_put(tree, replicated_sharding(dist))


def _slot_sharding(path: tuple, leaf: Any, by_path: dict, default: Any) -> Any:
    for entry in path:
        key = getattr(entry, "key", None)
        if key in by_path and tuple(np.shape(leaf)) == by_path[key][1]:
            return by_path[key][0]
    return default


def _lay_out(ts: Any, variables: dict, move: Any) -> Any:
    dist = distribution()
    if dist is None:
        return ts
    rep = replicated_sharding(dist)
    by_path = {p: (dist.get_variable_layout(v).backend_layout, tuple(v.shape))
               for p, v in variables.items()}
    put = lambda d: {p: move(a, by_path[p][0]) for p, a in d.items()}
    every = lambda tree: jax.tree_util.tree_map(lambda a: move(a, rep), tree)
    opt = ts.opt_state
    if opt is not None:
        opt = jax.tree_util.tree_map_with_path(
            lambda path, leaf: move(leaf, _slot_sharding(path, leaf, by_path, rep)), opt)
    return ts._replace(params=put(ts.params), state=put(ts.state), opt_state=opt,
                       metric_state=every(ts.metric_state), key=move(ts.key, rep))


def place_state(ts: Any, variables: dict) -> Any:
    """A TrainState (params, state, opt_state, metric_state, key) laid out by the global
    distribution: each variable by `get_variable_layout`, each optimizer slot like the
    weight it belongs to, everything else replicated. `variables`: `{path: Variable}`.

    Example:
        >>> place_state({"x": 1}, {})
        {'x': 1}
    """
    return _lay_out(ts, variables, jax.device_put)


def constrain_state(ts: Any, variables: dict) -> Any:
    """`place_state` inside a compiled step: the new state keeps the layout it came in with.

    Example:
        >>> constrain_state({"x": 1}, {})
        {'x': 1}
    """
    return _lay_out(ts, variables, jax.lax.with_sharding_constraint)


def check_batch_size(batch_size: int) -> None:
    """Raises when `batch_size` cannot be split evenly over the data-parallel axis.

    Example:
        >>> check_batch_size(5)  # no distribution: any size
    """
    dist = distribution()
    if dist is None or not batch_size:
        return
    n = dist.num_model_replicas
    if batch_size % n:
        lower, upper = (batch_size // n) * n, (batch_size // n + 1) * n
        raise ValueError(
            f"batch_size={batch_size} cannot be split evenly over the {n} devices of the "
            f"data-parallel axis {dist.batch_dim_name!r} of {type(dist).__name__}. Use a "
            f"batch size divisible by {n} (e.g. {upper}" + (f" or {lower})." if lower else ").")
        )


def constrain_batch(tree: Any) -> Any:
    """Inside a step: each array of a batch split along its first (batch) dimension over the
    batch axis. A batch that does not split evenly (an epoch's last, partial one) is left
    to XLA.

    Example:
        >>> constrain_batch([1.0])
        [1.0]
    """
    dist = distribution()
    if dist is None:
        return tree
    n = dist.num_model_replicas

    def one(a: Any) -> Any:
        if np.ndim(a) == 0 or np.shape(a)[0] % n:
            return a
        sharding = dist.get_data_layout(np.shape(a)).backend_layout
        return jax.lax.with_sharding_constraint(a, sharding)
    return jax.tree_util.tree_map(one, tree)
