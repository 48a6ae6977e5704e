"""The `Metric` base class: Keras's stateful shell, and the pure trio derived from it.

A metric keeps its state in `Variable`s created by `add_variable` and changes it in
`update_state`, exactly as in Keras. The trainer needs the same logic as pure functions over a
small dict of arrays, so `stateless_init/update/result` run the ordinary methods inside
`kiln._variables.bind`, which makes variable reads return the given state and records the
assignments instead of applying them. A user subclass written the Keras way therefore runs
inside a jitted step without changes.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from .. import _config, _variables
from .._naming import unique_name
from .._variables import Variable

State = dict[str, jax.Array]


def _initial_value(initializer: Any, shape: tuple[int, ...], dtype: str) -> jax.Array:
    """Evaluates an initializer: "zeros"/"ones", a callable `(shape, dtype=)`, or a constant."""
    if initializer is None:
        initializer = "zeros"
    if isinstance(initializer, str):
        fills = {"zeros": 0, "ones": 1}
        if initializer.lower() not in fills:
            raise ValueError(
                f"Unknown metric variable initializer {initializer!r}. Expected 'zeros', "
                "'ones', a constant, or a callable `initializer(shape, dtype=None)`."
            )
        return jnp.full(shape, fills[initializer.lower()], dtype)
    if callable(initializer):
        return jnp.asarray(initializer(shape, dtype=dtype), dtype)
    return jnp.broadcast_to(jnp.asarray(initializer, dtype), shape)


def _compute_dtype(dtype: Any) -> str:
    """The dtype name; a Keras mixed-precision policy name gives its compute dtype."""
    if dtype is None:
        return jnp.dtype(_config.floatx()).name
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = dtype[len("mixed_"):]
    return jnp.dtype(dtype).name


def _normalize_shape(shape: Any) -> tuple[int, ...]:
    if shape is None:
        return ()
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) for d in shape)


class Metric:
    """Base class of every metric: state variables plus `update_state` and `result`.

    Subclasses create their state in `__init__` with `add_variable`, change it in
    `update_state` with `variable.assign(...)`/`assign_add(...)` and compute the value in
    `result()`, as in Keras. `reset_state()` re-initializes every variable from its
    initializer (zeros unless another initializer was given).

    Args:
        dtype: dtype of the metric's computations and state; defaults to `floatx()`.
        name: the metric's name; defaults to the snake_case class name.

    Example:
        >>> class Positives(Metric):
        ...     def __init__(self, name="positives", dtype=None):
        ...         super().__init__(name=name, dtype=dtype)
        ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.count.assign_add(jnp.sum(jnp.asarray(y_pred) > 0.5))
        ...     def result(self):
        ...         return self.count.value
        >>> m = Positives()
        >>> float(m([0, 1], [0.9, 0.7]))
        2.0
    """

    # "up" when bigger is better, "down" when smaller is; read by EarlyStopping(mode="auto").
    _direction: str | None = None

    def __init__(self, dtype: Any = None, name: str | None = None):
        # Keras's order is (dtype, name); everyone passes them by keyword.
        # Keras's automatic names: `auc`, `auc_1`, ... per session (clear_session resets).
        self.name = name or unique_name(type(self).__name__)
        self._dtype = _compute_dtype(dtype)
        self._variables: list[Variable] = []
        self._initializers: dict[int, tuple[Any, tuple[int, ...], str]] = {}

    # -- Keras's stateful API -------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The dtype of the metric's computations, as a string ("float32")."""
        return self._dtype

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """Creates a non-trainable state variable and registers it with this metric.

        Args:
            shape: the variable's shape.
            initializer: "zeros", "ones", a constant, or a callable `(shape, dtype=None)`;
                also the value `reset_state()` restores.
            dtype: the variable's dtype; defaults to the metric's dtype.
            aggregation: accepted for Keras compatibility (how replicas would combine).
            name: the variable's name, the key of its entry in the pure state; made unique
                within this metric by a `_1`, `_2`, ... suffix when needed.

        Returns:
            The new `Variable`.
        """
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.add_variable was called before Metric.__init__. "
                "Call `super().__init__(name=name, dtype=dtype)` first in your __init__."
            )
        del aggregation  # Single-replica state; kept for Keras's signature.
        name = self._unique_name(name or "variable")
        shape = _normalize_shape(shape)
        dtype = jnp.dtype(dtype or self._dtype).name
        # Concrete even when the first update runs under jit (lazily built state).
        with jax.ensure_compile_time_eval():
            value = _initial_value(initializer, shape, dtype)
            variable = Variable(value, name=name, trainable=False, dtype=dtype,
                                path=f"{self.name}/{name}")
        self._initializers[id(variable)] = (initializer, shape, dtype)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                   aggregation: str = "sum", name: str | None = None) -> Variable:
        """Alias of `add_variable` (Keras keeps both names)."""
        return self.add_variable(shape, initializer, dtype=dtype, aggregation=aggregation,
                                 name=name)

    def _unique_name(self, name: str) -> str:
        taken = {v.name for v in self._variables}
        candidate, k = name, 0
        while candidate in taken:
            k += 1
            candidate = f"{name}_{k}"
        return candidate

    @property
    def variables(self) -> list[Variable]:
        """This metric's state variables in creation order, then those of sub-metrics."""
        return [v for _, v in self._state_items()]

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulates statistics from one batch (subclasses implement this)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement update_state(y_true, y_pred, "
            "sample_weight=None)."
        )

    def result(self) -> Any:
        """The metric's value from the accumulated state (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Restores every variable to its initial value (sub-metrics included)."""
        for v in self._variables:
            initializer, shape, dtype = self._initializers[id(v)]
            v.assign(_initial_value(initializer, shape, dtype))
        for _, sub in self._sub_metrics():
            sub.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """`update_state(...)` then `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this metric."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Metric":
        """Rebuilds a metric from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"

    # -- the pure trio used by the trainer ------------------------------------------------
    def _sub_metrics(self) -> list[tuple[str, "Metric"]]:
        return [(k, m) for k, m in vars(self).items() if isinstance(m, Metric)]

    def _state_items(self) -> list[tuple[str, Variable]]:
        """(state key, variable) pairs: own variables by name, then `attr/key` of sub-metrics."""
        items = [(v.name, v) for v in self.__dict__.get("_variables", [])]
        for attr, sub in self._sub_metrics():
            items += [(f"{attr}/{key}", v) for key, v in sub._state_items()]
        return items

    def _initial_values(self) -> dict[Variable, jax.Array]:
        values = {}
        for v in self._variables:
            values[v] = _initial_value(*self._initializers[id(v)])
        for _, sub in self._sub_metrics():
            values.update(sub._initial_values())
        return values

    def stateless_init(self, y_true: Any = None, y_pred: Any = None,
                       sample_weight: Any = None) -> State:
        """A fresh (reset) state: `{state key: array}`, keys being the variable names.

        Args:
            y_true, y_pred, sample_weight: optional example batch (arrays or
                `jax.ShapeDtypeStruct`s). Pass them for metrics that create their state on
                the first update (e.g. `AUC(multi_label=True)` without `num_labels`); the
                update is only traced, never run, and the metric's state is left untouched.

        Returns:
            The state of a metric that has seen no data.
        """
        if y_pred is not None:
            self._build_from_example(y_true, y_pred, sample_weight)
        with jax.ensure_compile_time_eval():
            fresh = self._initial_values()
        with _variables.bind(fresh) as scope:
            self.reset_state()
        writes = _variables.collect_writes(scope)
        return {key: writes.get(v, fresh[v]) for key, v in self._state_items()}

    def _build_from_example(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        def trace(y_true, y_pred, sample_weight):
            with _variables.bind({}):
                self.update_state(y_true, y_pred, sample_weight=sample_weight)

        jax.eval_shape(trace, y_true, y_pred, sample_weight)

    def stateless_update(self, state: State, *args: Any, **kwargs: Any) -> State:
        """The state after `update_state(*args, **kwargs)`, computed without side effects.

        Args:
            state: the current state, as returned by `stateless_init` or this method.
            *args, **kwargs: what `update_state` takes, usually
                `(y_true, y_pred, sample_weight=None)`.

        Returns:
            The new state, with the same keys. Works on tracers inside `jax.jit`.
        """
        items = self._state_items()
        self._check_state(state, items)
        with _variables.bind({v: state[key] for key, v in items}) as scope:
            self.update_state(*args, **kwargs)
        if len(self._state_items()) != len(items):
            raise ValueError(
                f"Metric '{self.name}' created new state variables during "
                "stateless_update, so the state passed in is incomplete. Call "
                "`stateless_init(y_true, y_pred)` with an example batch first."
            )
        writes = _variables.collect_writes(scope)
        return {key: writes.get(v, state[key]) for key, v in items}

    def stateless_result(self, state: State | list) -> Any:
        """`result()` computed from `state` instead of the variables (jittable).

        `state` is the dict of the pure trio, or (as in Keras) a list of values in the order
        of `self.variables`.
        """
        items = self._state_items()
        state = self._as_state_dict(state, items)
        with _variables.bind({v: state[key] for key, v in items}):
            # Unwrap inside the scope: `result()` may return a Variable (Keras allows it).
            return _variables.unwrap(self.result())

    # Keras's list-based stateless API, for users who drive metrics from their own JAX loop.
    def stateless_update_state(self, metric_variables: list, *args: Any, **kwargs: Any
                               ) -> list:
        """Keras's form of `stateless_update`: values in `self.variables` order, as a list."""
        items = self._state_items()
        new = self.stateless_update(self._as_state_dict(metric_variables, items), *args,
                                    **kwargs)
        return [new[key] for key, _ in items]

    def stateless_reset_state(self) -> list:
        """Keras's form of `stateless_init`: fresh values in `self.variables` order."""
        fresh = self.stateless_init()
        return [fresh[key] for key, _ in self._state_items()]

    def _as_state_dict(self, state: Any, items: list[tuple[str, Variable]]) -> State:
        if isinstance(state, (list, tuple)):
            if len(state) != len(items):
                raise ValueError(
                    f"Metric '{self.name}' has {len(items)} variables; received a list of "
                    f"{len(state)} values. Pass one value per entry of `metric.variables`."
                )
            state = {key: value for (key, _), value in zip(items, state)}
        self._check_state(state, items)
        return state

    def _check_state(self, state: State, items: list[tuple[str, Variable]]) -> None:
        expected = [key for key, _ in items]
        if sorted(state) != sorted(expected):
            raise ValueError(
                f"The state given to metric '{self.name}' has keys {sorted(state)}; expected "
                f"{sorted(expected)}. Pass the dict returned by stateless_init() or "
                "stateless_update()."
            )


def direction_of(fn: Callable) -> str | None:
    """'down' for kiln loss functions and loss objects (lower is better), else None."""
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return "down" if module.startswith(("kiln.losses", "kiln._losses")) else None
