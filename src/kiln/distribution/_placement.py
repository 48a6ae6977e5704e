"""What kiln's training needs from the global distribution: where a train state's values and
a step's batch live. Without a distribution every function here is the identity.

Several processes (after `initialize`): a value that spans other processes' devices cannot be
moved with a plain `device_put` from one device, so `put` goes through the host (every
process holds the same value) and `copy` keeps each array's own sharding. Host batches are
fed per process (`feed`): each process hands JAX only the rows its own devices hold.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from ._distribution import distribution
from ._mesh import TensorLayout


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
    rep = replicated_sharding(dist)
    return jax.tree_util.tree_map(lambda a: put(a, rep), tree)


def is_multi_process() -> bool:
    """True under a distribution in a run of several processes (see `initialize`).

    Example:
        >>> is_multi_process()
        False
    """
    return distribution() is not None and jax.process_count() > 1


def put(a: Any, sharding: Any) -> Any:
    """`a` laid out as `sharding`. Across processes a one-device array goes through the host
    (each process holds the same value) and a global array is resharded by XLA.

    Example:
        >>> put(np.ones(2), jax.sharding.SingleDeviceSharding(jax.devices()[0])).shape
        (2,)
    """
    if isinstance(a, jax.Array) and not sharding.is_fully_addressable:
        if a.sharding == sharding:
            return a
        if a.is_fully_addressable:
            a = np.asarray(a)
        else:
            return jax.jit(lambda v: v, out_shardings=sharding)(a)
    return jax.device_put(a, sharding)


def _copy_one(a: Any) -> Any:
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        return jax.device_put(a, a.sharding, may_alias=False)
    return jax.device_put(a, may_alias=False)


def copy(tree: Any) -> Any:
    """A copy of every array of `tree` with buffers of its own, in the array's own layout
    (the objects keep these while the steps donate theirs).

    Example:
        >>> copy({"a": np.ones(2)})["a"].shape
        (2,)
    """
    if jax.process_count() == 1:  # one device_put for the whole tree
        return jax.device_put(tree, may_alias=False)
    return jax.tree_util.tree_map(_copy_one, tree)


def to_host(a: Any) -> np.ndarray:
    """The whole of `a` as a NumPy array in every process (gathered across processes when its
    shards live on other processes' devices).

    Example:
        >>> to_host(jax.numpy.ones(2)).tolist()
        [1.0, 1.0]
    """
    if isinstance(a, jax.Array) and not a.is_fully_addressable and not a.is_fully_replicated:
        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)


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
    return _lay_out(ts, variables, put)


def constrain_state(ts: Any, variables: dict) -> Any:
    """`place_state` inside a compiled step: the new state keeps the layout it came in with.

    Example:
        >>> constrain_state({"x": 1}, {})
        {'x': 1}
    """
    return _lay_out(ts, variables, jax.lax.with_sharding_constraint)


def _per_step(dist: Any) -> int:
    """How many batches of the user's `batch_size` one step holds: 1 when every process
    passes the same arrays (`auto_shard_dataset`, the default: `batch_size` is global), the
    process count when each passes its own part (`batch_size` is per process, as Keras)."""
    return 1 if dist.auto_shard_dataset else jax.process_count()


def check_batch_size(batch_size: int, num_samples: int | None = None) -> None:
    """Raises, before any step, when a batch cannot be split evenly over the data-parallel
    axis: `batch_size`, and under several processes also the last, partial batch of
    `num_samples` (each process must feed whole shards).

    Example:
        >>> check_batch_size(5)  # no distribution: any size
    """
    dist = distribution()
    if dist is None or not batch_size:
        return
    n, per = dist.num_model_replicas, _per_step(dist)
    if (batch_size * per) % n:
        raise ValueError(_indivisible(dist, batch_size, per, n))
    if is_multi_process() and num_samples:
        if per > 1:
            _check_same_length(num_samples)
        rest = num_samples % batch_size
        if (rest * per) % n:
            raise ValueError(
                f"The last batch holds {rest} of the {num_samples} samples (batch_size="
                f"{batch_size}), which cannot be split over the {n} devices of the "
                f"data-parallel axis {dist.batch_dim_name!r}; with several processes every "
                f"batch must split evenly. Drop the remainder (pass the first "
                f"{num_samples - rest} samples) or use a batch_size that divides "
                f"{num_samples}.")


def _indivisible(dist: Any, batch_size: int, per: int, n: int) -> str:
    lower, upper = (batch_size // n) * n, (batch_size // n + 1) * n
    if per > 1:  # each process passes its own part: the global batch is batch_size * per
        unit = n // math.gcd(n, per)
        return (f"batch_size={batch_size} per process x {per} processes = {batch_size * per} "
                f"samples per step cannot be split evenly over the {n} devices of the "
                f"data-parallel axis {dist.batch_dim_name!r} of {type(dist).__name__}. Use a "
                f"per-process batch size divisible by {unit}.")
    return (f"batch_size={batch_size} cannot be split evenly over the {n} devices of the "
            f"data-parallel axis {dist.batch_dim_name!r} of {type(dist).__name__}. Use a "
            f"batch size divisible by {n} (e.g. {upper}" + (f" or {lower})." if lower else ")."))


def _check_same_length(num_samples: int) -> None:
    counts = np.asarray(multihost_utils.process_allgather(np.int32(num_samples))).ravel()
    if len(set(counts.tolist())) > 1:
        raise ValueError(
            f"With auto_shard_dataset=False each process passes its own part of the data, "
            f"and every part must have the same number of samples (one step per batch in "
            f"every process); received {counts.tolist()} (by process). Split the data into "
            "equal parts, or pass the same arrays everywhere with auto_shard_dataset=True.")


def _stacked_sharding(dist: Any, shape: tuple) -> Any:
    """`[k, batch, ...]` host batches: the batch dimension split as the data layout says."""
    axes = (None,) + tuple(dist.get_data_layout(shape[1:]).axes)
    return TensorLayout(axes, dist.device_mesh).backend_layout


def feed(host: Any, idx: np.ndarray) -> Any:
    """Rows `idx` (`[k, batch]`) of the host arrays `host` as global `[k, batch, ...]`
    arrays, each process handing JAX only the rows its own devices hold. With
    `auto_shard_dataset` (every process has the same arrays) the rows are those of the global
    batch; without it each process's `idx` picks from its own part, and the global batch is
    the processes' batches side by side (`jax.make_array_from_process_local_data`).

    Example:
        >>> callable(feed)
        True
    """
    dist = distribution()

    def one(a: np.ndarray) -> jax.Array:
        if not dist.auto_shard_dataset:
            local = np.take(a, idx, axis=0)
            return jax.make_array_from_process_local_data(
                _stacked_sharding(dist, local.shape), local)
        shape = tuple(idx.shape) + tuple(a.shape[1:])
        rows = lambda index: np.take(a, idx[index[:2]], axis=0)[(slice(None),) * 2 + index[2:]]
        return jax.make_array_from_callback(shape, _stacked_sharding(dist, shape), rows)
    return jax.tree_util.tree_map(one, host)


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
