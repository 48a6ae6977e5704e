"""Symbolic tensors and graph nodes for the functional API.

`KerasTensor` is a shape and dtype with a history: the node (layer call) that produced it.
Calling a layer on KerasTensors builds the layer from their shapes, works out the output
shapes with `jax.eval_shape` (no hand-written shape code), and records a `Node`.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from .. import ops as _ops
from ..ops import _wrap

# Stand-in size for unknown (None) dimensions while shapes are evaluated (abstractly, so no
# memory is used). A large odd prime is unlikely to be produced by a layer for another reason.
_PLACEHOLDER_BATCH = 7919


class KerasTensor:
    """A symbolic tensor: `shape` (None for unknown dims), `dtype`, and its producer."""

    def __init__(self, shape: Sequence[int | None], dtype: Any = "float32", name: str | None = None,
                 node: "Node | None" = None, index: int = 0):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = jnp.dtype(dtype)
        self.name = name
        self.node = node
        self.index = index

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        name = f" name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}{name}>"

    def __hash__(self) -> int:
        return id(self)

    # -- Python operators: functional-graph operations, as in Keras --------------------------
    _kiln_symbolic = True  # what kiln.ops looks for to build a graph node

    def __getitem__(self, key: Any) -> "KerasTensor":
        return _wrap.SYMBOLIC["call"](get_item, (self, key), {})

    def reshape(self, newshape: Any) -> "KerasTensor":
        return _ops.reshape(self, newshape)

    def squeeze(self, axis: Any = None) -> "KerasTensor":
        return _ops.squeeze(self, axis=axis)

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean (it has no value "
                        "until the model runs). Fix: use kiln.ops.where / kiln.ops.cond.")

    def __iter__(self) -> Any:
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported. "
                                  "Fix: index it (x[:, 0]) or use kiln.ops.unstack.")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("A KerasTensor is symbolic: a placeholder for a shape and a dtype, "
                         "with no value. Fix: call the model on real data, or build the "
                         "computation from kiln.ops / layers.")


def get_item(x: Any, key: Any) -> Any:
    """`x[key]` (Keras's `GetItem`; a list key is a tuple of indices, as JSON stores it)."""
    return x[tuple(key) if isinstance(key, list) else key]


get_item.__module__ = "kiln.ops.numpy"


def _binary(op_name: str, reflected: bool = False) -> Any:
    def method(self: KerasTensor, other: Any) -> KerasTensor:
        fn = getattr(_ops, op_name)
        return fn(other, self) if reflected else fn(self, other)
    method.__name__ = op_name
    return method


def _unary(op_name: str) -> Any:
    def method(self: KerasTensor) -> KerasTensor:
        return getattr(_ops, op_name)(self)
    method.__name__ = op_name
    return method


# Keras's operator table (`==` stays identity: KerasTensors are dict keys).
for _dunder, _op in {"add": "add", "sub": "subtract", "mul": "multiply", "matmul": "matmul",
                     "truediv": "true_divide", "floordiv": "floor_divide", "mod": "mod",
                     "pow": "power", "and": "logical_and", "or": "logical_or",
                     "xor": "logical_xor"}.items():
    setattr(KerasTensor, f"__{_dunder}__", _binary(_op))
    setattr(KerasTensor, f"__r{_dunder}__", _binary(_op, reflected=True))
for _dunder, _op in {"lt": "less", "le": "less_equal", "gt": "greater",
                     "ge": "greater_equal", "ne": "not_equal"}.items():
    setattr(KerasTensor, f"__{_dunder}__", _binary(_op))
for _dunder, _op in {"neg": "negative", "abs": "absolute", "invert": "logical_not"}.items():
    setattr(KerasTensor, f"__{_dunder}__", _unary(_op))


def is_symbolic(tree: Any) -> bool:
    return any(isinstance(x, KerasTensor) for x in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt))


def _is_kt(x: Any) -> bool:
    return isinstance(x, KerasTensor)


class Node:
    """One call of `layer` in a functional graph: its symbolic inputs, outputs and kwargs."""

    def __init__(self, layer: Any, args: tuple, kwargs: dict, outputs: Any):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs

    @property
    def parents(self) -> list[KerasTensor]:
        return [t for t in jax.tree_util.tree_leaves((self.args, self.kwargs), is_leaf=_is_kt)
                if isinstance(t, KerasTensor)]


# The second size unknown dimensions are evaluated at when some are not the batch: a
# dimension that differs between the two evaluations depends on an unknown one (e.g. the
# height after a strided convolution of an image of unknown size) and is unknown too.
SECOND_PLACEHOLDER = 7907


def to_struct(tree: Any, placeholder: int = _PLACEHOLDER_BATCH) -> Any:
    """KerasTensors -> jax.ShapeDtypeStruct, unknown dims at `placeholder`."""
    def one(t: Any) -> Any:
        if not isinstance(t, KerasTensor):
            return t
        shape = tuple(placeholder if d is None else d for d in t.shape)
        return jax.ShapeDtypeStruct(shape, t.dtype)
    return jax.tree_util.tree_map(one, tree, is_leaf=_is_kt)


def from_struct(tree: Any, batch_unknown: bool, second: Any = None) -> Any:
    """jax.ShapeDtypeStruct -> KerasTensor, turning the placeholder back into None; with
    `second` (the same outputs evaluated at `SECOND_PLACEHOLDER`), every dimension that
    differs between the two is None as well."""
    def one(s: Any, other: Any = None) -> KerasTensor:
        # Every unknown input dimension (batch, or e.g. time in Input((None, 4))) was evaluated
        # at the placeholder size; dimensions that come out at that size are unknown again.
        shape = [None if (batch_unknown and d == _PLACEHOLDER_BATCH)
                 or (other is not None and d != other.shape[i]) else d
                 for i, d in enumerate(s.shape)]
        return KerasTensor(shape, s.dtype)
    if second is None:
        return jax.tree_util.tree_map(one, tree)
    return jax.tree_util.tree_map(one, tree, second)


def inner_unknown(tree: Any) -> bool:
    """Whether a dimension other than the batch (the first) is unknown somewhere."""
    leaves = [t for t in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt)
              if isinstance(t, KerasTensor)]
    return any(d is None for t in leaves for d in t.shape[1:])


def symbolic_shapes(tree: Any) -> Any:
    """The shapes of a structure of KerasTensors (None kept for unknown dims)."""
    return jax.tree_util.tree_map(lambda t: t.shape if isinstance(t, KerasTensor) else None,
                                  tree, is_leaf=_is_kt)


def batch_unknown(tree: Any) -> bool:
    """Whether any input dimension is unknown (None)."""
    leaves = [t for t in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt) if isinstance(t, KerasTensor)]
    return any(d is None for t in leaves for d in t.shape)
