"""Reader for Keras's legacy HDF5 files: whole models (`model.save("m.h5")`) and weights.

Layout: a `layer_names` attribute (on the root of a weights file, on the `model_weights` group
of a model file) lists the layers; each layer is a group whose `weight_names` attribute lists
its datasets (paths inside the group: "dense/kernel:0" from Keras 2, "dense/kernel" or
"sequential/dense/kernel" from Keras 3) in the order trainable, then non-trainable. A model
file adds the root attributes `model_config` and `training_config` (JSON) and the group
`optimizer_weights` (its own `weight_names`, in `optimizer.variables` order). Every dataset
is read through `_safety.check_h5` (no links, external or virtual storage, no bombs) before
any is used, and every shape is checked before any weight changes.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, NamedTuple

import h5py
import numpy as np

from kiln.saving._h5_weights import _keras_order
from kiln.saving._safety import check_h5, check_name

__all__ = ["LegacyFile", "is_legacy_h5", "load_legacy_weights", "modernize", "read_legacy",
           "restore_optimizer", "stage_layers"]

_MODELS = ("Functional", "Sequential", "Model")


class LegacyFile(NamedTuple):
    """What a legacy file holds, read and checked: configs (None when absent), the layers'
    arrays in `layer_names` order, and the optimizer's arrays in their saved order."""
    model_config: dict | None
    training_config: dict | None
    layers: list[tuple[str, list[np.ndarray]]]
    optimizer: list[np.ndarray]


def _text(v: Any) -> str:
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def _names(group: h5py.Group, name: str) -> list[str]:
    """A string-list attribute, also when Keras split it into `name0`, `name1`, ..."""
    if name in group.attrs:
        return [_text(n) for n in np.atleast_1d(group.attrs[name])]
    out, i = [], 0
    while f"{name}{i}" in group.attrs:
        out += [_text(n) for n in np.atleast_1d(group.attrs[f"{name}{i}"])]
        i += 1
    return out


def is_legacy_h5(filepath: str) -> bool:
    """True for an HDF5 file with Keras 2's `layer_names` attribute.

    Example:
        >>> import tempfile, os, h5py
        >>> p = os.path.join(tempfile.mkdtemp(), "w.h5")
        >>> with h5py.File(p, "w") as f:
        ...     f.attrs["layer_names"] = [b"dense"]
        >>> is_legacy_h5(p)
        True
    """
    if not h5py.is_hdf5(filepath):
        return False
    with h5py.File(filepath, "r") as f:
        root = f if "layer_names" in f.attrs else f.get("model_weights", f)
        return isinstance(root, h5py.Group) and "layer_names" in root.attrs


def _json_attr(f: h5py.File, name: str, filepath: str) -> dict | None:
    if name not in f.attrs:
        return None
    try:
        value = json.loads(_text(f.attrs[name]))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{filepath!r}: the '{name}' attribute is not valid JSON ({e}). The "
                         "file is malformed; re-save it with kiln or Keras.") from e
    if not isinstance(value, dict):
        raise ValueError(f"{filepath!r}: the '{name}' attribute holds "
                         f"{type(value).__name__}, expected a dict.")
    return value


def _listed(group: h5py.Group, prefix: str, arrays: dict, filepath: str) -> list[np.ndarray]:
    names = _names(group, "weight_names")
    missing = [n for n in names if f"{prefix}{n}" not in arrays]
    if missing:
        raise ValueError(f"The file {filepath!r} lists weights {missing} under '{prefix}' but "
                         "holds no such datasets. The file is malformed; re-save it.")
    return [arrays[f"{prefix}{n}"] for n in names]


def read_legacy(filepath: str) -> LegacyFile:
    """Reads a legacy HDF5 file after the safety checks (ValueError if it is not one).

    Example:
        >>> import tempfile, os, h5py, numpy as np
        >>> p = os.path.join(tempfile.mkdtemp(), "w.h5")
        >>> with h5py.File(p, "w") as f:
        ...     f.attrs["layer_names"] = [b"d"]
        ...     f.create_group("d").attrs["weight_names"] = [b"d/bias"]
        ...     _ = f["d"].create_dataset("d/bias", data=np.zeros(2, "float32"))
        >>> [(n, [a.shape for a in w]) for n, w in read_legacy(p).layers]
        [('d', [(2,)])]
    """
    try:
        with h5py.File(filepath, "r") as f:
            return _read_open(f, filepath)
    except OSError as e:
        raise ValueError(f"Cannot read {filepath!r} as HDF5 ({e}). Is it a complete .h5 file "
                         "saved by kiln or Keras?") from e


def _read_open(f: h5py.File, filepath: str) -> LegacyFile:
    arrays = check_h5(f, os.path.getsize(filepath))
    prefix = "" if "layer_names" in f.attrs or "model_weights" not in f else "model_weights/"
    root = f[prefix] if prefix else f
    if not isinstance(root, h5py.Group) or "layer_names" not in root.attrs:
        raise ValueError(f"{filepath!r} is not a legacy Keras HDF5 file: it has no "
                         "'layer_names' attribute. Load '.weights.h5' files with load_weights "
                         "and '.keras' archives with load_model.")
    layers = []
    for lname in _names(root, "layer_names"):
        check_name(lname)
        if lname not in root or not isinstance(root[lname], h5py.Group):
            raise ValueError(f"{filepath!r} lists the layer '{lname}' but has no group for it. "
                             "The file is malformed; re-save it.")
        layers.append((lname, _listed(root[lname], f"{prefix}{lname}/", arrays, filepath)))
    opt = f.get("optimizer_weights")
    optimizer = _listed(opt, "optimizer_weights/", arrays, filepath) if isinstance(
        opt, h5py.Group) else []
    return LegacyFile(_json_attr(f, "model_config", filepath),
                      _json_attr(f, "training_config", filepath), layers, optimizer)


def modernize(entry: Any) -> Any:
    """A legacy `model_config` entry in the `.keras` form kiln reads: the `module` that the
    legacy writer leaves out, Keras 2's `Model`, `batch_input_shape` and list `axis`, and a
    Keras 2 Lambda's `[code, defaults, closure]` as the bytecode dict (always refused).

    Example:
        >>> modernize({"class_name": "Dense", "config": {"units": 2}})["module"]
        'keras.layers'
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return entry
    entry = dict(entry)
    cfg = entry["config"] = dict(entry["config"])
    entry.setdefault("module", "keras.models" if entry.get("class_name") in _MODELS
                     else "keras.layers")
    if entry.get("class_name") == "Model" and "input_layers" in cfg:  # Keras 2's name
        entry["class_name"] = "Functional"
    if "batch_input_shape" in cfg:
        key = "batch_shape" if entry.get("class_name") == "InputLayer" else "input_shape"
        cfg[key] = cfg.pop("batch_input_shape")
    if isinstance(cfg.get("axis"), list) and len(cfg["axis"]) == 1:
        cfg["axis"] = int(cfg["axis"][0])
    if entry.get("class_name") == "Lambda" and isinstance(cfg.get("function"), list):
        cfg["function"] = {"class_name": "__lambda__", "config": {"code": cfg["function"][0]}}
    if isinstance(cfg.get("layers"), list):
        cfg["layers"] = [modernize(e) for e in cfg["layers"]]
    return entry


def _legacy_vars(layer: Any) -> list[Any]:
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _pairs(model: Any, stored: list, mode: str) -> list[tuple[Any, str, list | None]]:
    """(layer, file layer name, arrays or None when absent) for each weighted layer."""
    weighted = [layer for layer in model.layers if _legacy_vars(layer)]
    saved = [(n, a) for n, a in stored if a]
    if mode == "auto":
        mode = "name" if {n for n, _ in saved} == {ly.name for ly in weighted} else "order"
    if mode != "order":
        by = dict(saved)
        return [(ly, ly.name, by.get(ly.name)) for ly in weighted]
    if len(saved) != len(weighted):
        raise ValueError(f"Layer count mismatch: the model has {len(weighted)} layers with "
                         f"weights, the file {len(saved)} ({[n for n, _ in saved]}). Fix: build "
                         "the architecture that was saved, or pass by_name=True.")
    return [(ly, n, a) for ly, (n, a) in zip(weighted, saved)]


def _problem(variables: list, got: list | None) -> str | None:
    if got is None:
        return "is not in the file"
    if len(got) != len(variables):
        return f"has {len(variables)} weights but the file holds {len(got)}"
    want = [tuple(v.shape) for v in variables]
    if want != [a.shape for a in got]:
        return f"has weight shapes {want} but the file holds {[a.shape for a in got]}"
    return None


def stage_layers(model: Any, stored: list, mode: str = "name", skip_mismatch: bool = False,
                 filepath: str = "") -> list[tuple[Any, np.ndarray]]:
    """(variable, array) pairs for `model`'s layers, every count and shape checked first.

    mode: "name" (every weighted layer must be in the file under its name), "by_name"
    (Keras's `by_name=True`: layers not in the file are skipped), "order" (Keras's
    topological default: the n-th weighted layer takes the n-th saved one), or "auto"
    ("name" when both hold the same layer names, else "order").
    """
    staged = []
    for layer, fname, got in _pairs(model, stored, mode):
        if got is None and mode == "by_name":
            continue
        variables = _legacy_vars(layer)
        problem = _problem(variables, got)
        if problem is None:
            staged += list(zip(variables, got))
        elif skip_mismatch:
            warnings.warn(f"Skipping layer '{layer.name}' of {filepath!r}: it {problem}.",
                          stacklevel=3)
        else:
            raise ValueError(f"Cannot load {filepath!r}: layer '{layer.name}' (file layer "
                             f"'{fname}') {problem}. No weight was changed. Fix: build the "
                             "model with the same architecture and input shapes as the "
                             "file, or pass skip_mismatch=True.")
    return staged


def load_legacy_weights(model: Any, filepath: str, skip_mismatch: bool = False,
                        mode: str = "name") -> None:
    """Loads a legacy HDF5 weight (or model) file into `model` (modes: `stage_layers`).

    Every weighted layer must match in count and shapes (else ValueError, nothing changed),
    unless `skip_mismatch`, which skips those layers with a warning.

    Example:
        >>> import tempfile, os, h5py, numpy as np, kiln
        >>> m = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1, name="d")])
        >>> p = os.path.join(tempfile.mkdtemp(), "w.h5")
        >>> with h5py.File(p, "w") as f:
        ...     f.attrs["layer_names"] = [b"d"]
        ...     g = f.create_group("d"); g.attrs["weight_names"] = [b"d/kernel:0", b"d/bias:0"]
        ...     _ = g.create_dataset("d/kernel:0", data=np.ones((2, 1), "float32"))
        ...     _ = g.create_dataset("d/bias:0", data=np.zeros((1,), "float32"))
        >>> load_legacy_weights(m, p); float(m.layers[-1].get_weights()[0].sum())
        2.0
    """
    for var, value in stage_layers(model, read_legacy(filepath).layers, mode, skip_mismatch,
                                   filepath):
        var.assign(value)


def restore_optimizer(model: Any, values: list[np.ndarray], filepath: str) -> None:
    """Builds `model.optimizer` and sets the saved `optimizer_weights`; a count or shape
    mismatch warns and keeps the fresh state (as Keras does)."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not values:
        return
    opt.build({v.path: v.value for v in model.trainable_weights})
    _keras_order(model, opt)
    want = [tuple(np.shape(v)) for v in opt.variables]
    if want != [a.shape for a in values]:
        warnings.warn(f"Not restoring the optimizer state of {filepath!r}: the optimizer has "
                      f"variables of shapes {want} but the file holds "
                      f"{[a.shape for a in values]}. Training starts from a fresh optimizer.",
                      stacklevel=3)
        return
    opt.set_weights(values)
