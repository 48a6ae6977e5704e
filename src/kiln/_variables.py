"""`Variable` handles, which read and write the one call scope of `kiln._scope`.

A `Variable` owns a concrete value. Inside `bind(values)` it reads the bound value instead
(a tracer, during `jax.jit`), and `assign` records the new value in the scope rather than
mutating anything. That single mechanism lets the Keras idiom (`build` + `add_weight`, then
`call` reading `self.kernel`; `metric.update_state` calling `self.total.assign_add`) run as a
pure function: bind the state, call, collect the writes. It is Keras 3's `StatelessScope`
idea without a stateful and a stateless twin of every method.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _config, _serialization
from ._naming import unique_name
from ._scope import Scope, bind, binding_scopes, scoped_path

__all__ = ["Variable", "bind", "collect_writes", "in_scope", "unwrap"]


def in_scope() -> bool:
    """True while some pure `bind` block is active (i.e. during a pure call)."""
    return bool(binding_scopes())


def collect_writes(scope: Scope) -> dict["Variable", Any]:
    """The writes of `scope` as `{variable: new_value}`."""
    return scope.collect_writes()


def _unwrap(x: Any) -> Any:
    return x.value if isinstance(x, Variable) else x


_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")
_SYNCS = ("none", "on_read", "on_write", "auto")


def _check_name(name: Any) -> str:
    if name is None:
        return unique_name("variable")
    if not isinstance(name, str) or "/" in name:
        raise ValueError("A Variable's `name` must be a string without '/' (paths come from "
                         f"name scopes). Received: name={name!r}.")
    return name


def _check_choice(arg: str, value: Any, allowed: tuple[str, ...]) -> str:
    value = "none" if value is None else value
    if value not in allowed:
        raise ValueError(f"Variable `{arg}` must be one of {allowed} (or None). "
                         f"Received: {arg}={value!r}.")
    return value


def _initial_value(initializer: Any, shape: Any, dtype: Any) -> jax.Array:
    """The array a Variable starts from: `initializer` itself, or what it makes for `shape`."""
    if isinstance(initializer, str) or (callable(initializer)
                                        and not hasattr(initializer, "__array__")):
        if shape is None:
            raise ValueError("A Variable made from an initializer needs its `shape`. "
                             f"Received: initializer={initializer!r}, shape=None. Fix: pass "
                             "shape=(...), or pass an initial array instead.")
        init = initializer
        if isinstance(initializer, str):  # a registered name, resolved as initializers.get does
            init = _serialization.build(initializer, "initializers", None, label="initializer")
        return jnp.asarray(init(tuple(shape), dtype=dtype or _config.floatx()))
    if initializer is None:
        raise ValueError("A Variable needs an initial value or an initializer. Received: "
                         "initializer=None.")
    return jnp.asarray(_unwrap(initializer), dtype=dtype)


class Variable:
    """A named, possibly trainable array owned by a layer, metric or optimizer (`keras.Variable`).

    Created by `Layer.add_weight`, or directly as in Keras: a `Variable` set as a layer's
    attribute (alone or in a list) becomes one of the layer's weights.

    Args:
        initializer: the initial value (array-like), or an initializer (a name such as "zeros"
            or a callable taking `(shape, dtype)`), which then needs `shape`.
        shape: the shape, for an initializer.
        dtype: the dtype; defaults to the value's dtype (floats become floatx).
        trainable: whether the optimizer updates it.
        autocast: whether a layer reads it cast to its compute dtype under a mixed policy.
        aggregation: Keras's distribution annotation ("none", "mean", "sum",
            "only_first_replica"); kept, not acted on (one program owns every replica).
        synchronization: Keras's annotation ("auto", "none", "on_read", "on_write"); kept.
        name: the short name, e.g. "kernel" (a unique "variable", "variable_1", ... if omitted).
        path: the full name used as the key of this variable in a training state,
            e.g. "dense/kernel". Defaults to `name` under the current name scope.

    Example:
        >>> import numpy as np
        >>> v = Variable(np.ones((2,)), name="v")
        >>> v.assign_add([1.0, 2.0]).numpy().tolist(), v.dtype, v.path
        ([2.0, 3.0], dtype('float32'), 'v')
        >>> Variable("zeros", shape=(3,), name="z").shape
        (3,)
    """

    def __init__(self, initializer: Any = None, shape: Any = None, dtype: Any = None,
                 trainable: bool = True, autocast: bool = True, aggregation: str | None = "none",
                 synchronization: str | None = "auto", name: str | None = None, *,
                 path: str | None = None):
        name = _check_name(name)
        self.aggregation = _check_choice("aggregation", aggregation, _AGGREGATIONS)
        self.synchronization = _check_choice("synchronization", synchronization, _SYNCS)
        arr = _initial_value(initializer, shape, dtype)
        if dtype is None and jnp.issubdtype(arr.dtype, jnp.floating):
            arr = arr.astype(_config.floatx())
        self._value = arr
        self.name = name
        self.path = path or scoped_path(name)
        self.trainable = bool(trainable)
        self.autocast = bool(autocast)
        self.regularizer = None
        self.constraint = None
        self._tracked = False  # True once a layer lists it among its own weights

    # -- value access -------------------------------------------------------------------
    @property
    def value(self) -> jax.Array:
        key = id(self)
        for scope in reversed(binding_scopes()):
            if key in scope.writes:
                return scope.writes[key]
            if key in scope.values:
                return scope.values[key]
        return self._value

    def assign(self, value: Any) -> "Variable":
        """Sets the value (recorded in the active scope during a pure call)."""
        value = jnp.asarray(_unwrap(value), dtype=self.dtype)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to variable "
                f"'{self.path}' of shape {tuple(self.shape)}."
            )
        stack = binding_scopes()
        if stack:
            key = id(self)
            target = next((s for s in reversed(stack) if key in s.values), stack[-1])
            # A variable bound nowhere (e.g. created during the call) is recorded in the
            # innermost scope, so its write is still collected rather than lost.
            target.variables.setdefault(key, self)
            target.writes[key] = value
        else:
            self._value = value
        return self

    def assign_add(self, value: Any) -> "Variable":
        return self.assign(self.value + jnp.asarray(_unwrap(value)))

    def assign_sub(self, value: Any) -> "Variable":
        return self.assign(self.value - jnp.asarray(_unwrap(value)))

    # -- array-like surface ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._value.shape)

    @property
    def dtype(self) -> Any:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = np.asarray(self.value)
        return arr.astype(dtype) if dtype is not None else arr

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx: Any) -> jax.Array:
        return self.value[idx]

    def __repr__(self) -> str:
        return (f"<Variable path={self.path!r} shape={self.shape} dtype={self.dtype} "
                f"trainable={self.trainable}>")

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False) -> Callable:
    if reflected:
        return lambda self, other: op(_unwrap(other), self.value)
    return lambda self, other: op(self.value, _unwrap(other))


for _name, _op in {
    "add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "truediv": jnp.true_divide,
    "floordiv": jnp.floor_divide, "mod": jnp.mod, "pow": jnp.power, "matmul": jnp.matmul,
}.items():
    setattr(Variable, f"__{_name}__", _binary(_op))
    setattr(Variable, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in {"lt": jnp.less, "le": jnp.less_equal, "gt": jnp.greater,
                   "ge": jnp.greater_equal}.items():
    setattr(Variable, f"__{_name}__", _binary(_op))
Variable.__neg__ = lambda self: -self.value  # type: ignore[attr-defined]
Variable.__abs__ = lambda self: jnp.abs(self.value)  # type: ignore[attr-defined]
Variable.T = property(lambda self: self.value.T)  # type: ignore[attr-defined]


def unwrap(tree: Any) -> Any:
    """Replaces every Variable in a pytree (or a bare Variable) by its current value."""
    return jax.tree_util.tree_map(_unwrap, tree, is_leaf=lambda x: isinstance(x, Variable))


# A Variable handed to a JAX transformation (`jax.jit(step)(state)` with
# `state = (model.trainable_variables, ...)`, as Keras's "training loop from scratch in JAX"
# guide writes it) enters as its current value: it flattens to that array, and unflattening
# gives the array. Kiln's own code passes values, never Variables, into its programs.
jax.tree_util.register_pytree_node(
    Variable, lambda v: ((v.value,), None), lambda _, children: children[0])
