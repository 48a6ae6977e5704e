"""Keras 3's `model.weights.h5` layout: one group per saveable, found by walking attributes.

A layer at path `p` keeps its own variables (trainable first, then non-trainable) as datasets
`p/vars/0`, `p/vars/1`, ...; a model's layers live under `p/layers/<snake_case_class>[_N]`;
other sub-layers under `p/<attribute>` (public attributes first, then private, each sorted);
the optimizer under `optimizer/vars/N`.

Example:
    >>> import kiln
    >>> model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    >>> sorted(variable_paths(model))
    ['layers/dense/vars/0', 'layers/dense/vars/1']
"""

from __future__ import annotations

import io
import itertools
import re
import threading
import warnings
from typing import Any

import h5py
import jax
import numpy as np

from .._utils import overrides
from ..layers._layer import Layer
from ..optimizers._state import build_order
from . import _safety

__all__ = [
    "load_weights_file",
    "save_weights_file",
    "snapshot",
    "snapshot_bytes",
    "variable_paths",
    "walk",
    "write_snapshot",
]

_SKIP = {"_inbound_nodes", "_parent", "_graph_layers", "_layers", "_input_layer", "optimizer",
         "_compiled", "_session", "history"}
_templates: dict[tuple, tuple[bytes, list | None]] = {}  # layout -> (file bytes, data offsets)
_MAX_TEMPLATE_BYTES = 1 << 28  # all kept files together; a bigger one is rebuilt each save
_templates_lock = threading.Lock()
_image_names = itertools.count()
# kiln attribute -> the (public) attribute name under which Keras writes the sub-layer.
_ALIASES = {"_query_dense": "query_dense", "_key_dense": "key_dense",
            "_value_dense": "value_dense", "_output_dense": "output_dense"}


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


def _children(layer: Layer) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if hasattr(layer, "_layers") or (hasattr(layer, "_graph_layers")
                                      and getattr(layer, "_functional", None) is not None):
        out.append(("layers", list(layer.layers)))
    attrs = [(_ALIASES.get(k, k), v) for k, v in vars(layer).items() if k not in _SKIP]
    for name, value in sorted(attrs, key=lambda kv: _name_key(kv[0])):
        if isinstance(value, Layer):
            out.append((name, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value):
            out.append((name, list(value)))
    return out


def walk(layer: Layer, path: str = "", seen: set | None = None) -> list[tuple[str, Layer]]:
    """`(group path, layer)` for `layer` and every sub-layer, in Keras's visiting order."""
    seen = set() if seen is None else seen
    if id(layer) in seen:
        return []
    seen.add(id(layer))
    out = [(path, layer)]
    for name, child in _children(layer):
        sub = f"{path}/{name}" if path else name
        if isinstance(child, Layer):
            out += walk(child, sub, seen)
            continue
        used: dict[str, int] = {}
        for item in child:
            base = _snake(type(item).__name__)
            n = used.get(base, 0)
            used[base] = n + 1
            out += walk(item, f"{sub}/{base}" + (f"_{n}" if n else ""), seen)
    return out


def _own(layer: Layer) -> list[Any]:
    return layer._ordered_own()


def variable_paths(model: Layer) -> dict[str, Any]:
    """Dataset path -> Variable for every layer variable of `model`."""
    out = {}
    for path, layer in walk(model):
        prefix = f"{path}/vars" if path else "vars"
        for i, var in enumerate(_own(layer)):
            out[f"{prefix}/{i}"] = var
    return out


def _own_store(layer: Any) -> dict[str, np.ndarray]:
    """What a layer's own `save_own_variables(store)` writes (Keras's hook for extra state)."""
    store: dict[str, Any] = {}
    layer.save_own_variables(store)
    return {str(k): np.asarray(v) for k, v in store.items()}


def snapshot(model: Layer) -> list[tuple]:
    """Host copies of `model`'s (and its built optimizer's) variables, taken now in one
    `jax.device_get`: `(group path, name attribute, [array, ...])` per group, in file order
    (a fourth item names the datasets of a layer with its own `save_own_variables`)."""
    groups, values, custom = [], [], {}
    for path, layer in walk(model):
        group = f"{path}/vars" if path else "vars"
        if overrides(layer, "save_own_variables"):
            custom[group] = _own_store(layer)
            groups.append((group, layer.name, 0))
            continue
        own = [v.value for v in _own(layer)]
        groups.append((group, layer.name, len(own)))
        values += own
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "built", False):
        _keras_order(model, opt)
        own = list(opt.variables)
        groups.append(("optimizer/vars", opt.name, len(own)))
        values += own
    host = iter(jax.device_get(values))
    return [(path, name, list(custom[path].values()), list(custom[path])) if path in custom
            else (path, name, [np.asarray(next(host)) for _ in range(n)])
            for path, name, n in groups]


def write_snapshot(groups: list[tuple[str, str, list[np.ndarray]]], fileobj: Any,
                   attrs: dict | None = None) -> None:
    """Writes what `snapshot` returned (plus root `attrs`) to an open binary file."""
    fileobj.write(snapshot_bytes(groups, attrs))


def _keys(group: tuple) -> list[str]:
    """The dataset names of a snapshot group: "0", "1", ... unless the group names them."""
    return list(group[3]) if len(group) > 3 else [str(i) for i in range(len(group[2]))]


def _layout_key(groups: list[tuple]) -> tuple:
    return tuple((g[0], g[1], tuple(_keys(g)),
                  tuple((a.shape, str(a.dtype), a.dtype.str) for a in g[2])) for g in groups)


def _build(groups: list[tuple[str, str, list[np.ndarray]]]) -> tuple[bytes, list | None]:
    """The file's bytes, and the byte offset of each array's data in them (None when some
    array is not stored raw and contiguous, so the bytes cannot be patched in place)."""
    offsets: list | None = []
    name = f"kiln-weights-{next(_image_names)}.h5"  # in memory only: nothing is written there
    with h5py.File(name, "w", driver="core", backing_store=False) as f:
        for entry in groups:
            path, name, arrays = entry[:3]
            group = f.require_group(path)
            group.attrs["name"] = name
            for key, array in zip(_keys(entry), arrays):
                ds = group.create_dataset(key, data=array)
                raw = array.dtype.kind in "biuf" and array.dtype.isnative and ds.dtype == array.dtype
                offset = ds.id.get_offset() if array.size else -1
                if offsets is not None and raw and offset is not None:
                    offsets.append(offset)
                else:
                    offsets = None
        f.flush()
        return f.id.get_file_image(), offsets


def snapshot_bytes(groups: list[tuple[str, str, list[np.ndarray]]],
                   attrs: dict | None = None) -> bytes:
    """The weights file of `snapshot`'s groups (plus root `attrs`), as bytes. The layout of
    a model's file does not change from one save to the next, so the first file of a layout
    is kept and later ones only copy the new array bytes into it."""
    key = _layout_key(groups)
    with _templates_lock:  # saves run in background threads
        image, offsets = _templates.get(key) or (None, None)
    if image is None or offsets is None:
        image, offsets = _build(groups)
        with _templates_lock:
            if sum(len(t[0]) for t in _templates.values()) + len(image) > _MAX_TEMPLATE_BYTES:
                _templates.clear()
            if len(image) <= _MAX_TEMPLATE_BYTES:
                _templates[key] = (image, offsets)
    else:
        buf = bytearray(image)
        arrays = [a for entry in groups for a in entry[2]]
        for offset, array in zip(offsets, arrays, strict=True):
            if offset >= 0:
                data = np.ascontiguousarray(array).tobytes()
                buf[offset:offset + len(data)] = data
        image = bytes(buf)
    if not attrs:
        return image
    out = io.BytesIO(image)
    with h5py.File(out, "r+") as f:
        for name, value in attrs.items():
            f.attrs[name] = value
    return out.getvalue()


def save_weights_file(model: Layer, fileobj: Any) -> None:
    """Writes `model`'s (and its built optimizer's) variables to an open binary file."""
    write_snapshot(snapshot(model), fileobj)


def load_weights_file(model: Layer, fileobj: Any, size: int, skip_mismatch: bool = False,
                      with_optimizer: bool = True) -> None:
    """Reads a weights file into `model`: every tensor is checked and staged first, then all
    are assigned, so a mismatch leaves every variable unchanged."""
    with h5py.File(fileobj, "r") as f:
        arrays = _safety.check_h5(f, size)
        custom = {(f"{path}/vars" if path else "vars"): layer for path, layer in walk(model)
                  if overrides(layer, "load_own_variables")}
        mine = {k: v for k, v in arrays.items() if k.rsplit("/", 1)[0] in custom}
        expected = {k: v for k, v in variable_paths(model).items()
                    if k.rsplit("/", 1)[0] not in custom}
        staged = _stage(expected, {k: v for k, v in arrays.items() if k not in mine},
                        skip_mismatch)
        opt = getattr(model, "optimizer", None)
        opt_store = {k.split("/")[-1]: v for k, v in arrays.items() if k.startswith("optimizer/")}
    for var, value in staged:
        var.assign(value)
    for group, layer in custom.items():  # the layer's own `load_own_variables`, as Keras
        layer.load_own_variables({k.rsplit("/", 1)[1]: v for k, v in mine.items()
                                  if k.rsplit("/", 1)[0] == group})
    if with_optimizer and opt is not None and opt_store:
        if not opt.built:
            opt.build({v.path: v.value for v in model.trainable_weights})
        _keras_order(model, opt)
        opt.load_own_variables(opt_store)


def _keras_order(model: Layer, opt: Any) -> None:
    """Makes the optimizer list its slots in the model's `trainable_weights` order (Keras's
    file order), whatever order its `{path: array}` params dict was built in."""
    params = {v.path: v.value for v in model.trainable_weights}
    if getattr(opt, "_keys", None) is not None and set(opt._keys) == set(params):
        opt._order = build_order(params)


def _stage(expected: dict[str, Any], arrays: dict[str, np.ndarray],
           skip_mismatch: bool) -> list[tuple[Any, np.ndarray]]:
    staged, problems = [], []
    for path, var in expected.items():
        if path not in arrays:
            problems.append(f"variable '{var.path}' (file path '{path}', shape {var.shape}) is "
                            "missing from the file")
            continue
        value = arrays[path]
        if tuple(value.shape) != tuple(var.shape):
            problems.append(f"variable '{var.path}' (file path '{path}') has shape {var.shape} "
                            f"in the model but {tuple(value.shape)} in the file")
            continue
        staged.append((var, value))
    extra = [p for p in arrays if p not in expected and not p.startswith("optimizer/")
             and "seed_generator" not in p]
    problems += [f"the file has a tensor '{p}' of shape {arrays[p].shape} that the model has "
                 "no variable for" for p in extra]
    if problems and not skip_mismatch:
        raise ValueError("The weights file does not match the model: " + "; ".join(problems)
                         + ". No variable was changed. Build the same architecture as the saved "
                         "model, or pass skip_mismatch=True to skip these.")
    for p in problems:
        warnings.warn(f"Skipping: {p}.", stacklevel=3)
    return staged
