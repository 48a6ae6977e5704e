"""Symbolic tensors and graph nodes for the functional API.

`KerasTensor` is a shape and dtype with a history: the node (layer call) that produced it.
Calling a layer on KerasTensors builds the layer from their shapes, works out the output
shapes with `jax.eval_shape` (no hand-written shape code), and records a `Node`.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

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
    return jax.tree_util.tree_map(lambda t: t.shape, tree, is_leaf=_is_kt)


def batch_unknown(tree: Any) -> bool:
    """Whether any input dimension is unknown (None)."""
    leaves = [t for t in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt) if isinstance(t, KerasTensor)]
    return any(d is None for t in leaves for d in t.shape)
