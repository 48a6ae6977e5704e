"""Ops and Python operators on symbolic tensors, as nodes of the functional graph.

`x * 2 + y`, `x[:, 0]`, `-x`, `x @ w` and any `kiln.ops` function called on `KerasTensor`s
record an `Operation`: a weightless layer that runs the op in the model's call. As in Keras,
operations appear in `model.operations` and in the model's config (class `Multiply`,
`ExpandDims`, ... under module `keras.src.ops.numpy` / `keras.src.ops.nn` / ...), but not in
`model.layers`. Non-tensor keyword arguments are the operation's config (`axis=-1`);
positional arguments, constants included, are its call's.

Example:
    >>> import numpy as np, kiln
    >>> kiln.backend.clear_session()  # automatic names start over
    >>> x = kiln.Input((3,))
    >>> y = kiln.ops.expand_dims(x * 2 + 1, axis=-1)[:, :2]
    >>> model = kiln.Model(x, y)
    >>> [op.name for op in model.operations], [layer.name for layer in model.layers]
    (['input_layer', 'multiply', 'add', 'expand_dims', 'get_item'], ['input_layer'])
    >>> model.predict(np.ones((1, 3)), verbose=0)[0, :, 0].tolist()
    [3.0, 3.0]
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import jax

from .. import _serialization, ops
from .._naming import unique_name
from .._utils import to_snake_case
from ..ops import _wrap
from ._layer import Layer
from ._symbolic import KerasTensor, get_item

__all__ = ["Operation", "operation_from_config", "symbolic_op"]

_KERAS_MODULE = {"kiln.ops.numpy": "keras.src.ops.numpy", "kiln.ops.nn": "keras.src.ops.nn",
                 "kiln.ops.image": "keras.src.ops.image", "kiln.ops.linalg": "keras.src.ops.linalg",
                 "kiln.ops.math": "keras.src.ops.math", "kiln.ops.core": "keras.src.ops.core",
                 "kiln.ops": "keras.src.ops.numpy"}
_KILN_MODULE = {v: k for k, v in _KERAS_MODULE.items() if k != "kiln.ops"}


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _resolve(op_name: str, module: str) -> Callable:
    if op_name == "get_item":
        return get_item
    namespace = getattr(ops, module.rsplit(".", 1)[-1], ops) if module != "kiln.ops" else ops
    fn = getattr(namespace, op_name, None) or getattr(ops, op_name, None)
    if fn is None:
        raise ValueError(f"Unknown operation {op_name!r} (module {module!r}): kiln.ops has no "
                         "function of that name. Fix: pass it as a custom layer, or check the "
                         "name.")
    return fn


class Operation(Layer):
    """One call of a `kiln.ops` function in a functional graph (see the module docstring).

    Args:
        op: the op's name in `kiln.ops` ("multiply", "expand_dims", "get_item", ...).
        module: its `kiln.ops` namespace ("kiln.ops.numpy", "kiln.ops.nn", ...).
        name: the node's name (default: the op's name, uniquified).
        **static: the op's non-tensor keyword arguments (its config).
    """

    _is_operation = True

    def __init__(self, op: str, module: str = "kiln.ops.numpy", name: str | None = None,
                 **static: Any):
        super().__init__(name=name or unique_name(op))
        self.op, self.module, self.static = op, module, static
        self.fn = _resolve(op, module)
        self.built = True

    @property
    def _registered_class_name(self) -> str:
        return _camel(self.op)

    @property
    def _keras_module(self) -> str:
        return _KERAS_MODULE.get(self.module, "keras.src.ops.numpy")

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **{**self.static, **kwargs})

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.static}


# Ops whose constant operands are call arguments in Keras (`x * 2` calls Multiply on
# (x, 2)); every other op takes its non-tensor arguments in its constructor (its config).
_DATA_ARGS = {"add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod",
              "power", "maximum", "minimum", "matmul", "dot", "less", "less_equal", "greater",
              "greater_equal", "equal", "not_equal", "logical_and", "logical_or", "logical_xor",
              "where", "get_item"}


def symbolic_op(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """The graph node for `fn(*args, **kwargs)` with symbolic tensors among the arguments."""
    if fn.__name__ not in _DATA_ARGS:
        args, kwargs = _static_by_name(fn, args, kwargs)
    tensor_kwargs = {k: v for k, v in kwargs.items() if _has_tensor(v)}
    static = {k: v for k, v in kwargs.items() if k not in tensor_kwargs}
    node = Operation(fn.__name__, fn.__module__, **static)
    return node(*args, **tensor_kwargs)


def _static_by_name(fn: Callable, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Positional non-tensor arguments after the tensors become keyword arguments
    (`expand_dims(x, -1)` is recorded as `expand_dims(x, axis=-1)`, as Keras's config has it)."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return args, kwargs
    cut = len(args)
    while cut > 1 and not _has_tensor(args[cut - 1]) and cut - 1 < len(names):
        cut -= 1
    moved = {names[i]: args[i] for i in range(cut, len(args))}
    return args[:cut], {**moved, **kwargs}


def _has_tensor(value: Any) -> bool:
    leaves = jax.tree_util.tree_leaves(value, is_leaf=lambda x: isinstance(x, KerasTensor))
    return any(isinstance(x, KerasTensor) for x in leaves)


def operation_from_config(class_name: str, module: str, config: dict[str, Any]) -> Operation:
    """The `Operation` Keras (or kiln) wrote as `{"module": "keras.src.ops.<ns>",
    "class_name": "ExpandDims", "config": {"name": ..., "axis": -1}}`."""
    config = dict(config or {})
    name = config.pop("name", None)
    return Operation(to_snake_case(class_name), _KILN_MODULE.get(module, "kiln.ops.numpy"),
                     name=name, **config)


_wrap.SYMBOLIC["call"] = symbolic_op
_serialization.OPERATIONS["from_config"] = operation_from_config
