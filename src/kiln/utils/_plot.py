"""`plot_model` / `model_to_dot` (Keras's graph pictures, through pydot and Graphviz) and
`plot_history` (a kiln addition: a fit's curves, through matplotlib).

The model is read by duck typing, so this ground module imports no model code: a model
has `layers`; a functional one `_functional = (inputs, outputs, nodes)`, each node with
`layer` and `parents` (the KerasTensors it reads, each with the `node` that made it).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
from typing import Any

try:  # pydot (and matplotlib for plot_history) are the optional extra kiln[plot]
    import pydot
except ImportError:
    pydot = None

_EXTRA = 'pip install "kiln[plot]"'


def _require_pydot(what: str) -> None:
    if pydot is None:
        raise ImportError(f"{what} needs pydot, which is not installed. Install it with: "
                          f"{_EXTRA} (or pip install pydot).")


def _require_graphviz() -> None:
    """Keras's check: pydot can run Graphviz's `dot` program."""
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, pydot.PydotException) as exc:
        found = shutil.which("dot")
        raise ImportError(
            "plot_model needs Graphviz's `dot` program to render the picture; "
            f"{'it failed: ' + str(exc) if found else 'it is not on the PATH'}. Install "
            "Graphviz (e.g. `apt-get install graphviz`, `brew install graphviz`, or see "
            "https://graphviz.org/download/), or use model_to_dot(model).to_string() "
            "for the dot source.") from exc


def _is_class(obj: Any, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(obj).__mro__)


def _is_model(obj: Any) -> bool:
    return _is_class(obj, "Sequential") or bool(getattr(obj, "_functional", None))


# -- labels ---------------------------------------------------------------------------------

def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        text = ", ".join(f"{k}: {v}" for k, v in shape.items())
    else:
        text = f"{shape}"
    return text.replace("}", "").replace("{", "")


def _shapes(tree: Any) -> Any:
    """A KerasTensor's shape, or the same structure of shapes (as Keras's map_structure)."""
    if hasattr(tree, "shape"):
        return tuple(tree.shape)
    if isinstance(tree, (list, tuple)):
        return type(tree)(_shapes(t) for t in tree)
    if isinstance(tree, dict):
        return {k: _shapes(v) for k, v in tree.items()}
    return None


def _dtypes(tree: Any) -> Any:
    if hasattr(tree, "dtype"):
        return str(tree.dtype)
    if isinstance(tree, (list, tuple)):
        return type(tree)(_dtypes(t) for t in tree)
    return None


def _io(layer: Any, attr: str, read: Any) -> Any:
    try:
        return read(getattr(layer, attr))
    except (ValueError, AttributeError):
        return None


def _activation_name(activation: Any) -> str:
    for attr in ("name", "__name__"):
        if hasattr(activation, attr):
            return getattr(activation, attr)
    return str(activation)


def _cell(text: str) -> str:
    return f'<td bgcolor="white"><font point-size="14">{text}</font></td>'


def _trainable_cell(layer: Any) -> str:
    color, text = ("forestgreen", "Trainable") if layer.trainable else ("firebrick",
                                                                          "Non-trainable")
    return f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{text}</b></font></td>'


def _layer_label(layer: Any, opts: dict, shapes: tuple) -> str:
    """The HTML-like table Keras draws for a layer (title row, activation row, info row)."""
    class_name = type(layer).__name__
    if class_name == "Model" and getattr(layer, "_functional", None):
        class_name = "Functional"  # the class Keras's Model(inputs, outputs) returns
    colspan = max(1, int(opts["show_dtype"]) + int(opts["show_trainable"])
                  + 2 * int(opts["show_shapes"]))
    title = f"<b>{layer.name}</b> ({class_name})" if opts["show_layer_names"] else (
        f"<b>{class_name}</b>")
    table = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
             f'<tr><td colspan="{colspan}" bgcolor="black">'
             f'<font point-size="16" color="white">{title}</font></td></tr>')
    if opts["show_layer_activations"] and getattr(layer, "activation", None) is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                  f"Activation: <b>{_activation_name(layer.activation)}</b></font></td></tr>")
    cols = []
    if opts["show_shapes"]:
        if class_name != "InputLayer":
            cols.append(_cell(f"Input shape: <b>{_shape_text(shapes[0])}</b>"))
        cols.append(_cell(f"Output shape: <b>{_shape_text(shapes[1])}</b>"))
    if opts["show_dtype"]:
        # A Sequential model's layers keep no symbolic output: their dtype stands in.
        dtype = _io(layer, "output", _dtypes) or getattr(layer, "dtype", None)
        cols.append(_cell(f"Output dtype: <b>{dtype or '?'}</b>"))
    if opts["show_trainable"] and hasattr(layer, "trainable") and layer.weights:
        cols.append(_trainable_cell(layer))
    if cols:
        table += f"<tr>{''.join(cols)}</tr>"
    return table + "</table>>"


def _make_node(layer: Any, opts: dict, shapes: tuple = (None, None)) -> Any:
    node = pydot.Node(str(id(layer)), label=_layer_label(layer, opts, shapes))
    node.set("fontname", "Helvetica")
    node.set("border", "0")
    node.set("margin", "0")
    return node


def _add_edge(dot: Any, src: Any, dst: Any) -> None:
    src_id, dst_id = str(id(src)), str(id(dst))
    if not dot.get_edge(src_id, dst_id):
        edge = pydot.Edge(src_id, dst_id)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _sequential_shapes(model: Any) -> list[tuple]:
    """(input, output) shapes per layer of a Sequential model: each layer's own symbolic
    input/output when it has one, else the previous layer's output shape chained on."""
    shapes, previous = [], getattr(model, "input_shape", None)
    for layer in model.layers:
        out = _io(layer, "output", _shapes) or getattr(layer, "output_shape_info", None)
        inp = _io(layer, "input", _shapes) or previous
        shapes.append((inp, out))
        previous = out
    return shapes


# -- graph ----------------------------------------------------------------------------------

def _new_dot(model: Any, subgraph: bool, rankdir: str, dpi: int, splines: str) -> Any:
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
        return dot
    dot = pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set("dpi", dpi)
    dot.set("splines", splines)
    dot.set_node_defaults(shape="record")
    return dot


def _entry_layer(layer: Any, input_index: int = 0) -> Any:
    """With expand_nested, the layer inside a nested model that an edge into it reaches:
    a functional model's input layer for that input, a Sequential model's first layer."""
    while _is_model(layer):
        if _is_class(layer, "Sequential"):
            layer = layer.layers[0]
        else:
            inputs = _as_list(layer._functional[0])
            layer = inputs[min(input_index, len(inputs) - 1)].node.layer
    return layer


def _exit_layer(layer: Any, output_index: int = 0) -> Any:
    """With expand_nested, the layer inside a nested model that made its output."""
    while _is_model(layer):
        if _is_class(layer, "Sequential"):
            layer = layer.layers[-1]
        else:
            outputs = _as_list(layer._functional[1])
            layer = outputs[min(output_index, len(outputs) - 1)].node.layer
    return layer


def _as_list(tree: Any) -> list:
    if isinstance(tree, dict):
        return list(tree.values())
    return list(tree) if isinstance(tree, (list, tuple)) else [tree]


def _functional_edges(dot: Any, model: Any, expand_nested: bool) -> None:
    """One edge from the layer that made each input of each node to the node's layer."""
    for node in model._functional[2]:
        for index, tensor in enumerate(node.parents):
            source = getattr(tensor.node, "layer", None)
            if source is None:
                continue
            if expand_nested:
                _add_edge(dot, _exit_layer(source, getattr(tensor, "index", 0) or 0),
                          _entry_layer(node.layer, index))
            else:
                _add_edge(dot, source, node.layer)


def _add_layers(dot: Any, model: Any, layers: list, opts: dict, nested: dict) -> None:
    sequential = _is_class(model, "Sequential")
    shapes = _sequential_shapes(model) if sequential and opts["show_shapes"] else None
    for i, layer in enumerate(layers):
        if nested["expand_nested"] and _is_model(layer):
            dot.add_subgraph(model_to_dot(layer, subgraph=True, **opts, **{
                k: v for k, v in nested.items() if k != "splines"}))
        elif shapes is not None:
            dot.add_node(_make_node(layer, opts, shapes[i]))
        else:
            dot.add_node(_make_node(layer, opts, (_io(layer, "input", _shapes),
                                                  _io(layer, "output", _shapes))))


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False,
                 splines: str = "ortho") -> Any:
    """The model's layer graph as a `pydot.Dot` (a `pydot.Cluster` with `subgraph=True`),
    with Keras's node labels and edges. Needs pydot (`pip install "kiln[plot]"`).

    One node per layer (named by `id(layer)`, as Keras; pydot lists the graph's node
    defaults first, as a node named "node"), one edge per connection; a
    Sequential model's layers are chained in order (no input node, as Keras). Anything
    else than a Sequential or functional model is drawn as one node.

    Example:
        >>> import kiln
        >>> x = kiln.Input((3,), name="x")
        >>> m = kiln.Model(x, kiln.layers.Dense(1, name="out")(x))
        >>> dot = kiln.utils.model_to_dot(m)
        >>> [n.get_name() for n in dot.get_nodes()] == ["node"] + [str(id(layer))
        ...                                                     for layer in m.layers]
        True
        >>> [(e.get_source(), e.get_destination()) for e in dot.get_edges()] == [
        ...     (str(id(m.layers[0])), str(id(m.layers[1])))]
        True
    """
    if not getattr(model, "built", True):
        raise ValueError("model_to_dot expects a built model; received an unbuilt "
                         f"{type(model).__name__}. Build it first: call `build()`, or call "
                         "the model on a batch of data.")
    _require_pydot("model_to_dot")
    dot = _new_dot(model, subgraph, rankdir, dpi, splines)
    opts = {"show_shapes": show_shapes, "show_dtype": show_dtype,
            "show_layer_names": show_layer_names,
            "show_layer_activations": show_layer_activations, "show_trainable": show_trainable}
    nested = {"rankdir": rankdir, "expand_nested": expand_nested, "dpi": dpi,
              "splines": splines}
    if not _is_model(model):
        dot.add_node(_make_node(model, opts))
        return dot
    layers = list(model.layers)
    _add_layers(dot, model, layers, opts, nested)
    if _is_class(model, "Sequential"):
        for src, dst in zip(layers, layers[1:]):
            if expand_nested:
                src, dst = _exit_layer(src), _entry_layer(dst)
            _add_edge(dot, src, dst)
    else:
        _functional_edges(dot, model, expand_nested)
    return dot


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False,
               splines: str = "ortho") -> Any:
    """Draws the model's layer graph to `to_file` (format from its extension, "png" when it
    has none), as Keras. Needs pydot and Graphviz's `dot` program (`pip install
    "kiln[plot]"` plus Graphviz itself). Returns an IPython `Image` when IPython is
    installed (and the file is not a PDF), else None.

    Defaults are Keras 3's (`show_layer_names=False` here, True in `model_to_dot`).

    Example:
        >>> import kiln, shutil, tempfile, os
        >>> x = kiln.Input((3,))
        >>> m = kiln.Model(x, kiln.layers.Dense(1)(x))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.png")
        >>> if shutil.which("dot"):
        ...     _ = kiln.utils.plot_model(m, to_file=path)
    """
    if not getattr(model, "built", True):
        raise ValueError("plot_model expects a built model; received an unbuilt "
                         f"{type(model).__name__}. Build it first: call `build()`, or call "
                         "the model on a batch of data.")
    _require_pydot("plot_model")
    _require_graphviz()
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf" and importlib.util.find_spec("IPython") is not None:
        return importlib.import_module("IPython.display").Image(filename=to_file)
    return None


# -- plot_history (a kiln addition) ---------------------------------------------------------

def _matplotlib_figure() -> Any:
    """matplotlib's `Figure` class, imported on first use: importing matplotlib takes about
    a second, which `import kiln` should not pay. No pyplot and no global backend change:
    the figure is drawn by the Agg canvas of `Figure.savefig`."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError("plot_history needs matplotlib, which is not installed. Install "
                          f"it with: {_EXTRA} (or pip install matplotlib).")
    return importlib.import_module("matplotlib.figure").Figure


def _history_dict(history: Any) -> dict:
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError("plot_history expects the History that fit() returns, or its "
                        f"`history` dict; received {type(history).__name__}.")
    return logs


def plot_history(history: Any, metrics: list[str] | None = None,
                 to_file: str | None = None) -> Any:
    """Plots a fit's curves: one subplot per metric, the training values and, where the
    logs have them, the `val_` values, against the epoch. A kiln addition (Keras has no
    such helper). Needs matplotlib (`pip install "kiln[plot]"`); draws with the Agg
    canvas, without pyplot, so it works headless and leaves matplotlib's backend alone.

    Args:
        history: the `History` that `fit()` returns, or its `history` dict.
        metrics: the metric names to plot (without `val_`); default: every training key.
        to_file: if given, the figure is saved there (format from the extension).

    Returns:
        The matplotlib `Figure`.

    Example:
        >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss']
        >>> [line.get_label() for line in fig.axes[0].get_lines()]
        ['loss', 'val_loss']
    """
    logs = _history_dict(history)
    names = list(metrics) if metrics is not None else [k for k in logs
                                                        if not k.startswith("val_")]
    missing = [m for m in names if m not in logs and f"val_{m}" not in logs]
    if missing or not names:
        raise ValueError(f"plot_history: no values for metrics {missing or names}. Expected "
                         f"names among {sorted(logs)}; received metrics={metrics!r}.")
    figure = _matplotlib_figure()(figsize=(5 * len(names), 3.5), layout="constrained")
    for ax, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        for key in (name, f"val_{name}"):
            if key in logs:
                values = [float(v) for v in logs[key]]
                ax.plot(range(1, len(values) + 1), values, marker="o", label=key)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend()
    if to_file is not None:
        figure.savefig(os.fspath(to_file))
    return figure
