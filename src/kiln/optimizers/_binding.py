"""Small parts of an optimizer: where its learning rate comes from, which variables weight
decay skips, and which Keras-style Variables it updates in place (for `apply_gradients`)."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Sequence

import jax.numpy as jnp
import numpy as np

from .. import _config
from . import schedules
from ._args import check_learning_rate, takes_step
from .schedules import LearningRateSchedule


def is_schedule(value: Any) -> bool:
    return isinstance(value, LearningRateSchedule) or callable(value)


class LearningRate:
    """A float learning rate (kept in the optimizer state, settable) or a schedule/callable
    evaluated at the iteration count inside the jitted step.

    Args:
        value: a Python float (Keras rejects ints), a `LearningRateSchedule`, or a callable
            taking the iteration count or nothing (Keras calls plain callables with none).
    """

    def __init__(self, value: Any):
        self.schedule: Callable | None = None
        self.value: float | None = None
        if is_schedule(value):
            self.schedule = value
            self._takes_step = isinstance(value, LearningRateSchedule) or takes_step(value)
        else:
            check_learning_rate(value)
            self.value = float(np.float32(value))  # the float32 variable's value, as Keras

    def at(self, iterations: Any) -> Any:
        """The schedule's rate at `iterations` (the raw count, as Keras passes it)."""
        return self.schedule(iterations) if self._takes_step else self.schedule()

    def for_update(self, iterations: Any, stored: Any) -> Any:
        """The rate an update uses: the schedule's, else the one stored in the state."""
        if self.schedule is None:
            return stored
        return jnp.asarray(self.at(iterations), _config.floatx())

    def config(self) -> Any:
        """The `learning_rate` entry of Keras's optimizer config."""
        if isinstance(self.schedule, LearningRateSchedule):
            return schedules.serialize(self.schedule)
        return self.schedule if self.schedule is not None else self.value


class VariableBinding:
    """The Variables an optimizer updates in place and their keys in its state (their
    paths; a repeated path gets a `_<index>` suffix)."""

    def __init__(self, variables: Sequence[Any], keys: Sequence[str] | None = None):
        self.variables = list(variables)
        if keys is None:
            keys = []
            for i, v in enumerate(self.variables):
                key = getattr(v, "path", None) or getattr(v, "name", None) or f"variable_{i}"
                keys.append(key if key not in keys else f"{key}_{i}")
        self.keys = list(keys)
        self._ids = {id(v): k for k, v in zip(self.keys, self.variables)}

    @classmethod
    def adopt(cls, keys: Sequence[str] | None, variables: Sequence[Any]) -> "VariableBinding":
        """Binds the Variables whose paths are the `keys` an optimizer was built on."""
        by_path = {getattr(v, "path", None): v for v in variables}
        if keys is None or set(keys) - set(by_path):
            raise ValueError(
                f"This optimizer was built on {keys}; `apply_gradients` received variables "
                f"{sorted(map(str, by_path))}. Pass every variable it was built on (matched by "
                "path), or create a new optimizer for these variables.")
        return cls([by_path[k] for k in keys], keys)

    def params(self) -> dict:
        return {k: v.value for k, v in zip(self.keys, self.variables)}

    def keys_of(self, variables: Sequence[Any]) -> list[str]:
        unknown = [v for v in variables if id(v) not in self._ids]
        if unknown:
            raise ValueError(f"Unknown variable: {unknown[0]}. This optimizer can only be called "
                             "for the variables it was originally built with. When working with "
                             "a new set of variables, you should recreate a new optimizer.")
        return [self._ids[id(v)] for v in variables]

    def write(self, new_params: dict) -> None:
        """Assigns the new values, applying each Variable's `constraint` (Keras applies
        constraints after the update and the EMA)."""
        for key, var in zip(self.keys, self.variables):
            value = new_params[key]
            if getattr(var, "constraint", None) is not None:
                value = var.constraint(value)
            var.assign(value)


class DecayExclusions:
    """The variables weight decay skips (Keras's `exclude_from_weight_decay`): those in
    `var_list` (Variables or paths) and those whose name matches (regex search) any of
    `var_names`. Like Keras, names are matched against the variable's short name (the last
    part of its path, e.g. "bias")."""

    def __init__(self, var_list: Iterable[Any] | None = None,
                 var_names: Sequence[str] | None = None):
        self.paths = {getattr(v, "path", v) for v in (var_list or [])}
        self.pattern = re.compile("|".join(set(var_names))) if var_names else None

    def decays(self, path: str) -> bool:
        if path in self.paths:
            return False
        short = path.rsplit("/", 1)[-1]
        return not (self.pattern is not None and self.pattern.search(short))
