"""Keras's core ops (`keras.src.ops.core`): control flow, gradients, tensors, scatter/slice.

These are the ops custom training steps use; each maps onto `jax.lax` with Keras's argument
order, so they trace under `jax.jit`.

>>> from kiln.ops import core
>>> int(core.while_loop(lambda i: i < 3, lambda i: i + 1, 0))
3
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from ._numpy_custom import cast, convert_to_tensor, dtype, shape
from ._signal import rearrange
from ._wrap import export
from .._variables import unwrap

_SAME_SIGNATURE: dict[str, Callable] = {
    "stop_gradient": jax.lax.stop_gradient, "cond": jax.lax.cond,
    "fori_loop": jax.lax.fori_loop, "scan": jax.lax.scan, "map": jax.lax.map,
    "switch": jax.lax.switch, "associative_scan": jax.lax.associative_scan,
}


def while_loop(cond: Callable, body: Callable, loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """Run `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`, at most `maximum_iterations`.

    A tuple or list of loop variables is unpacked into `cond` and `body`; a single value is
    passed as is, and the result has the structure of `loop_vars`.

    >>> [int(v) for v in while_loop(lambda a, b: a < 5, lambda a, b: (a + 1, b * 2), (0, 1))]
    [5, 32]
    """
    packed = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if packed else (loop_vars,)
    limit = maximum_iterations

    def keep_going(carry: tuple) -> Any:
        *values, count = carry
        go = cond(*values)
        return go if limit is None else jnp.logical_and(go, count < limit)

    def step(carry: tuple) -> tuple:
        *values, count = carry
        new = body(*values)
        new = tuple(new) if packed else (new,)
        return (*new, count + 1)

    *result, _ = jax.lax.while_loop(keep_going, step, (*state, 0))
    if not packed:
        return result[0]
    return type(loop_vars)(result)


def vectorized_map(function: Callable, elements: Any) -> Any:
    """`function` mapped over the leading axis of `elements` (vectorized with `jax.vmap`).

    >>> vectorized_map(lambda r: r.sum(), jnp.ones((3, 2))).tolist()
    [2.0, 2.0, 2.0]
    """
    return jax.vmap(function)(elements)


def custom_gradient(f: Callable) -> Callable:
    """Decorate `f(*args) -> (output, grad_fn)` so that gradients come from `grad_fn(upstream)`.

    >>> @custom_gradient
    ... def double_grad(x):
    ...     return x, lambda upstream: 2.0 * upstream
    >>> jax.grad(double_grad)(1.0).item()
    2.0
    """
    wrapped = jax.custom_gradient(fun=f)

    def call(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = unwrap((args, kwargs))
        return wrapped(*args, **kwargs)

    call.__name__ = getattr(f, "__name__", "custom_gradient")
    call.__doc__ = f.__doc__
    return call


def is_tensor(x: Any) -> bool:
    """Whether `x` is a JAX array (kiln's tensor type).

    >>> is_tensor(jnp.ones(1)), is_tensor([1.0])
    (True, False)
    """
    return isinstance(x, jax.Array)


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array (copies from the device; bfloat16 stays bfloat16).

    >>> convert_to_numpy(jnp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return np.array(x)


def slice(inputs: Any, start_indices: Any, shape: Any) -> jax.Array:
    """The block of `inputs` at `start_indices` of size `shape` (-1: to the end of the axis).

    >>> slice(jnp.arange(5), (1,), (-1,)).tolist()
    [1, 2, 3, 4]
    """
    inputs = jnp.asarray(inputs)
    sizes = tuple(inputs.shape[i] - start_indices[i] if s == -1 else s
                  for i, s in enumerate(shape))
    return jax.lax.dynamic_slice(inputs, start_indices, sizes)


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> jax.Array:
    """`inputs` with the block at `start_indices` replaced by `updates`.

    >>> slice_update(jnp.zeros(3), (1,), jnp.ones(2)).tolist()
    [0.0, 1.0, 1.0]
    """
    return jax.lax.dynamic_update_slice(jnp.asarray(inputs), jnp.asarray(updates),
                                        start_indices)


def scatter(indices: Any, values: Any, shape: Any) -> jax.Array:
    """A zero array of `shape` with `values` added at `indices` (last axis: coordinates).

    >>> scatter([[0], [2]], jnp.array([1.0, 2.0]), (3,)).tolist()
    [1.0, 0.0, 2.0]
    """
    indices, values = jnp.asarray(indices), jnp.asarray(values)
    return jnp.zeros(shape, values.dtype).at[tuple(jnp.moveaxis(indices, -1, 0))].add(values)


_REDUCERS = ("add", "max", "min", "mul")


def scatter_update(inputs: Any, indices: Any, updates: Any,
                   reduction: str | None = None) -> jax.Array:
    """`inputs` with `updates` written at `indices` (`(n, rank)`), or combined by `reduction`.

    >>> scatter_update(jnp.zeros(3), [[1]], jnp.array([5.0])).tolist()
    [0.0, 5.0, 0.0]
    """
    inputs = jnp.asarray(inputs)
    at = inputs.at[tuple(jnp.transpose(jnp.asarray(indices)))]
    if reduction is None:
        return at.set(updates)
    if reduction not in _REDUCERS:
        raise ValueError(f"scatter_update: expected reduction None or one of {_REDUCERS}; "
                         f"received reduction={reduction!r}.")
    return {"add": at.add, "max": at.max, "min": at.min, "mul": at.multiply}[reduction](updates)


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[jax.Array]:
    """The slices of `x` along `axis`, as a list.

    >>> len(unstack(jnp.ones((3, 2))))
    3
    """
    x = jnp.asarray(x)
    return [jax.lax.index_in_dim(x, i, axis, keepdims=False) for i in range(x.shape[axis])]


def _limits(name: str) -> tuple[Any, Any]:
    if name == "bool":
        return 0, 1
    info = ml_dtypes.iinfo(name) if "int" in name else ml_dtypes.finfo(name)
    return info.min, info.max


def saturate_cast(x: Any, dtype: Any) -> jax.Array:
    """`x` cast to `dtype`, clipped first to the range `dtype` can hold (no wrap-around).

    >>> saturate_cast(jnp.array([300.0, -5.0]), "uint8").tolist()
    [255, 0]
    """
    x = jnp.asarray(x)
    out, src = jnp.dtype(dtype).name, x.dtype.name
    (in_min, in_max), (out_min, out_max) = _limits(src), _limits(out)
    low = np.asarray(np.maximum(in_min, out_min)).astype(src)
    if low < out_min:
        low = np.nextafter(low, 0, dtype=src)
    high = np.asarray(np.minimum(in_max, out_max)).astype(src)
    if high > out_max:
        high = np.nextafter(high, 0, dtype=src)
    return jnp.clip(x, low, high).astype(out)


_CUSTOM = (while_loop, vectorized_map, custom_gradient, is_tensor, convert_to_numpy,
           convert_to_tensor, cast, shape, dtype, slice, slice_update, scatter, scatter_update,
           unstack, saturate_cast, rearrange)

__all__ = export(globals(), _SAME_SIGNATURE, _CUSTOM, "kiln.ops.core")
