"""Keras-style optimizer subclasses: `build(var_list)` + `update_step(gradient, variable,
learning_rate)`, run by kiln's pure core (mixed into `Optimizer`).

A subclass written for Keras creates its slots in `build` with `add_variable_from_reference`
(or `add_optimizer_variables`) and updates them in `update_step` with `self.assign`. kiln runs
that same code: the first `init` calls the subclass's `build` once on stand-in Variables, one
per parameter, and records which slots each gets (its name, initializer and order); those
become the optimizer's slot groups, in Keras's variable order. Each step then calls
`update_step` per parameter inside the one binding scope, with the parameter's and its slots'
Variables bound to the step's values, and reads back what it assigned. The rest of the
pipeline (clipping, weight decay, EMA, accumulation, the learning rate and its schedule) is
kiln's, as the base class's is Keras's.

Example:
    >>> import numpy as np, kiln
    >>> class PlainSGD(kiln.optimizers.Optimizer):
    ...     def build(self, var_list):
    ...         if self.built:
    ...             return
    ...         super().build(var_list)
    ...         self.velocity = [self.add_variable_from_reference(v, "velocity")
    ...                          for v in var_list]
    ...     def update_step(self, gradient, variable, learning_rate):
    ...         v = self.velocity[self._get_variable_index(variable)]
    ...         self.assign(v, 0.5 * v - learning_rate * gradient)
    ...         self.assign_add(variable, v)
    >>> opt = PlainSGD(learning_rate=0.1)
    >>> new, state = opt.apply({"w": np.ones(2)}, {"w": np.zeros(2)}, opt.init({"w": np.zeros(2)}))
    >>> [round(float(v), 3) for v in new["w"]]
    [-0.1, -0.1]
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from .. import _serialization
from .._scope import bind
from .._utils import kiln_default, overrides
from .._variables import Variable


class KerasStyle:
    """The Keras subclassing surface of an optimizer and the hooks that run it."""

    _collecting = False  # True while the subclass's `build` runs on the stand-ins
    _stand_ins: list[Variable] | None = None
    _slots_of: list[dict[str, Variable]] | None = None  # per parameter: slot name -> Variable
    _slot_inits: dict[str, Any] = {}
    _groups: tuple = ()
    _step_now: Any = None  # the traced iteration count while update_step runs

    def keras_style(self) -> bool:
        """Whether the class defines Keras's `update_step` (rather than kiln's rule hooks)."""
        return overrides(self, "update_step")

    @kiln_default
    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        """Keras's per-variable rule (a subclass defines it, with slots made in `build`)."""
        raise NotImplementedError(f"{type(self).__name__} must define update_step(gradient, "
                                  "variable, learning_rate).")

    # -- what `build` calls -------------------------------------------------------------------
    def add_variable_from_reference(self, reference_variable: Variable, name: str | None = None,
                                    initializer: Any = "zeros") -> Variable:
        """A slot shaped like `reference_variable` (one per parameter, made in `build`)."""
        if not self._collecting:
            raise ValueError("add_variable_from_reference() is for `build(var_list)`: kiln "
                             "calls build itself when the optimizer first sees the "
                             "parameters. Fix: create slots inside build().")
        index = self._index_of(reference_variable)
        name = name or f"slot_{len(self._slots_of[index])}"
        self._slot_inits[name] = initializer
        slot = Variable(np.zeros(reference_variable.shape, reference_variable.dtype),
                        name=f"{reference_variable.path.replace('/', '_')}_{name}",
                        trainable=False)
        self._slots_of[index][name] = slot
        self._order_seen.append((index, name))
        return slot

    def add_optimizer_variables(self, trainable_variables: Any, name: Any,
                                initializer: Any = "zeros") -> Any:
        """One slot per variable for `name` (a list of slots), or for each of several names
        (a tuple of lists), as Keras's."""
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        out: tuple = tuple([] for _ in names)
        for v in trainable_variables:  # interleaved per variable, in Keras's order
            for slots, n, init in zip(out, names, inits):
                slots.append(self.add_variable_from_reference(v, n, init))
        return out[0] if isinstance(name, str) else out

    def add_variable(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("kiln runs Keras-style optimizers whose state is per "
                                  "parameter (add_variable_from_reference / "
                                  "add_optimizer_variables); a free-standing add_variable is "
                                  "not supported yet. Fix: keep such state per parameter.")

    def _get_variable_index(self, variable: Variable) -> int:
        return self._index_of(variable)

    def _index_of(self, variable: Any) -> int:
        for i, v in enumerate(self._stand_ins or []):
            if v is variable:
                return i
        raise ValueError(f"{getattr(variable, 'path', variable)!r} is not one of the variables "
                         "this optimizer was built on.")

    # -- what `update_step` calls -------------------------------------------------------------
    def assign(self, variable: Variable, value: Any) -> None:
        variable.assign(value)

    def assign_add(self, variable: Variable, value: Any) -> None:
        variable.assign_add(value)

    def assign_sub(self, variable: Variable, value: Any) -> None:
        variable.assign_sub(value)

    # -- the hooks of kiln's core -------------------------------------------------------------
    def _discover_once(self, leaves: list, names: list[str]) -> None:
        """`_discover` unless it already ran on parameters of these names, shapes and dtypes."""
        key = tuple((n, tuple(np.shape(w)), str(jnp.result_type(w))) for w, n in zip(leaves, names))
        if getattr(self, "_discovered_on", None) != key:
            self._discover(leaves, names)
            self._discovered_on = key

    def _discover(self, leaves: list, names: list[str]) -> None:
        """Runs the subclass's `build` once on stand-ins for `leaves` (see the module doc)."""
        self._stand_ins = [Variable(np.zeros(np.shape(w), jnp.result_type(w)), name=n.replace("/", "_"),
                                    path=n, trainable=True) for w, n in zip(leaves, names)]
        self._slots_of = [{} for _ in leaves]
        self._slot_inits, self._order_seen = {}, []
        self._collecting = True
        try:
            self.build(list(self._stand_ins))
        finally:
            self._collecting = False
        self._groups = _groups(self._order_seen, self._slots_of, type(self).__name__)

    def _keras_init_slot(self, name: str, w: jax.Array) -> jax.Array:
        init = _serialization.build(self._slot_inits.get(name, "zeros"), "initializers", None,
                                    label="initializer") if isinstance(
            self._slot_inits.get(name, "zeros"), str) else self._slot_inits[name]
        return jnp.asarray(init(tuple(w.shape), dtype=w.dtype), w.dtype)

    def _keras_update(self, i: int, g: Any, w: Any, slots: dict, lr: Any, step: Any) -> tuple:
        variable, own = self._stand_ins[i], self._slots_of[i]
        values = {variable: w, **{own[n]: slots[n] for n in own}}
        with bind(values) as scope, self._at_step(step):
            self.update_step(g, variable, lr)
        new_w = scope.writes.get(id(variable), w)
        return new_w, {n: scope.writes.get(id(v), slots[n]) for n, v in own.items()}

    @contextlib.contextmanager
    def _at_step(self, step: Any) -> Iterator[None]:
        self._step_now = step
        try:
            yield
        finally:
            self._step_now = None


def _groups(order: list[tuple[int, str]], slots_of: list[dict], cls: str) -> tuple:
    """Slot groups in Keras's order: all of one name then the next (("m",), ("v",)), or the
    names of one parameter together (("m", "v"),), as `build` created them."""
    names = list(dict.fromkeys(n for _, n in order))
    if any(list(s) != names and sorted(s) != sorted(names) for s in slots_of):
        raise NotImplementedError(f"{cls}.build gives the parameters different slots; kiln "
                                  "runs Keras-style optimizers whose every parameter has the "
                                  f"same slots (here {names}).")
    per_param = [n for i, n in order if i == order[0][0]] if order else []
    leaf_major = [n for _, n in order[:len(names)]] == names and len(
        {i for i, _ in order[:len(names)]}) == 1 and len(names) > 1
    return (tuple(per_param),) if leaf_major else tuple((n,) for n in names)
