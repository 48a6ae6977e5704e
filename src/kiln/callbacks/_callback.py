"""The `Callback` base class and the log helpers every callback shares."""

from __future__ import annotations

from typing import Any

import numpy as np

_BATCH_HOOKS = (
    "on_batch_begin", "on_batch_end",
    "on_train_batch_begin", "on_train_batch_end",
    "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)
# The default train-batch hooks call these legacy names, so overriding them reads the logs too.
_LEGACY_ALIAS = {"on_train_batch_begin": ("on_batch_begin",),
                 "on_train_batch_end": ("on_batch_end",)}


def _flatten_logs(logs: dict | None) -> dict:
    """Keys sorted, nested dicts flattened (as Keras's logs), values untouched."""
    out: dict = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            out.update(_flatten_logs(value))
        else:
            out[key] = value
    return out


def _to_python(value: Any) -> Any:
    """A one-element value becomes a Python float (fetched from the device), another array
    a NumPy array; anything else is kept (Keras's rule)."""
    if value is None or isinstance(value, (str, bytes)):
        return value
    try:
        if np.ndim(value) == 0:
            return float(value)
        array = np.asarray(value)
        return float(array.reshape(())) if array.size == 1 else array
    except (TypeError, ValueError):
        return value


def pythonify_logs(logs: dict | None) -> dict:
    """The logs with sorted, flattened keys and Python floats as values (Keras's rule)."""
    return {key: _to_python(value) for key, value in _flatten_logs(logs).items()}


class Callback:
    """Base class of callbacks: subclass it and override the hooks you need.

    Every hook receives `logs`, a dict of metric values (Python floats) or None. During
    `fit` the order is: `on_train_begin`, then per epoch `on_epoch_begin`, per batch
    `on_train_batch_begin` / `on_train_batch_end`, validation (`on_test_*`), `on_epoch_end`,
    and finally `on_train_end`.

    Attributes:
        model: the model being trained. Reading it first writes the live training state
            (weights, optimizer and metric state) back into the model's objects.
        params: dict with `verbose`, `epochs` and `steps` (steps per epoch, or None).

    Example:
        >>> class StopAtLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if logs["loss"] < 0.1:
        ...             self.model.stop_training = True
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] | None = None
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        # As Keras's JAX `jax_state_sync`: the weights live on the device during an epoch, so
        # a callback that looks at the model first gets them written back into the layers.
        sync = getattr(self._model, "_sync_for_callback", None)
        if callable(sync):
            sync()
        return self._model

    # Legacy aliases: the default train-batch hooks call them, as Keras's do.
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Alias of `on_train_batch_begin` kept for old code."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Alias of `on_train_batch_end` kept for old code."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each training epoch (0-based `epoch`)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of each epoch; `logs` holds training and `val_` metrics."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before a training batch (every `steps_per_execution` batches)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after a training batch; `logs` holds the running metric values."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before a batch of `evaluate` (or of validation in `fit`)."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after a batch of `evaluate` (or of validation in `fit`)."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before a batch of `predict`."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after a batch of `predict`; `logs["outputs"]` holds the batch's outputs."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once at the start of `fit`."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once at the end of `fit` with the last epoch's logs."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called at the start of `evaluate` (and of each validation run)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called at the end of `evaluate` with its final logs."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called at the start of `predict`."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called at the end of `predict`."""


def save_due(callback: Any, batch: int) -> bool:
    """Whether `callback.save_freq` batches have passed since its last save, counting the
    batches of one compiled call (`batch` is the last index it ran) and across epochs (the
    index starts over). Reads and updates `callback._last_batch_seen` (None or -1 before the
    first batch) and `callback._batches_seen_since_last_saving`; ModelCheckpoint and
    BackupAndRestore count the same way, as Keras's do.

    Example:
        >>> class C:
        ...     save_freq, _last_batch_seen, _batches_seen_since_last_saving = 4, None, 0
        >>> c = C()
        >>> [save_due(c, b) for b in (1, 3, 1, 3)]
        [False, True, False, True]
    """
    last = callback._last_batch_seen
    added = batch + 1 if last is None or batch <= last else batch - last
    callback._batches_seen_since_last_saving += added
    callback._last_batch_seen = batch
    if callback._batches_seen_since_last_saving >= callback.save_freq:
        callback._batches_seen_since_last_saving = 0
        return True
    return False


def _overrides(callback: Any, hook: str) -> bool:
    """Whether `callback.hook` is something other than the base class's empty default."""
    method = getattr(callback, hook, None)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)
