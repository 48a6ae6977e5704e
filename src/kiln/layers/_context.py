"""Per-call context: the `training` flag, random keys and the name scope.

The outermost layer call opens a context; nested calls read it. This is how a sub-layer
called without `training=` inherits its parent's flag (as in Keras), how Dropout gets a
fresh key inside a traced step without global RNG state, and how variable paths become
"parent/child/kernel".
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import jax

from .. import _random
from .._utils import to_snake_case

_local = threading.local()


class CallContext:
    """State shared by the nested layer calls of one outer call."""

    def __init__(self, training: bool | None, key: jax.Array | None):
        self.training = training
        self.key = key
        self.counter = 0

    def next_key(self) -> jax.Array:
        """A new key: folded from the step's key inside a pure call, else from the global stream."""
        self.counter += 1
        if self.key is None:
            return _random.make_key()
        return jax.random.fold_in(self.key, self.counter)


def current() -> CallContext | None:
    return getattr(_local, "ctx", None)


@contextlib.contextmanager
def call_context(training: bool | None = None, key: jax.Array | None = None) -> Iterator[CallContext]:
    """Opens a context unless one is active; an explicit `key` always opens a new one."""
    outer = current()
    if outer is not None and key is None:
        yield outer
        return
    ctx = CallContext(training, key)
    _local.ctx = ctx
    try:
        yield ctx
    finally:
        _local.ctx = outer


def next_rng_key(seed: int | None = None) -> jax.Array:
    """A fresh PRNG key for a random layer (Dropout, noise).

    Inside a pure call the key derives from the step's key, so a jitted step stays pure and
    reproducible; a layer `seed` is folded in so two seeded layers draw different masks.
    """
    ctx = current()
    key = ctx.next_key() if ctx is not None else _random.make_key()
    return key if seed is None else jax.random.fold_in(key, int(seed))


# -- name scope and unique names ---------------------------------------------------------------

def _name_stack() -> list[str]:
    if not hasattr(_local, "names"):
        _local.names = []
    return _local.names


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Prefixes the paths of variables created inside the block with `name/`."""
    _name_stack().append(name)
    try:
        yield
    finally:
        _name_stack().pop()


def scoped_path(name: str) -> str:
    return "/".join(_name_stack() + [name])


_uids: dict[str, int] = {}


def unique_name(base: str) -> str:
    """Keras's automatic names: `dense`, `dense_1`, `dense_2`, ... per session."""
    base = to_snake_case(base)
    n = _uids.get(base, 0)
    _uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Resets automatic layer names (the next Dense is `dense` again), as Keras's does."""
    _uids.clear()

