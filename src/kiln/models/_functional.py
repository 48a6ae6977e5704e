"""The functional graph: from input KerasTensors to output KerasTensors, run in order."""

from __future__ import annotations

from typing import Any

import jax

from ..layers._symbolic import KerasTensor, Node


def _is_kt(x: Any) -> bool:
    return isinstance(x, KerasTensor)


def _leaves(tree: Any) -> list[KerasTensor]:
    return [t for t in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt) if isinstance(t, KerasTensor)]


def topological_nodes(inputs: Any, outputs: Any) -> list[Node]:
    """The nodes between `inputs` and `outputs`, each after the nodes it depends on.

    Raises:
        ValueError: if an output depends on a KerasTensor that is not among `inputs`.
    """
    input_ids = {id(t) for t in _leaves(inputs)}
    order: list[Node] = []
    visiting: set[int] = set()
    done: set[int] = set()

    def visit(tensor: KerasTensor) -> None:
        if id(tensor) in input_ids:
            return
        node = tensor.node
        if node is None or not node.parents:
            raise ValueError(
                f"The model's outputs depend on {tensor!r}, which is not one of the model's "
                "inputs. Pass every kiln.Input the outputs are computed from in `inputs`."
            )
        if id(node) in done:
            return
        if id(node) in visiting:
            raise ValueError("The functional graph has a cycle.")
        visiting.add(id(node))
        for parent in node.parents:
            visit(parent)
        visiting.discard(id(node))
        done.add(id(node))
        order.append(node)

    for out in _leaves(outputs):
        visit(out)
    return order


def run_graph(nodes: list[Node], inputs: Any, input_values: list[Any], outputs: Any,
              training: bool | None) -> Any:
    """Evaluates the graph on concrete values (or tracers) and returns `outputs`' structure."""
    values: dict[int, Any] = {id(t): v for t, v in zip(_leaves(inputs), input_values)}
    masks: dict[int, Any] = {}

    def fetch(x: Any) -> Any:
        return values[id(x)] if isinstance(x, KerasTensor) else x

    for node in nodes:
        args = jax.tree_util.tree_map(fetch, node.args, is_leaf=_is_kt)
        kwargs = jax.tree_util.tree_map(fetch, node.kwargs, is_leaf=_is_kt)
        if training is not None and "training" not in kwargs:
            kwargs = {**kwargs, "training": training}
        kwargs = _with_masks(node, kwargs, masks)
        result = node.layer(*args, **kwargs)
        out_mask = node.layer.compute_mask(args[0] if args else None, kwargs.get("mask"))
        for tensor, value in zip(_leaves(node.outputs), jax.tree_util.tree_leaves(result)):
            values[id(tensor)] = value
            if out_mask is not None and not isinstance(out_mask, (list, tuple)):
                masks[id(tensor)] = out_mask
    return jax.tree_util.tree_map(fetch, outputs, is_leaf=_is_kt)


def _with_masks(node: Node, kwargs: dict, masks: dict[int, Any]) -> dict:
    """Masks (from Embedding(mask_zero=True), Masking) travel beside the values, as in Keras:
    a single input's mask as `mask=`, a list input's masks as a list, and the masks of separate
    query/value/key tensors as `query_mask=`/`value_mask=`/`key_mask=` where `call` takes them."""
    first = node.args[0] if node.args else None
    if isinstance(first, KerasTensor):
        mask = masks.get(id(first))
    elif isinstance(first, (list, tuple)) and all(isinstance(t, KerasTensor) for t in first):
        mask = [masks.get(id(t)) for t in first]
        mask = mask if any(m is not None for m in mask) else None
    else:
        mask = None
    if mask is not None and "mask" not in kwargs:
        kwargs = {**kwargs, "mask": mask}
    names = ("query_mask", "value_mask", "key_mask")
    if len(node.args) > 1 and _accepts(node.layer.call, names[0]):
        for name, tensor in zip(names, node.args):
            m = masks.get(id(tensor)) if isinstance(tensor, KerasTensor) else None
            if m is not None and name not in kwargs:
                kwargs = {**kwargs, name: m}
    return kwargs


def _accepts(fn: Any, arg: str) -> bool:
    import inspect

    try:
        return arg in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def graph_layers(nodes: list[Node], inputs: Any) -> list[Any]:
    """Input layers first, then each layer once, in execution order (Keras's `model.layers`)."""
    layers: list[Any] = [t.node.layer for t in _leaves(inputs)]
    for node in nodes:
        if node.layer not in layers:
            layers.append(node.layer)
    return layers
