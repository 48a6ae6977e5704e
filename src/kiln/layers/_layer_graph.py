"""The functional-graph side of a `Layer` (mixed into `Layer`): a call on `KerasTensor`s
records a `Node` and returns KerasTensors of the output shapes JAX evaluates abstractly;
`input` / `output` read the layer's first node; `compute_output_shape` asks the same trace.

Example:
    >>> import kiln
    >>> kiln.layers.Dense(3).compute_output_shape((None, 5))
    (None, 3)
    >>> kiln.layers.Dense(3).compute_output_spec(kiln.KerasTensor((None, 5))).shape
    (None, 3)
"""

from __future__ import annotations

from typing import Any

import jax

from .._variables import bind
from ._symbolic import (SECOND_PLACEHOLDER, KerasTensor, Node, batch_unknown, from_struct,
                        inner_unknown, symbolic_shapes, to_struct)


def _is_symbolic_leaf(x: Any) -> bool:
    return isinstance(x, KerasTensor)


def _as_spec(x: Any) -> Any:
    """An array-like input as the KerasTensor of its shape and dtype (specs pass through)."""
    if isinstance(x, KerasTensor) or not hasattr(x, "shape") or not hasattr(x, "dtype"):
        return x
    return KerasTensor(tuple(x.shape), dtype=str(x.dtype))


class LayerGraph:
    """`_symbolic_call`, `compute_output_shape` / `compute_output_spec`, `input`, `output`."""

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        """Records a graph node and returns KerasTensors with the evaluated output shapes."""
        self._maybe_build(symbolic_shapes(args[0]))
        unknown = batch_unknown((args, kwargs))

        # Only the symbolic tensors are traced; Python values (flags such as
        # use_causal_mask=True, sizes, strings) reach `call` as they are.
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_symbolic_leaf)
        traced = [i for i, leaf in enumerate(leaves) if isinstance(leaf, KerasTensor)]

        def run(values: list) -> Any:
            full = list(leaves)
            for i, value in zip(traced, values):
                full[i] = value
            a, k = jax.tree_util.tree_unflatten(treedef, full)
            # A throwaway scope: the writes and add_loss values of this trace are dropped.
            with bind({}, training=False, key=jax.random.key(0)):
                return self.__call__(*a, **k)

        structs = jax.eval_shape(run, [to_struct(leaves[i]) for i in traced])
        second = None
        if inner_unknown(args):  # e.g. images of unknown size: which output dims follow them
            second = jax.eval_shape(run, [to_struct(leaves[i], SECOND_PLACEHOLDER)
                                          for i in traced])
        outputs = from_struct(structs, unknown, second)
        node = Node(self, args, kwargs, outputs)
        for i, t in enumerate(jax.tree_util.tree_leaves(outputs)):
            t.node, t.index = node, i
        self._inbound_nodes.append(node)
        self.output_shape_info = jax.tree_util.tree_map(
            lambda t: t.shape, outputs, is_leaf=lambda x: isinstance(x, KerasTensor))
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for `input_shape` (batch dim may be None), evaluated by JAX."""
        x = jax.tree_util.tree_map(lambda s: KerasTensor(s), input_shape,
                                   is_leaf=lambda s: isinstance(s, tuple))
        out = self.compute_output_spec(x)
        return jax.tree_util.tree_map(lambda t: t.shape, out, is_leaf=_is_symbolic_leaf)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """`KerasTensor`s of the outputs a call on these inputs (KerasTensors or arrays) would
        give, shapes and dtypes evaluated by JAX; the layer's graph is left as it was."""
        args, kwargs = jax.tree_util.tree_map(_as_spec, (args, kwargs), is_leaf=_is_symbolic_leaf)
        saved = list(self._inbound_nodes)
        try:
            return self._symbolic_call(args, kwargs)
        finally:
            self._inbound_nodes = saved

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call on KerasTensors (Keras's node 0)."""
        node = self._first_node("input")
        return node.args[0] if node.args else node.outputs  # an InputLayer: its own tensor

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call on KerasTensors, e.g. to build a
        feature extractor: `kiln.Model(base.input, base.get_layer("conv").output)`."""
        return self._first_node("output").outputs

    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has no {what}: it has not been called on a symbolic "
                "tensor (kiln.Input or another layer's output) yet. Call it inside a "
                f"functional model first, then read `layer.{what}`.")
        return self._inbound_nodes[0]

