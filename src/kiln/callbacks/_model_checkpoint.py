"""`ModelCheckpoint`: saves the model (or its weights) during training."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from ..saving import _api as _saving_api
from ..saving import _archive
from ._callback import save_due
from ._monitor import MonitorCallback


def _check_filepath(filepath: str, save_weights_only: bool) -> None:
    if save_weights_only and not filepath.endswith(".weights.h5"):
        raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the "
                         "filepath provided must end in `.weights.h5` (Keras weights format). "
                         f"Received: filepath={filepath}")
    if not save_weights_only and not filepath.endswith((".keras", ".h5")):
        raise ValueError("The filepath provided must end in `.keras` (Keras model format) or "
                         "`.h5` (the legacy HDF5 format), or pass save_weights_only=True with "
                         "a `.weights.h5` path. "
                         f"Received: filepath={filepath}")


def _kiln_method(model: Any, name: str) -> bool:
    """Whether `model.<name>` is kiln's own `Model` method (not overridden), whose file the
    background writer can produce; any other `save` / `save_weights` is called as it is."""
    fn = getattr(type(model), name, None)
    return (name not in vars(model) and getattr(fn, "__module__", None) == "kiln.models._model"
            and getattr(fn, "__qualname__", None) == f"Model.{name}")


class ModelCheckpoint(MonitorCallback):
    """Saves with `model.save(path)` (or `model.save_weights(path)`) every epoch or every
    `save_freq` batches, optionally only when `monitor` improves (Keras's arguments).

    `filepath` may hold format fields filled from the logs: `{epoch:02d}` (1-based, as Keras),
    `{batch}` (1-based, with an integer save_freq) and any log key such as `{val_loss:.2f}`.
    NaN is never an improvement. With save_freq="epoch" the callback has no batch hook, so
    the fused training loop keeps running many steps per compiled call.

    A `.keras` or `.weights.h5` save at an epoch's end copies the weights (and optimizer
    state) to the host at once, then writes the file atomically (temporary file, fsync,
    rename) in a background thread while the other callbacks run; the next epoch's start (and
    the end of `fit`) waits for it and raises its error (e.g. a full disk) from `fit`. A
    failed write leaves the previous file as it was. kiln's loaders wait for a write in
    flight; until the next epoch starts, reading the file by other means may still give the
    previous one.

    Args:
        filepath: where to save; must end in `.keras`, or `.weights.h5` with
            `save_weights_only=True`.
        monitor: the log key compared with `save_best_only`.
        verbose: 1 prints each save.
        save_best_only: save only when `monitor` improves on the best so far.
        save_weights_only: save only the weights.
        mode: "auto", "min" or "max".
        save_freq: "epoch", or save every this many training batches.
        initial_value_threshold: the initial best value to beat.

    Example:
        >>> ModelCheckpoint("model.ckpt")
        Traceback (most recent call last):
        ...
        ValueError: The filepath provided must end in `.keras` (Keras model format) or `.h5` (the legacy HDF5 format), or pass save_weights_only=True with a `.weights.h5` path. Received: filepath=model.ckpt
    """

    def __init__(self, filepath: Any, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: Any = None) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0
        self._writer = _archive.BackgroundWriter()
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             "'epoch' or integer values (a number of batches).")
        _check_filepath(self.filepath, save_weights_only)
        if save_freq != "epoch":  # only then a batch hook (which makes fit run 1 step a call)
            self.on_train_batch_end = self._on_train_batch_end

    def _on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)
            self._writer.wait()  # a mid-epoch save is complete when its batch ends

    def on_train_begin(self, logs: dict | None = None) -> None:
        try:
            self._writer.wait()
        except Exception as e:  # noqa: BLE001 (from a fit that ended on another error)
            warnings.warn(f"The last checkpoint write of a previous fit failed ({e!r}); the "
                          "file before it was kept.", stacklevel=2)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._writer.wait()  # the last save is on disk (or its error raised) when fit returns

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._writer.wait()  # the last epoch's file is on disk before this epoch starts
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        return save_due(self, batch)

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        if np.ndim(current) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. "
                          f"Received: {current}. Falling back to `save_best_only=False`.",
                          stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise OSError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        if not self._should_save(epoch, logs, filepath):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        self._write(filepath)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _write(self, filepath: str) -> None:
        """Host copies now, the file write in the background (legacy `.h5`: in place)."""
        model = self.model
        if self.save_weights_only and _kiln_method(model, "save_weights"):
            self._writer.submit([(filepath, _saving_api.weights_writer(model))])
        elif filepath.endswith(".keras") and _kiln_method(model, "save"):
            self._writer.submit([(filepath, _saving_api.archive_writer(model))])
        else:
            self._writer.wait()
            if self.save_weights_only:
                model.save_weights(filepath, overwrite=True)
            else:
                model.save(filepath, overwrite=True)

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}. The logs hold {sorted(logs)}; use only those keys "
                           "(and epoch/batch) as format fields.") from None
