"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts.

The table is drawn without the `rich` library but to the same layout: Keras asks rich for
columns at `positions` of `line_length`, rich adds one space of padding on each side and then
takes the excess back evenly from the columns (`ratio_reduce`); cells wrap at spaces, and a
word too long for its cell is cut with an ellipsis. Header cells sit at the bottom of their
row, body cells at the top.
"""

from __future__ import annotations

import re
import shutil
from typing import Any, Callable

import jax
import numpy as np

from ..utils._progbar import stdout_can_encode

# Keras's rich box: heavy lines around the header, light lines between rows.
_BOX = {"top": "┏━┳┓", "head": "┃┃┃", "head_rule": "┡━╇┩", "body": "│││",
        "rule": "├─┼┤", "bottom": "└─┴┘", "ellipsis": "…"}
_ASCII_BOX = {"top": "+-++", "head": "|||", "head_rule": "+=++", "body": "|||",
              "rule": "+-++", "bottom": "+-++", "ellipsis": "."}


# -- sizes ----------------------------------------------------------------------------------------

def _bits(dtype: Any) -> int:
    dtype = np.dtype(getattr(dtype, "name", dtype)) if not hasattr(dtype, "itemsize") else dtype
    return 1 if dtype == np.bool_ else dtype.itemsize * 8  # Keras counts a bool as one bit


def count_params(weights: list[Any]) -> int:
    """The number of scalars in `weights`."""
    return int(sum(int(np.prod(np.shape(w), dtype=np.int64)) for w in weights))


def weight_memory_size(weights: list[Any]) -> float:
    """Bytes used by the distinct `weights`, from each one's dtype."""
    unique = {id(w): w for w in weights}.values()
    bits = sum(int(np.prod(np.shape(w), dtype=np.int64)) * _bits(w.dtype) for w in unique)
    return bits / 8


def readable_memory_size(size: float) -> str:
    """`260.0` -> `"260.00 B"`, `1260.0` -> `"1.23 KB"` (powers of 1024, as Keras)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


# -- cell contents --------------------------------------------------------------------------------

def _is_shape(x: Any) -> bool:
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in x)


def _format_shape(shape: Any) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"  # Keras writes (None) for 1-D shapes


def format_output_shape(layer: Any) -> str:
    """`"(None, 3)"`, a structure of them for several outputs, or `"?"` if unknown."""
    info = getattr(layer, "output_shape_info", None)
    build_shape = getattr(layer, "_build_shape", None)
    if info is None and build_shape is not None:
        # Called on arrays only (inside a subclassed model): as Keras, show the output shape
        # for the shape it was built with (batch size included).
        try:
            info = layer.compute_output_shape(build_shape)
        except Exception:  # a layer whose shapes cannot be evaluated alone is shown as "?"
            info = None
    if info is None:
        return "?"
    if _is_shape(info):
        return _format_shape(info)
    leaves = jax.tree_util.tree_leaves(info, is_leaf=_is_shape)
    if len(leaves) == 1:
        return _format_shape(leaves[0])
    text = str(jax.tree_util.tree_map(_format_shape, info, is_leaf=_is_shape))
    return text.replace("'", "")


def _param_text(layer: Any) -> str:
    if not hasattr(layer, "built"):
        return "0"
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _trainable_text(layer: Any) -> str:
    if not getattr(layer, "weights", None):
        return "-"
    return "Y" if layer.trainable else "N"


# -- graph facts for functional models ------------------------------------------------------------

def _graph_nodes(model: Any) -> list[Any] | None:
    """Input nodes then the model's other nodes, or None when the model is not functional."""
    functional = getattr(model, "_functional", None)
    if not functional:
        return None
    inputs, _, nodes = functional
    input_nodes = [t.node for t in jax.tree_util.tree_leaves(
        inputs, is_leaf=lambda t: hasattr(t, "node")) if getattr(t, "node", None) is not None]
    return input_nodes + list(nodes)


def _is_sequential_like(nodes: list[Any]) -> bool:
    """Keras's test: one node per depth, each with one input, and no layer called twice."""
    depth: dict[int, int] = {}
    for node in reversed(nodes):
        d = depth.setdefault(id(node), 0)
        for parent in node.parents:
            if parent.node is not None:
                depth[id(parent.node)] = max(depth.get(id(parent.node), 0), d + 1)
    per_depth: dict[int, int] = {}
    for node in nodes:
        per_depth[depth[id(node)]] = per_depth.get(depth[id(node)], 0) + 1
        if len(node.parents) > 1:
            return False
    if any(count > 1 for count in per_depth.values()):
        return False
    calls: dict[int, int] = {}
    for node in nodes:
        calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
    return all(count == 1 for count in calls.values())


def _connections(layer: Any, node_ids: set[int]) -> str:
    """`"dense[0][0], dense_1[0][0]"`: the layer, call index and output index of each input."""
    parts = []
    for node in getattr(layer, "_inbound_nodes", []):
        if id(node) not in node_ids:
            continue
        for tensor in node.parents:
            source = tensor.node.layer
            index = next((i for i, n in enumerate(source._inbound_nodes) if n is tensor.node), 0)
            parts.append(f"{source.name}[{index}][{tensor.index}]")
    return ", ".join(parts) or "-"


# -- table layout ----------------------------------------------------------------------------------

def _column_widths(line_length: int, positions: list[float]) -> list[int]:
    """Cell widths (padding included) as rich computes them for Keras's table."""
    requested, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current if pos <= 1 else int(pos) - current
        if width < 4:
            raise ValueError(f"summary(line_length={line_length}) is too narrow for the table: "
                             f"a column would be {width} characters wide (at least 4 needed). "
                             "Pass a larger line_length.")
        requested.append(width + 2)  # one space of padding on each side
        current += width
    # Borders take len+1 characters; rich removes the excess evenly (round half to even).
    excess = sum(requested) - (line_length - len(requested) - 1)
    widths, remaining_ratio = [], len(requested)
    for width in requested:
        cut = min(width, round(excess / remaining_ratio)) if excess > 0 else 0
        widths.append(width - cut)
        excess -= cut
        remaining_ratio -= 1
    return widths


def _break_offsets(text: str, width: int) -> list[int]:
    """Where rich breaks a line (words keep trailing spaces; long words are not folded)."""
    breaks, offset = [], 0
    for match in re.finditer(r"\s*\S+\s*", text):
        start, word = match.start(), match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width or (offset and start):
            if start:
                breaks.append(start)
            offset = len(word)
    return breaks


def _wrap(text: str, width: int, align: str, ellipsis: str) -> list[str]:
    lines = []
    for paragraph in text.split("\n"):
        bounds = [0] + _break_offsets(paragraph, width) + [len(paragraph)]
        for a, b in zip(bounds, bounds[1:]):
            piece = paragraph[a:b].rstrip()
            if len(piece) > width:
                piece = piece[:max(width - 1, 0)] + ellipsis
            pad = width - len(piece)
            if align == "right":
                piece = " " * pad + piece
            elif align == "center":
                piece = " " * (pad // 2) + piece + " " * (pad - pad // 2)
            else:
                piece = piece + " " * pad
            lines.append(piece)
    return lines or [" " * width]


def _row_lines(cells: list[str], widths: list[int], aligns: list[str], bottom: bool,
               edge: str, ellipsis: str) -> list[str]:
    wrapped = [_wrap(c, w - 2, a, ellipsis) for c, w, a in zip(cells, widths, aligns)]
    height = max(len(lines) for lines in wrapped)
    blank = [[" " * (w - 2)] for w in widths]
    wrapped = [(b * (height - len(lines)) + lines) if bottom else (lines + b * (height - len(lines)))
               for lines, b in zip(wrapped, blank)]
    return [edge[0] + edge[1].join(f" {wrapped[c][i]} " for c in range(len(cells))) + edge[2]
            for i in range(height)]


def _rule(widths: list[int], chars: str) -> str:
    return chars[0] + chars[2].join(chars[1] * w for w in widths) + chars[3]


def render_table(header: list[str], rows: list[list[str]], aligns: list[str],
                 line_length: int, positions: list[float], box: dict[str, str]) -> list[str]:
    """The table's lines, each `line_length` characters wide."""
    widths = _column_widths(line_length, positions)
    out = [_rule(widths, box["top"])]
    out += _row_lines(header, widths, aligns, True, box["head"], box["ellipsis"])
    out.append(_rule(widths, box["head_rule"]))
    for i, row in enumerate(rows):
        if i:
            out.append(_rule(widths, box["rule"]))
        out += _row_lines(row, widths, aligns, False, box["body"], box["ellipsis"])
    out.append(_rule(widths, box["bottom"]))
    return out


# -- the summary ---------------------------------------------------------------------------------

def _layer_range(layers: list[Any], layer_range: Any) -> tuple[int, int]:
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(n, str) for n in layer_range):
        raise ValueError("layer_range must be two layer names (or regexes), first and last "
                         f"shown; received {layer_range!r}.")
    low = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    high = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not low or not high:
        raise ValueError(f"layer_range {layer_range!r} matches no layer; the layers are "
                         f"{[l.name for l in layers]}.")
    if min(low) > max(high):
        return min(high), max(low) + 1
    return min(low), max(high) + 1


def _layer_rows(layer: Any, level: int, columns: dict[str, Any], expand: bool) -> list[list[str]]:
    prefix = "   " * level + "└ " if level else ""
    kind = layer._registered_class_name if getattr(layer, "_is_operation", False) \
        else type(layer).__name__  # a graph operation shows as Keras's (Multiply, Add, ...)
    row = [f"{prefix}{layer.name} ({kind})", format_output_shape(layer),
           _param_text(layer)]
    if "connections" in columns:
        row.append(_connections(layer, columns["connections"]))
    if columns.get("trainable"):
        row.append(_trainable_text(layer))
    rows = [row]
    if expand and getattr(layer, "layers", None):
        for inner in layer.layers:
            rows += _layer_rows(inner, level + 1, columns, expand)
    return rows


def _totals(model: Any) -> list[str]:
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer = getattr(model, "optimizer", None)
    opt_vars = list(optimizer.variables) if getattr(optimizer, "built", False) else None
    groups = [("Trainable params", trainable), ("Non-trainable params", non_trainable)]
    if opt_vars is not None:
        groups.append(("Optimizer params", opt_vars))
    total = sum(count_params(ws) for _, ws in groups)
    size = sum(weight_memory_size(ws) for _, ws in groups)
    lines = [f" Total params: {total:,} ({readable_memory_size(size)})"]
    for label, ws in groups:
        lines.append(f" {label}: {count_params(ws):,} ({readable_memory_size(weight_memory_size(ws))})")
    return lines


def _table_spec(model: Any, positions: list[float] | None, show_trainable: bool) -> tuple:
    """Header, alignments, extra columns, default width and positions, as Keras chooses them."""
    nodes = _graph_nodes(model)
    columns: dict[str, Any] = {"trainable": show_trainable}
    header, aligns = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    default_length, default_positions = 88, [0.45, 0.80, 1.0]
    if nodes is not None and not _is_sequential_like(nodes):
        columns["connections"] = {id(n) for n in nodes}
        header.append("Connected to")
        aligns.append("left")
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        aligns.append("center")
    return header, aligns, columns, default_length, positions


def print_summary(model: Any, line_length: int | None = None, positions: list[float] | None = None,
                  print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None) -> None:
    """Prints Keras 3's summary table of `model`.

    Args:
        model: a kiln Model (Sequential, functional or subclassed).
        line_length: the table's width; default min(88, terminal width - 4), or 108 when a
            "Connected to" column is shown (functional models that are not a simple chain).
        positions: the right edge of each column, as fractions of `line_length`.
        print_fn: called once with the whole summary text (as Keras 3 does); default print.
        expand_nested: also list the layers of nested models, indented.
        show_trainable: add a column saying whether each layer is trainable.
        layer_range: two layer names (or regexes): the first and last layers to list.

    Example:
        >>> import kiln
        >>> model = kiln.Sequential([kiln.Input((4,)), kiln.layers.Dense(3)], name="tiny")
        >>> print_summary(model, line_length=60)  # doctest: +ELLIPSIS
        Model: "tiny"
        ...
    """
    header, aligns, columns, default_length, positions = _table_spec(model, positions,
                                                                     show_trainable)
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)

    layers = list(getattr(model, "operations", None) or model.layers)  # ops too, as Keras
    start, stop = _layer_range(layers, layer_range)
    rows = [r for layer in layers[start:stop]
            for r in _layer_rows(layer, 0, columns, expand_nested)]
    # A console that cannot show the box characters (e.g. ASCII-only) gets a plain table.
    plain = print_fn is None and not stdout_can_encode("".join(_BOX.values()))
    box = _ASCII_BOX if plain else _BOX
    lines = [f'Model: "{model.name}"']
    lines += render_table(header, rows, aligns, line_length, positions, box)
    lines += _totals(model)
    text = "\n".join(lines) + "\n"
    if print_fn is not None:
        print_fn(text)
    else:
        print(text, end="")
