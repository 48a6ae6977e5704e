"""The functional graph: from input KerasTensors to output KerasTensors, run in order."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np


import jax

from .. import _registry, _serialization
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
    try:
        return arg in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def graph_layers(nodes: list[Node], inputs: Any, outputs: Any = None) -> list[Any]:
    """Keras's `model.layers` order (hence the weights, optimizer-slot and file order).

    As Keras's `map_graph`: a depth-first walk from each output (in flattened order) numbers
    each layer at its first visit; a node's depth is its longest distance to an output, a
    layer's the deepest of its nodes; layers come deepest first, ties by that number. Inputs
    that no output uses come last (depth 0). Without `outputs`, the graph's sinks among
    `nodes` (in order) stand for them.

    Example:
        >>> import kiln
        >>> x = kiln.Input((2,), name="x")
        >>> a = kiln.layers.Dense(2, name="a")(x)
        >>> b = kiln.layers.Dense(2, name="b")(kiln.layers.Dense(2, name="c")(x))
        >>> m = kiln.Model(x, kiln.layers.Add(name="add")([a, b]))
        >>> [layer.name for layer in graph_layers(m._functional[2], [x], m.outputs)]
        ['x', 'c', 'a', 'b', 'add']
    """
    roots = _leaves(outputs) if outputs is not None else _sinks(nodes)
    post, first = _walk(roots, {id(t) for t in _leaves(inputs)})
    in_graph = {id(n) for n in post}
    node_depth: dict[int, int] = {}
    depth: dict[int, int] = {}
    for node in reversed(post):
        d = max(node_depth.get(id(node), 0), depth.get(id(node.layer), 0))
        depth[id(node.layer)] = d
        for parent in node.parents:
            if id(parent.node) in in_graph:
                node_depth[id(parent.node)] = max(d + 1, node_depth.get(id(parent.node), 0))
    layers = {id(n.layer): n.layer for n in post}
    for t in _leaves(inputs):  # inputs no output depends on
        layer = t.node.layer if t.node is not None and not t.node.parents else None
        if layer is not None and id(layer) not in depth:
            layers[id(layer)], depth[id(layer)], first[id(layer)] = layer, 0, -1
    return sorted(layers.values(), key=lambda l: (-depth[id(l)], first[id(l)]))


def _walk(roots: list[KerasTensor], input_ids: set[int]) -> tuple[list[Node], dict[int, int]]:
    """(nodes in depth-first post-order, {id(layer): index of its first visit})."""
    post: list[Node] = []
    first: dict[int, int] = {}
    done: set[int] = set()

    def visit(tensor: KerasTensor) -> None:
        node = tensor.node
        if node is None or id(node) in done:
            return
        done.add(id(node))
        if node.parents and id(tensor) in input_ids:  # a non-Input tensor given as input
            return
        first.setdefault(id(node.layer), len(first))
        for parent in node.parents:
            visit(parent)
        post.append(node)

    for root in roots:
        visit(root)
    return post, first


def _sinks(nodes: list[Node]) -> list[KerasTensor]:
    """The node outputs no other node reads, in order (stand-ins for the model's outputs)."""
    read = {id(t) for n in nodes for t in n.parents}
    return [t for n in nodes for t in _leaves(n.outputs) if id(t) not in read]


# -- Keras's functional config ------------------------------------------------------------------
# A tensor is named by `keras_history = [layer name, node index, tensor index]`, where the node
# index counts only the nodes of the model being saved. Keras gives every functional model one
# node of its own before its first call: output/input references to a nested functional model
# (`input_layers`, `output_layers`) count it, references inside `inbound_nodes` do not.

def _is_functional(layer: Any) -> bool:
    return getattr(layer, "_functional", None) is not None and not hasattr(layer, "pop")


def functional_config(model: Any) -> dict[str, Any]:
    """Keras 3's config of a functional model: name, trainable, layers (each with `name` and
    `inbound_nodes`), input_layers, output_layers."""
    inputs, outputs, nodes = model._functional
    own = {id(n) for n in nodes} | {id(t.node) for t in _leaves(inputs)}

    def history(t: KerasTensor, offset: bool = False) -> list:
        layer = t.node.layer
        kept = [n for n in layer._inbound_nodes if id(n) in own]
        index = next(i for i, n in enumerate(kept) if n is t.node)
        return [layer.name, index + (1 if offset and _is_functional(layer) else 0), t.index]

    def tensor(t: Any) -> Any:
        if isinstance(t, np.ndarray) and t.ndim:  # a constant operand, as Keras writes it
            return {"class_name": "__numpy__",
                    "config": {"value": t.tolist(), "dtype": t.dtype.name}}
        if not isinstance(t, KerasTensor):
            return _serialization.serialize(t)
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(t.shape), "dtype": t.dtype.name,
                           "keras_history": history(t)}}

    layers = []
    for layer in model._graph_layers:
        entry = _serialization.serialize(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": _map(tensor, list(n.args)), "kwargs": _map(tensor, dict(n.kwargs))}
            for n in layer._inbound_nodes if id(n) in own and n.parents]
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _map(lambda t: history(t, True), inputs),
            "output_layers": _map(lambda t: history(t, True), outputs)}


def _map(fn: Any, tree: Any) -> Any:
    """`fn` on each leaf of lists, tuples and dicts (tuples become lists, as in JSON)."""
    if isinstance(tree, dict):
        return {k: _map(fn, v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_map(fn, v) for v in tree]
    return fn(tree)


def _is_history(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 3 and isinstance(x[0], str)


class _Rebuild:
    """The layers of a config and the outputs of each node made so far."""

    def __init__(self, layer_configs: list[dict[str, Any]], make_layer: Any = None):
        self.layers: dict[str, Any] = {}
        self.made: dict[str, list[list[KerasTensor]]] = {}
        self.pending: dict[str, list[Any]] = {}
        for data in layer_configs:
            layer = (make_layer(data) if make_layer is not None
                     else _serialization.deserialize(data, label="layer"))
            name = data.get("name", getattr(layer, "name", None))
            self.layers[name] = layer
            first = [layer.output] if hasattr(layer, "batch_shape") else []
            self.made[name] = [first] if first else []
            self.pending[name] = list(data.get("inbound_nodes") or [])

    def tensor(self, name: str, node: int, index: int) -> KerasTensor:
        if name not in self.layers:
            raise ValueError(f"The functional config refers to layer {name!r}, which is not in "
                             f"its 'layers' list {sorted(self.layers)}.")
        if node >= len(self.made[name]):
            raise IndexError(name)  # that node is not rebuilt yet
        return self.made[name][node][index]

    def revive(self, x: Any) -> Any:
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            return self.tensor(*x["config"]["keras_history"])
        if isinstance(x, dict) and "class_name" in x:
            return _serialization.deserialize(x)
        if isinstance(x, dict):
            return {k: self.revive(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):  # a live config (not read from JSON) has tuples
            return [self.revive(v) for v in x]
        return x

    def call_node(self, name: str, data: Any) -> None:
        if isinstance(data, list):  # the legacy form: [[layer, node, tensor, kwargs], ...]
            args = [[self.tensor(*d[:3]) for d in data]]
            args, kwargs = ([args[0][0]] if len(args[0]) == 1 else args), (data[0][3:] or [{}])[0]
        else:
            args, kwargs = self.revive(data.get("args", [])), self.revive(data.get("kwargs", {}))
            # Keras records call defaults (mask=None, training=False): the graph gets those at
            # run time, so they are left out of the symbolic call.
            kwargs = {k: v for k, v in kwargs.items() if v is not None and k != "training"}
        out = self.layers[name](*args, **kwargs)
        self.made[name].append(_leaves(out))

    def run(self) -> None:
        while any(self.pending.values()):
            progressed = False
            for name, todo in self.pending.items():
                while todo:
                    try:
                        self.call_node(name, todo[0])
                    except IndexError:
                        break
                    todo.pop(0)
                    progressed = True
            if not progressed:
                raise ValueError("Invalid functional config: the graph has a cycle or refers to "
                                 f"nodes that no layer makes: {[n for n, t in self.pending.items() if t]}.")


def functional_from_config(cls: Any, config: dict[str, Any],
                           custom_objects: dict[str, Any] | None = None,
                           make_layer: Any = None) -> Any:
    """Rebuilds a functional model from Keras's (or kiln's) config, calling each layer on the
    tensors its `inbound_nodes` name, in dependency order. `make_layer(layer_config)`, when
    given, makes each layer instead of deserializing its config (what `clone_model` uses)."""
    config = dict(config)
    with _registry.custom_object_scope(custom_objects):
        rebuild = _Rebuild(config.pop("layers"), make_layer)
        rebuild.run()

    def io_tensor(h: list) -> KerasTensor:
        name, node, index = h
        offset = 1 if _is_functional(rebuild.layers.get(name)) else 0
        return rebuild.tensor(name, node - offset, index)

    def io(tree: Any) -> Any:
        if _is_history(tree):
            return io_tensor(tree)
        if isinstance(tree, dict):
            return {k: io(v) for k, v in tree.items()}
        return [io(v) for v in tree]

    inputs, outputs = io(config.pop("input_layers")), io(config.pop("output_layers"))
    config.pop("dtype", None)
    # `layers` (hence the weights order) comes from the rebuilt graph, as in Keras.
    return cls(inputs=inputs, outputs=outputs, **config)
