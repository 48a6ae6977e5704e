"""`save_model`, `load_model`, `save_weights`, `load_weights` (Keras 3's file formats).

Example:
    >>> import os, tempfile, numpy as np, kiln
    >>> model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> save_model(model, path)
    >>> x = np.ones((1, 3), "float32")
    >>> bool(np.allclose(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)))
    True
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable
from typing import Any

import h5py

from .. import _serialization
from . import _archive, _assets, _h5_weights, _legacy_h5, _legacy_h5_write

_H5 = (".h5", ".hdf5")

__all__ = ["archive_writer", "load_model", "load_weights", "save_model", "save_weights",
           "weights_writer"]


def _check_overwrite(filepath: str, overwrite: bool) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} already exists and overwrite=False. Pass "
                              "overwrite=True or choose another path.")


def _weights_bytes(model: Any) -> bytes:
    buf = io.BytesIO()
    _h5_weights.save_weights_file(model, buf)
    return buf.getvalue()


def _model_config(model: Any) -> dict:
    """`config.json`: the model's config with its `compile_config`."""
    config = _serialization.serialize(model)
    cc = compile_config(model)
    if cc is not None:
        config["compile_config"] = cc
    return config


def archive_writer(model: Any) -> Callable[[Any], None]:
    """What saving `model` as a `.keras` archive needs, taken now (config, compile config,
    host copies of the weights and optimizer state), as a `write(fileobj)` function that no
    longer touches the model: call it later, in another thread if need be."""
    config = _model_config(model)
    groups, metadata = _h5_weights.snapshot(model), _archive.archive_metadata()
    assets = _assets.collect(model)

    def write(fileobj: Any) -> None:
        buf = io.BytesIO()
        _h5_weights.write_snapshot(groups, buf)
        _archive.write_archive(fileobj, config, buf.getvalue(), metadata, assets)

    return write


def weights_writer(model: Any, attrs: dict | None = None) -> Callable[[Any], None]:
    """As `archive_writer`, for a `.weights.h5` file (with extra root `attrs`)."""
    groups = _h5_weights.snapshot(model)
    return lambda fileobj: _h5_weights.write_snapshot(groups, fileobj, attrs)


def compile_config(model: Any) -> dict | None:
    """Keras's `compile_config` for a compiled model (None when not compiled)."""
    spec = getattr(model, "_compiled", None)
    if spec is None:
        return None
    ser = _serialization.serialize
    spe = spec.steps_per_execution
    return {"optimizer": ser(spec.optimizer), "loss": ser(spec.loss),
            "loss_weights": ser(spec.loss_weights), "metrics": ser(spec.metrics_arg),
            "weighted_metrics": ser(spec.weighted_metrics_arg), "run_eagerly": spec.run_eagerly,
            "steps_per_execution": spe if isinstance(spe, int) else 1, "jit_compile": True}


def _save_kwargs(filepath: str, kwargs: dict) -> bool:
    """`include_optimizer` from Keras's extra `save` arguments (ValueError for others)."""
    include_optimizer = bool(kwargs.pop("include_optimizer", True))
    kwargs.pop("save_format", None)  # deprecated in Keras 3: the extension decides
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}. "
                         "save() takes filepath, overwrite, zipped and include_optimizer.")
    return include_optimizer


def save_model(model: Any, filepath: Any, overwrite: bool = True, zipped: Any = None,
               **kwargs: Any) -> None:
    """Saves `model` as a `.keras` archive (config, compile config, weights, optimizer
    state) that Keras 3 can load, or, for a path ending in '.h5' / '.hdf5', as Keras's legacy
    HDF5 model file (with a warning, as Keras). The write is atomic: a failure leaves the old
    file. `include_optimizer=False` leaves the compile state out of an HDF5 file."""
    filepath = os.fspath(filepath)
    include_optimizer = _save_kwargs(filepath, dict(kwargs))
    legacy = filepath.endswith(_H5) and zipped is not False
    if not legacy and (not filepath.endswith(".keras") or zipped is False):
        raise ValueError(f"Invalid filepath {filepath!r}: kiln saves whole models as zipped "
                         "'.keras' archives (or legacy '.h5' files). Use a path ending in "
                         "'.keras' (or save_weights with '.weights.h5').")
    _check_overwrite(filepath, overwrite)
    if not legacy:
        config = _model_config(model)
        weights, assets = _weights_bytes(model), _assets.collect(model)
        _archive.atomic_write(filepath, lambda f: _archive.write_archive(f, config, weights,
                                                                         assets=assets))
        return
    warnings.warn("You are saving your model as an HDF5 file via `model.save()`. This file "
                  "format is considered legacy. We recommend the native Keras format, "
                  "e.g. `model.save('my_model.keras')`.", UserWarning, stacklevel=2)
    cc = compile_config(model) if include_optimizer else None
    _legacy_h5_write.save_legacy_model(model, filepath, _serialization.serialize(model), cc)


def _revive(value: Any, kind: str) -> Any:
    if isinstance(value, dict) and "class_name" in value:
        return _serialization.deserialize(value, kind)
    if isinstance(value, (list, tuple)):
        return [_revive(v, kind) for v in value]
    if isinstance(value, dict):
        return {k: _revive(v, kind) for k, v in value.items()}
    return value


def compile_from(model: Any, cc: dict) -> None:
    """Compiles `model` from a Keras `compile_config` dict."""
    model.compile(optimizer=_serialization.build(cc.get("optimizer", "rmsprop"), "optimizers"),
                  loss=_revive(cc.get("loss"), "losses"), loss_weights=cc.get("loss_weights"),
                  metrics=_revive(cc.get("metrics"), "metrics"),
                  weighted_metrics=_revive(cc.get("weighted_metrics"), "metrics"),
                  run_eagerly=bool(cc.get("run_eagerly", False)))


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Loads a `.keras` archive, or a legacy `.h5` model file, written by kiln or Keras 3.

    Args:
        filepath: the `.keras` (or `.h5` / `.hdf5`) file.
        custom_objects: name -> class or function for your own objects.
        compile: restore the optimizer (and its state), loss and metrics.
        safe_mode: refuse Lambda layers naming functions (code is never loaded).

    Raises:
        ValueError: a malformed or unsafe file, an unknown class (with the fix), or weights
            that do not match the architecture.
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(_H5) or (not filepath.endswith(".keras") and _is_hdf5(filepath)):
        return _load_legacy_model(filepath, custom_objects, compile, safe_mode)
    config, weights, assets = _archive.read_archive(filepath)
    cc = config.pop("compile_config", None)
    with _serialization.safe_mode_scope(safe_mode):
        model = _serialization.deserialize(config, "models", custom_objects, safe_mode)
        if compile and cc:
            compile_from(model, cc)
    if weights:
        _load_h5(model, weights, filepath, with_optimizer=bool(compile and cc))
    _assets.restore(model, assets)
    return model


def _is_hdf5(filepath: str) -> bool:
    return os.path.isfile(filepath) and h5py.is_hdf5(filepath)


def _load_legacy_model(filepath: str, custom_objects: dict | None, compile: bool,
                       safe_mode: bool) -> Any:
    """Keras's legacy HDF5 model file: config, weights by layer name, compile state."""
    saved = _legacy_h5.read_legacy(filepath)
    if saved.model_config is None:
        raise ValueError(f"{filepath!r} holds weights but no model config: it was written by "
                         "save_weights. Build the model in code, then model.load_weights().")
    config = _legacy_h5.modernize(saved.model_config)
    tc = saved.training_config if compile else None
    with _serialization.safe_mode_scope(safe_mode):
        model = _serialization.deserialize(config, "models", custom_objects, safe_mode)
        if tc and tc.get("optimizer_config") is not None:
            cc = {k: v for k, v in tc.items() if k != "optimizer_config"}
            compile_from(model, {**cc, "optimizer": tc["optimizer_config"]})
    for var, value in _legacy_h5.stage_layers(model, saved.layers, "name", False, filepath):
        var.assign(value)
    if getattr(model, "_compiled", None) is not None:
        _legacy_h5.restore_optimizer(model, saved.optimizer, filepath)
    return model


def _load_h5(model: Any, data: bytes, filepath: str, skip_mismatch: bool = False,
             with_optimizer: bool = True) -> None:
    try:
        _h5_weights.load_weights_file(model, io.BytesIO(data), len(data), skip_mismatch,
                                      with_optimizer)
    except OSError as e:
        raise ValueError(f"Cannot read the weights of {filepath!r} as HDF5 ({e}). Is it a "
                         "complete file saved by kiln or Keras 3?") from e


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Writes `model`'s weights (and built optimizer state) to a `.weights.h5` file."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"Invalid filepath {filepath!r}: weights files must end in "
                         "'.weights.h5'.")
    _check_overwrite(filepath, overwrite)
    _archive.atomic_write(filepath, weights_writer(model))


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False,
                 **kwargs: Any) -> None:
    """Loads a `.weights.h5` file (or the weights of a `.keras` archive) into `model`; every
    tensor is checked first, so a mismatch (ValueError naming the variable and both shapes)
    changes nothing. `skip_mismatch=True` skips those tensors with a warning.

    A legacy HDF5 file (a `layer_names` attribute: Keras 2 weights, or a `.h5` model file)
    loads layer by layer: by name when the file and the model have the same layer names,
    else in order (Keras's topological rule); `by_name=True` loads only the layers whose
    names are in the file."""
    filepath = os.fspath(filepath)
    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}. load_weights takes filepath, "
                         "skip_mismatch and (for legacy .h5 files) by_name.")
    if filepath.endswith(".keras"):
        _, data, _ = _archive.read_archive(filepath)
    elif _is_hdf5(filepath) and _legacy_h5.is_legacy_h5(filepath):
        _legacy_h5.load_legacy_weights(model, filepath, skip_mismatch,
                                       "by_name" if by_name else "auto")
        return
    else:
        _archive.wait_for(filepath)
        with open(filepath, "rb") as f:
            data = f.read()
    if by_name is not None:
        raise ValueError(f"`by_name` only applies to legacy '.h5' files; {filepath!r} is in "
                         "Keras 3's layout. Remove by_name.")
    _load_h5(model, data, filepath, skip_mismatch)
