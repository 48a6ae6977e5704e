"""The one scope of a call: bound variable values, writes, training flag, keys and losses.

A traced step opens `bind(values, training=..., key=...)`; everything the model does during
the call reads or writes that scope: `Variable.value` returns the bound value (a tracer under
`jax.jit`), `Variable.assign` records a write instead of mutating, a sub-layer called without
`training=` inherits the flag, Dropout draws `fold_in(key, 1)`, `fold_in(key, 2)`, ..., and
`add_loss` appends to `scope.losses`. After the call the caller reads the scope it got back:
`scope.writes`, `scope.losses`, `scope.output_losses`, `scope.keys_drawn`. Nothing is left on
layer objects or in thread-locals once the block exits.

A scope opened with `pure=False` (the outermost eager layer call) carries the flag, keys and
losses but lets `assign` mutate variables, as an eager Keras call does.

The name stack that makes variable paths ("model/dense/kernel") is kept per thread beside the
scopes, because layers are built outside calls too.

Example:
    >>> import jax, jax.numpy as jnp
    >>> with bind({}, training=True, key=jax.random.key(0)) as scope:
    ...     current().training, current().add_loss(None, jnp.ones(()))
    (True, None)
    >>> scope.keys_drawn, len(scope.losses)
    (0, 1)
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Mapping

import jax

from . import _random

__all__ = ["Scope", "bind", "binding_scopes", "current", "name_scope", "next_rng_key",
           "scoped_path"]


class Scope:
    """What one (possibly nested) call reads and writes; see the module docstring.

    Attributes:
        values: `{id(variable): value}` bound for the call (empty for an eager call).
        writes: `{id(variable): value}` assigned during the call.
        variables: `{id(variable): variable}` for every bound or written variable.
        training: the training flag sub-layers inherit (None: not given).
        losses: values passed to `add_loss` during the call; `sources` their layers.
        output_losses: the per-output compiled losses, set by the default `compute_loss`.
    """

    __slots__ = ("values", "writes", "variables", "pure", "training", "key", "counter",
                 "_rng", "losses", "sources", "output_losses", "masks")

    def __init__(self, values: Mapping[Any, Any], pure: bool, training: bool | None,
                 key: jax.Array | None, parent: "Scope | None"):
        self.values = {id(v): val for v, val in values.items()}
        self.variables = {id(v): v for v in values}
        self.writes: dict[int, Any] = {}
        self.pure = pure
        if training is None and parent is not None:
            training = parent.training
        self.training = training
        self.key = key
        self.counter = 0
        # Without a key of its own, a nested scope draws from its parent's stream, so keys
        # never repeat within one outer call.
        self._rng = self if key is not None or parent is None else parent._rng
        self.losses: list[Any] = []
        self.sources: list[Any] = []
        self.output_losses: list[Any] | None = None
        # `{id(tensor): (tensor, mask)}` for one outer call (kiln.layers._masks).
        self.masks: dict[int, Any] = parent.masks if parent is not None else {}

    def next_key(self) -> jax.Array:
        """A fresh key: `fold_in(key, n)` for the n-th draw, or the global stream if no key."""
        owner = self._rng
        owner.counter += 1
        if owner.key is None:
            return _random.make_key()
        return jax.random.fold_in(owner.key, owner.counter)

    @property
    def keys_drawn(self) -> int:
        """How many keys were drawn from this scope's key stream."""
        return self._rng.counter

    def add_loss(self, source: Any, value: Any) -> None:
        """Records an `add_loss` value of layer `source`."""
        self.losses.append(value)
        self.sources.append(source)

    def losses_of(self, layer_ids: set[int]) -> list[Any]:
        """The `add_loss` values whose layer is among `layer_ids`."""
        return [v for s, v in zip(self.sources, self.losses) if s is None or id(s) in layer_ids]

    def collect_writes(self) -> dict[Any, Any]:
        """The writes as `{variable: new_value}`."""
        return {self.variables[k]: v for k, v in self.writes.items()}


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[Scope] = []     # every open scope, innermost last
        self.binding: list[Scope] = []   # the pure ones, which bind and capture variables
        self.names: list[str] = []       # the name scope of variable paths


_state = _State()


def current() -> Scope | None:
    """The innermost open scope, or None outside any call."""
    stack = _state.stack
    return stack[-1] if stack else None


def binding_scopes() -> list[Scope]:
    """The open pure scopes, innermost last (what `Variable.value`/`assign` consult)."""
    return _state.binding


@contextlib.contextmanager
def bind(values: Mapping[Any, Any] | None = None, *, training: bool | None = None,
         key: jax.Array | None = None, pure: bool = True) -> Iterator[Scope]:
    """Opens a scope for the block and returns it.

    Args:
        values: `{variable: value}` to bind; reads of those variables return the value.
        training: the flag sub-layers called without `training=` get (default: inherited).
        key: the PRNG key random layers fold their draws from (default: the enclosing
            scope's stream, or kiln's global stream).
        pure: capture `assign` calls as `scope.writes` (True), or let them mutate (False).

    Example:
        >>> import jax.numpy as jnp
        >>> from kiln._variables import Variable
        >>> v = Variable(jnp.zeros(()), name="v")
        >>> with bind({v: jnp.ones(())}) as scope:
        ...     _ = v.assign(v.value + 1)  # captured, not applied
        >>> float(scope.writes[id(v)]), float(v.value)
        (2.0, 0.0)
    """
    st = _state
    scope = Scope(values or {}, pure, training, key, st.stack[-1] if st.stack else None)
    st.stack.append(scope)
    if pure:
        st.binding.append(scope)
    try:
        yield scope
    finally:
        st.stack.pop()
        if pure:
            st.binding.pop()


def next_rng_key(seed: int | None = None) -> jax.Array:
    """A fresh PRNG key for a random layer (Dropout, noise).

    Inside a traced step the key derives from the step's key, so the step stays pure and
    reproducible; a layer `seed` is folded in so two seeded layers draw different masks.

    Example:
        >>> import jax
        >>> with bind({}, key=jax.random.key(1)):
        ...     a, b = next_rng_key(), next_rng_key()
        >>> bool((jax.random.key_data(a) != jax.random.key_data(b)).any())
        True
    """
    scope = current()
    key = scope.next_key() if scope is not None else _random.make_key()
    return key if seed is None else jax.random.fold_in(key, int(seed))


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Prefixes the paths of variables created inside the block with `name/`.

    Example:
        >>> with name_scope("model"), name_scope("dense"):
        ...     scoped_path("kernel")
        'model/dense/kernel'
    """
    names = _state.names
    names.append(name)
    try:
        yield
    finally:
        names.pop()


def scoped_path(name: str) -> str:
    """`name` under the current name scope."""
    return "/".join(_state.names + [name])
