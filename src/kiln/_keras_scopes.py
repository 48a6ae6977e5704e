"""Keras's public scopes: `StatelessScope` (over kiln's one binding scope) and `device`.

Example:
    >>> import numpy as np
    >>> from kiln._variables import Variable
    >>> v = Variable(np.zeros(2), name="v")
    >>> with StatelessScope(state_mapping=[(v, np.ones(2))]) as scope:
    ...     _ = v.assign(v.value * 3)
    >>> scope.get_current_value(v).tolist(), v.numpy().tolist()
    ([3.0, 3.0], [0.0, 0.0])
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import jax
import jax.numpy as jnp

from ._scope import bind
from ._variables import Variable

__all__ = ["StatelessScope", "device"]


class StatelessScope:
    """Reads of the mapped variables return the given values and `assign` is recorded, not
    applied, as in Keras; `get_current_value` reads what the block left.

    Args:
        state_mapping: `(variable, value)` pairs (each value of the variable's shape).
        collect_losses: keep the `add_loss` values of the block in `losses`.
        initialize_variables: accepted for Keras's signature (kiln variables are always
            initialized when created).
    """

    def __init__(self, state_mapping: Any = None, collect_losses: bool = False,
                 initialize_variables: bool = True):
        self.state_mapping: dict[Variable, Any] = {}
        for variable, value in state_mapping or []:
            if not isinstance(variable, Variable):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in "
                                 "`state_mapping` must be kiln Variables. Received: "
                                 f"{type(variable).__name__}.")
            value = jnp.asarray(value, dtype=variable.dtype)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"Invalid variable value in StatelessScope: the value for "
                                 f"{variable.path!r} has shape {tuple(value.shape)}, the "
                                 f"variable {tuple(variable.shape)}.")
            self.state_mapping[variable] = value
        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses: list[Any] = []
        self._stack = contextlib.ExitStack()
        self._scope: Any = None

    def __enter__(self) -> "StatelessScope":
        self._scope = self._stack.enter_context(bind(self.state_mapping))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.collect_losses:
            self.losses = list(self._scope.losses)
        self._stack.close()

    def add_loss(self, loss: Any) -> None:
        """Records a loss value (as `Layer.add_loss` does inside the block)."""
        self._scope.add_loss(None, loss)

    def add_update(self, update: tuple[Variable, Any]) -> None:
        """Records `variable <- value` (inside the block: the variable itself is unchanged)."""
        variable, value = update
        variable.assign(value)

    def get_current_value(self, variable: Variable) -> Any:
        """The variable's value as the block left it (None if the block never saw it)."""
        scope = self._scope
        if scope is None:
            return None
        key = id(variable)
        if key in scope.writes:
            return scope.writes[key]
        return scope.values.get(key)


@contextlib.contextmanager
def device(device_name: str) -> Iterator[None]:
    """Places the arrays created in the block on `device_name` ("cpu", "gpu:1", "tpu:0").

    Example:
        >>> with device("cpu:0"):
        ...     x = jnp.ones(2)
        >>> x.devices().pop().platform
        'cpu'
    """
    kind, _, index = str(device_name).lower().partition(":")
    try:
        chosen = jax.devices(kind)[int(index or 0)]
    except (RuntimeError, IndexError, ValueError) as err:
        raise ValueError(f"Unknown device {device_name!r}. Expected 'cpu', 'gpu' or 'tpu' with "
                         f"an optional ':index'; this process has {jax.devices()}.") from err
    with jax.default_device(chosen):
        yield
