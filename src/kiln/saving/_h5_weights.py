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

import re
import warnings
from typing import Any

import h5py
import numpy as np

from ..layers._layer import Layer
from ..optimizers._state import build_order
from . import _safety

__all__ = ["load_weights_file", "save_weights_file", "variable_paths", "walk"]

_SKIP = {"_inbound_nodes", "_parent", "_graph_layers", "_layers", "_input_layer", "optimizer",
         "_compiled", "_session", "history"}
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
    if hasattr(layer, "_graph_layers") or hasattr(layer, "_layers"):
        if getattr(layer, "_functional", None) is not None or hasattr(layer, "_layers"):
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
    own = list(getattr(layer, "_variables", []))
    return [v for v in own if v.trainable] + [v for v in own if not v.trainable]


def variable_paths(model: Layer) -> dict[str, Any]:
    """Dataset path -> Variable for every layer variable of `model`."""
    out = {}
    for path, layer in walk(model):
        prefix = f"{path}/vars" if path else "vars"
        for i, var in enumerate(_own(layer)):
            out[f"{prefix}/{i}"] = var
    return out


def save_weights_file(model: Layer, fileobj: Any) -> None:
    """Writes `model`'s (and its built optimizer's) variables to an open binary file."""
    with h5py.File(fileobj, "w") as f:
        for path, layer in walk(model):
            group = f.require_group(f"{path}/vars" if path else "vars")
            group.attrs["name"] = layer.name
            for i, var in enumerate(_own(layer)):
                group.create_dataset(str(i), data=np.asarray(var.value))
        opt = getattr(model, "optimizer", None)
        if opt is not None and getattr(opt, "built", False):
            group = f.require_group("optimizer/vars")
            group.attrs["name"] = opt.name
            store: dict = {}
            _keras_order(model, opt)
            opt.save_own_variables(store)
            for key, value in store.items():
                group.create_dataset(key, data=value)


def load_weights_file(model: Layer, fileobj: Any, size: int, skip_mismatch: bool = False,
                      with_optimizer: bool = True) -> None:
    """Reads a weights file into `model`: every tensor is checked and staged first, then all
    are assigned, so a mismatch leaves every variable unchanged."""
    with h5py.File(fileobj, "r") as f:
        arrays = _safety.check_h5(f, size)
        staged = _stage(variable_paths(model), arrays, skip_mismatch)
        opt = getattr(model, "optimizer", None)
        opt_store = {k.split("/")[-1]: v for k, v in arrays.items() if k.startswith("optimizer/")}
    for var, value in staged:
        var.assign(value)
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
