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
from typing import Any

from .. import _serialization
from . import _archive, _h5_weights

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]


def _check_overwrite(filepath: str, overwrite: bool) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} already exists and overwrite=False. Pass "
                              "overwrite=True or choose another path.")


def _weights_bytes(model: Any) -> bytes:
    buf = io.BytesIO()
    _h5_weights.save_weights_file(model, buf)
    return buf.getvalue()


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


def save_model(model: Any, filepath: Any, overwrite: bool = True, zipped: Any = None,
               **kwargs: Any) -> None:
    """Saves `model` as a `.keras` archive (config, compile config, weights, optimizer
    state) that Keras 3 can load. The write is atomic: a failure leaves the old file."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras") or zipped is False:
        raise ValueError(f"Invalid filepath {filepath!r}: kiln saves whole models as zipped "
                         "'.keras' archives. Use a path ending in '.keras' (or save_weights "
                         "with '.weights.h5').")
    _check_overwrite(filepath, overwrite)
    config = _serialization.serialize(model)
    cc = compile_config(model)
    if cc is not None:
        config["compile_config"] = cc
    weights = _weights_bytes(model)
    _archive.atomic_write(filepath, lambda f: _archive.write_archive(f, config, weights))


def _revive(value: Any, kind: str) -> Any:
    if isinstance(value, dict) and "class_name" in value:
        return _serialization.deserialize(value, kind)
    if isinstance(value, (list, tuple)):
        return [_revive(v, kind) for v in value]
    if isinstance(value, dict):
        return {k: _revive(v, kind) for k, v in value.items()}
    return value


def _compile_from(model: Any, cc: dict) -> None:
    model.compile(optimizer=_serialization.build(cc.get("optimizer", "rmsprop"), "optimizers"),
                  loss=_revive(cc.get("loss"), "losses"), loss_weights=cc.get("loss_weights"),
                  metrics=_revive(cc.get("metrics"), "metrics"),
                  weighted_metrics=_revive(cc.get("weighted_metrics"), "metrics"),
                  run_eagerly=bool(cc.get("run_eagerly", False)))


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Loads a `.keras` archive written by kiln or Keras 3.

    Args:
        filepath: the `.keras` file.
        custom_objects: name -> class or function for your own objects.
        compile: restore the optimizer (and its state), loss and metrics.
        safe_mode: refuse Lambda layers naming functions (code is never loaded).

    Raises:
        ValueError: a malformed or unsafe file, an unknown class (with the fix), or weights
            that do not match the architecture.
    """
    filepath = os.fspath(filepath)
    config, weights = _archive.read_archive(filepath)
    cc = config.pop("compile_config", None)
    with _serialization.safe_mode_scope(safe_mode):
        model = _serialization.deserialize(config, "models", custom_objects, safe_mode)
        if compile and cc:
            _compile_from(model, cc)
    if weights:
        _load_h5(model, weights, filepath, with_optimizer=bool(compile and cc))
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
    _archive.atomic_write(filepath, lambda f: _h5_weights.save_weights_file(model, f))


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False) -> None:
    """Loads a `.weights.h5` file (or the weights of a `.keras` archive) into `model`; every
    tensor is checked first, so a mismatch (ValueError naming the variable and both shapes)
    changes nothing. `skip_mismatch=True` skips those tensors with a warning."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        _, data = _archive.read_archive(filepath)
    else:
        with open(filepath, "rb") as f:
            data = f.read()
    _load_h5(model, data, filepath, skip_mismatch)
