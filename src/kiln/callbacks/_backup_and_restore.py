"""`BackupAndRestore`: backs up the training state so that an interrupted `fit` resumes.

Keras's layout in `backup_dir`: `latest.weights.h5` (weights and optimizer state, kiln's own
weights format) and `training_metadata.json` (`{"epoch": ..., "batch": ...}`), plus `.bkp`
copies with `double_checkpoint=True`. kiln also stores, in attributes of the weights file
itself, where the fit was (epoch, step within it, the data order's seed, the step's PRNG key
and the running metric state), so one file is the commit point and a resumed fit runs the
exact remaining batches of the uninterrupted one: killed and resumed, it ends with the same
weights. Every file is written to a temporary file, fsynced and then renamed
(`atomic_write`), so a kill or an error mid-write leaves the previous backup intact; leftover
temporary files are ignored. The state is copied to the host at the backup point and the
files are written in background threads while the other callbacks run; the next epoch's
start (the batch's end, for a mid-epoch backup) and the end of `fit` wait for them and raise
their error.

Example:
    >>> import os, tempfile, numpy as np, kiln
    >>> folder = os.path.join(tempfile.mkdtemp(), "backup")
    >>> class Interrupt(kiln.callbacks.Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         if epoch == 2:
    ...             raise RuntimeError("interrupted")
    >>> model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = BackupAndRestore(folder)
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> try:
    ...     model.fit(x, y, epochs=4, verbose=0, callbacks=[backup, Interrupt()])
    ... except RuntimeError:
    ...     pass
    >>> model.fit(x, y, epochs=4, verbose=0, callbacks=[backup]).epoch
    [2, 3]
    >>> os.path.exists(folder)
    False
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from typing import Any

import h5py
import jax
import numpy as np

from ..saving import _api as _saving_api
from ..saving import _archive
from ._callback import Callback, save_due

_LOOP_ATTR = "kiln_backup_loop"
_METRICS_ATTR = "kiln_backup_metrics"
_TEMP_PREFIX, _TEMP_SUFFIX = ".kiln-", ".tmp"  # what `atomic_write` names its temporary files


def _encode_tree(tree: Any) -> Any:
    """A dict of arrays (nested) as JSON-ready `{"dtype", "shape", "value"}` leaves."""
    if isinstance(tree, dict):
        return {str(k): _encode_tree(v) for k, v in tree.items()}
    a = np.asarray(tree)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "value": a.ravel().tolist()}


def _numeric(values: list, dtype: str, shape: list) -> np.ndarray:
    """A stored array back; only plain numeric dtypes are accepted."""
    dt = np.dtype(dtype)
    if dt.kind not in "biuf":
        raise ValueError(f"A backup array has dtype {dt}; expected a numeric dtype. The backup "
                         "was not written by BackupAndRestore.")
    return np.asarray(values, dt).reshape(shape)


def _decode_tree(tree: dict) -> Any:
    if set(tree) == {"dtype", "shape", "value"} and isinstance(tree["dtype"], str):
        return _numeric(tree["value"], tree["dtype"], tree["shape"])
    return {k: _decode_tree(v) for k, v in tree.items()}


def _live_state(model: Any) -> tuple[dict, Any]:
    """(where the running fit is, its metric state) from the model's training session:
    `{"epoch", "step", "seed", "key"}`, or `({}, None)` outside kiln's fit."""
    session = getattr(model, "_session", None)
    loop, ts = getattr(session, "loop", None), getattr(session, "ts", None)
    if loop is None or ts is None:
        return {}, None
    key, metrics = jax.device_get((ts.key, ts.metric_state))
    key = np.asarray(key)
    point = {"epoch": int(loop.epoch), "step": int(loop.step),
             "seed": None if loop.seed is None else int(loop.seed),
             "key": key.ravel().tolist(), "key_dtype": key.dtype.str, "key_shape": list(key.shape)}
    return point, metrics


def _read_point(path: str) -> dict | None:
    """The resume point stored in a backup's weights file (None for a Keras-written one)."""
    with h5py.File(path, "r") as f:
        loop = f.attrs.get(_LOOP_ATTR)
        metrics = f.attrs.get(_METRICS_ATTR)
    if loop is None:
        return None
    point = json.loads(loop)
    if point.get("key") is not None:
        point["key"] = _numeric(point["key"], point.pop("key_dtype"), point.pop("key_shape"))
    if metrics is not None:
        point["metrics"] = _decode_tree(json.loads(metrics))
    return point


def _copier(src: str) -> Any:
    """A `write(fileobj)` that copies `src` (read when it runs)."""
    def write(out: Any) -> None:
        with open(src, "rb") as f:
            out.write(f.read())
    return write


def _copy_atomic(src: str, dst: str) -> None:
    _archive.atomic_write(dst, _copier(src))


class BackupAndRestore(Callback):
    """Backs up the training state every epoch (or every `save_freq` batches) and restores it
    when `fit` starts again, so an interrupted fit continues where its last backup was.

    As Keras's: at train begin the weights and optimizer state in `backup_dir` (if any) are
    loaded and training resumes at the backed-up epoch; the backup is deleted at train end
    with `delete_checkpoint=True`. kiln resumes exactly: a backup taken mid-epoch
    (`save_freq=int`) resumes at the next batch of that epoch, in the same shuffled order,
    with the same dropout key and running metrics, so the final weights equal an
    uninterrupted fit's (for in-memory data; a generator resumes at the epoch's start, as in
    Keras). The model and the `compile`/`fit` arguments must be the same as when the backup
    was written.

    Args:
        backup_dir: the folder for the backup files, used by this callback alone.
        save_freq: "epoch", or back up every this many training batches.
        double_checkpoint: keep the previous backup too (`.bkp` files), restored when the
            latest one cannot be read.
        delete_checkpoint: delete `backup_dir` when `fit` finishes.

    Example:
        >>> BackupAndRestore("")
        Traceback (most recent call last):
        ...
        ValueError: Empty `backup_dir` argument passed. Expected a folder path for the backup files, e.g. BackupAndRestore("/tmp/backup").
    """

    def __init__(self, backup_dir: Any, save_freq: Any = "epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed. Expected a folder path for "
                             'the backup files, e.g. BackupAndRestore("/tmp/backup").')
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq!r}. Expected either 'epoch' or a positive "
                             "integer (a number of batches).")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._resume: dict | None = None
        # one thread for the weights file and its `.bkp`, one for the metadata and its `.bkp`
        self._writers = (_archive.BackgroundWriter(), _archive.BackgroundWriter())
        if save_freq != "epoch":  # only then a batch hook (which makes fit run 1 step a call)
            self.on_train_batch_end = self._on_train_batch_end

    # -- restore --------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._resume = None
        self._settle()
        self._remove_temporaries()
        try:
            self._load_model()
        except (OSError, ValueError) as e:
            if not os.path.exists(self._prev_weights_path):
                raise ValueError(f"Cannot restore the backup in {self.backup_dir!r} ({e}). "
                                 "Delete the folder to start the fit afresh.") from e
            self._use_previous()
            self._load_model()

    def resume_point(self) -> dict | None:
        """Where `fit` should start, read from the backup by `on_train_begin`: a dict with
        `epoch` and, for backups written by kiln, `step`, `seed`, `key` and `metrics`
        (None when there was no backup). `fit` asks its callbacks for this after
        `on_train_begin`."""
        return self._resume

    def _settle(self) -> None:
        """Waits for this folder's writes in flight (from this or another callback object);
        the failure of one from a fit that ended on another error is only warned about."""
        _archive.wait_for(self._weights_path, self._training_metadata_path,
                          self._prev_weights_path, self._prev_training_metadata_path)
        try:
            self._wait()
        except Exception as e:  # noqa: BLE001 (any write error, reported as a warning)
            warnings.warn(f"The last backup write of a previous fit failed ({e!r}); the backup "
                          "before it is used.", stacklevel=3)

    def _remove_temporaries(self) -> None:
        """Half-written files of an interrupted save: never read, removed."""
        if not os.path.isdir(self.backup_dir):
            return
        for name in os.listdir(self.backup_dir):
            if name.startswith(_TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX):
                os.unlink(os.path.join(self.backup_dir, name))

    def _use_previous(self) -> None:
        """The latest backup is unreadable: the previous one (double_checkpoint) replaces it."""
        _copy_atomic(self._prev_weights_path, self._weights_path)
        if os.path.exists(self._prev_training_metadata_path):
            _copy_atomic(self._prev_training_metadata_path, self._training_metadata_path)
        elif os.path.exists(self._training_metadata_path):
            os.unlink(self._training_metadata_path)

    def _load_model(self) -> None:
        model = self.model
        if not getattr(model, "built", True):
            raise ValueError("To use the BackupAndRestore callback, the model must be built "
                             f"before you call `fit()`. Model {model.name!r} is unbuilt. "
                             "Build it first, e.g. by calling it on a batch of data.")
        point = None
        if os.path.exists(self._weights_path):
            _saving_api.load_weights(model, self._weights_path)
            point = _read_point(self._weights_path)
        if point is None and os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path, encoding="utf-8") as f:
                point = {"epoch": int(json.load(f)["epoch"])}  # written by Keras
        self._resume = point
        if point is not None:
            self._current_epoch = point["epoch"]

    # -- back up --------------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._wait()  # the last epoch's backup is committed before this epoch starts

    def _on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model()
            self._wait()  # a mid-epoch backup is committed when its batch ends

    def _wait(self) -> None:
        """Joins both writers, then raises the first one's error, if any."""
        try:
            self._writers[0].wait()
        finally:
            self._writers[1].wait()

    def _should_save_on_batch(self, batch: int) -> bool:
        """Every `save_freq` batches, counted across epochs (steps_per_execution aware)."""
        return save_due(self, batch)

    def _save_model(self) -> None:
        self._wait()  # the previous backup is complete (or its error raised) first
        os.makedirs(self.backup_dir, exist_ok=True)
        model = self.model  # writes the live training state into the model first
        point, metrics = _live_state(model)
        if not point:
            point = {"epoch": self._current_epoch, "step": 0, "seed": None}
        attrs = {_LOOP_ATTR: json.dumps(point)}
        if metrics is not None:
            attrs[_METRICS_ATTR] = json.dumps(_encode_tree(metrics))
        meta = json.dumps({"epoch": point["epoch"], "batch": self._last_batch_seen}).encode()
        pairs = ((self._weights_path, self._prev_weights_path,
                  _saving_api.weights_writer(model, attrs)),  # the commit point
                 (self._training_metadata_path, self._prev_training_metadata_path,
                  lambda f: f.write(meta)))
        for writer, (path, prev, write) in zip(self._writers, pairs, strict=True):
            keep = self.double_checkpoint and os.path.exists(path)
            writer.submit([(prev, _copier(path))] * keep + [(path, write)])

    def on_train_end(self, logs: dict | None = None) -> None:
        self._wait()
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
