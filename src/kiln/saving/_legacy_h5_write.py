"""Writer for Keras's legacy HDF5 model file (`model.save("m.h5")`), as Keras 3 writes it.

Root attributes `keras_version`, `backend`, `model_config` and `training_config` (JSON);
group `model_weights` (attributes `layer_names`, `backend`, `keras_version`; one group per
layer with a `weight_names` attribute and its datasets named by variable path, trainable
first; an empty `top_level_model_weights`); group `optimizer_weights` (`weight_names` in
`optimizer.variables` order). The write is atomic (`_archive.atomic_write`).

Example:
    >>> import os, tempfile, h5py, kiln
    >>> m = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2, name="d")], name="s")
    >>> p = os.path.join(tempfile.mkdtemp(), "m.h5")
    >>> save_legacy_model(m, p, kiln.saving.serialize_keras_object(m), None)
    >>> with h5py.File(p) as f:
    ...     print(list(f["model_weights"].attrs["layer_names"]), sorted(f["model_weights/d"]))
    ['d'] ['s']
"""

from __future__ import annotations

import json
from typing import Any

import h5py
import numpy as np

from kiln.saving._archive import KERAS_VERSION, atomic_write
from kiln.saving._h5_weights import _keras_order

__all__ = ["save_legacy_model", "training_config"]

HEADER_LIMIT = 64512  # bytes an HDF5 object header holds; longer lists are split


def _put_names(group: h5py.Group, name: str, names: list[str]) -> None:
    """A string-list attribute, split into `name0`, `name1`, ... when too long (as Keras)."""
    encoded = [n.encode("utf8") for n in names]
    data = np.asarray(encoded) if names else np.asarray([])
    chunks = 1
    while data.nbytes / chunks > HEADER_LIMIT:
        chunks += 1
    if chunks == 1:
        group.attrs[name] = encoded  # a list: h5py stores variable-length strings, as Keras
        return
    for i, part in enumerate(np.array_split(data, chunks)):
        group.attrs[f"{name}{i}"] = part


def _put_arrays(group: h5py.Group, names: list[str], values: list[Any]) -> None:
    used: set[str] = set()
    unique = []
    for i, n in enumerate(names):
        n = n if n not in used else f"{n}_{i}"
        used.add(n)
        unique.append(n)
    _put_names(group, "weight_names", unique)
    for n, v in zip(unique, values):
        group.create_dataset(n, data=np.asarray(v))


def training_config(compile_config: dict | None) -> dict | None:
    """Keras's `training_config` from a `compile_config`: the optimizer moves to
    `optimizer_config` as `{"class_name", "config"}`.

    Example:
        >>> training_config({"optimizer": {"class_name": "SGD", "config": {}}, "loss": "mse"})
        {'loss': 'mse', 'optimizer_config': {'class_name': 'SGD', 'config': {}}}
    """
    if compile_config is None:
        return None
    out = {k: v for k, v in compile_config.items() if k != "optimizer"}
    opt = compile_config.get("optimizer")
    if isinstance(opt, dict):
        opt = {"class_name": opt.get("registered_name") or opt["class_name"],
               "config": opt.get("config", {})}
    out["optimizer_config"] = opt
    return out


def _write_weights(f: h5py.File, model: Any) -> None:
    group = f.create_group("model_weights")
    _put_names(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = b"jax"
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for layer in sorted(model.layers, key=lambda ly: ly.name):
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        _put_arrays(group.create_group(layer.name), [str(v.path) for v in variables],
                    [v.value for v in variables])
    _put_arrays(group.create_group("top_level_model_weights"), [], [])


def _write_optimizer(f: h5py.File, model: Any) -> None:
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", False):
        return
    _keras_order(model, opt)
    values = list(opt.variables)
    lead = ["iteration", "learning_rate"][:2 if opt._lr.schedule is None else 1]
    names = [f"{opt.name}/{n}" for n in lead]
    names += [f"{opt.name}/variable_{i}" for i in range(len(names), len(values))]
    _put_arrays(f.create_group("optimizer_weights"), names, values)


def _write(fileobj: Any, model: Any, model_config: dict, train: dict | None) -> None:
    with h5py.File(fileobj, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "jax"
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        if train is not None:
            f.attrs["training_config"] = json.dumps(train).encode("utf8")
        _write_weights(f, model)
        if train is not None:
            _write_optimizer(f, model)


def save_legacy_model(model: Any, filepath: str, config: dict,
                      compile_config: dict | None) -> None:
    """Writes `model` as a legacy HDF5 model file; `config` is its serialized form and
    `compile_config` its compile config (None: uncompiled, or include_optimizer=False)."""
    model_config = {"class_name": config["class_name"], "config": config["config"]}
    train = training_config(compile_config)
    atomic_write(filepath, lambda fo: _write(fo, model, model_config, train))
