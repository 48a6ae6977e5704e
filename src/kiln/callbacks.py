"""Callbacks: hooks that `fit`, `evaluate` and `predict` call at each stage of the loop.

`Callback` is Keras's base class; `CallbackList` dispatches every hook to a list of them and
adds `History` and `ProgbarLogger` as Keras does. Batch-level logs may hold device arrays that
are still being computed: they are converted to Python floats only for callbacks that read
them, so a loop with nobody reading per-batch logs never waits on the device between steps.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

import numpy as np

from .utils._progbar import Progbar

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


def _overrides(callback: Any, hook: str) -> bool:
    """Whether `callback.hook` is something other than the base class's empty default."""
    method = getattr(callback, hook, None)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


class History(Callback):
    """Records the logs of every epoch; `fit` adds it and returns it.

    Attributes:
        history: dict from log name (alphabetical) to the list of per-epoch values.
        epoch: the indices of the epochs recorded.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in pythonify_logs(logs).items():
            self.history.setdefault(key, []).append(value)
        if self._model is not None:  # `_model`: recording needs no weight sync
            self._model.history = self


class ProgbarLogger(Callback):
    """Prints progress: a live bar (verbose=1) or one line per epoch (verbose=2).

    The verbosity, the number of epochs and the steps per epoch come from `params`. Batch
    logs are read lazily: the bar fetches values from the device only when it redraws.
    """

    _lazy_batch_logs = True  # takes device values; CallbackList need not convert them

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose: int = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._called_in_fit = True  # validation inside fit draws no bar of its own

    def on_train_end(self, logs: dict | None = None) -> None:
        self._called_in_fit = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start_bar()
        if self.verbose and self.epochs > 1:
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            sys.stdout.flush()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._finish(logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._start_bar()

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(batch, None)  # the outputs are not shown

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finish(None)

    def _start_bar(self) -> None:
        self.seen = 0
        # Keras's logger shows every value as given (its `stateless_metrics=set()`).
        self.progbar = Progbar(self.target, verbose=self.verbose, unit_name="step",
                               stateless_metrics=set())

    def _update(self, batch: int, logs: dict | None) -> None:
        if self.progbar is None:
            self._start_bar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list(_flatten_logs(logs).items()), finalize=False)

    def _finish(self, logs: dict | None) -> None:
        if self.progbar is None:
            self._start_bar()
        if self.target is None:  # unknown number of steps: what was seen is the total
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list(_flatten_logs(logs).items()), finalize=True)


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g. `LambdaCallback(on_epoch_end=lambda e, logs: ...)`.

    Args:
        on_epoch_begin / on_epoch_end: `f(epoch, logs)`.
        on_train_begin / on_train_end: `f(logs)`.
        on_train_batch_begin / on_train_batch_end: `f(batch, logs)`.
        **kwargs: any other hook by name (e.g. `on_test_end=f`), as Keras accepts.
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None,
                 on_train_batch_end: Callable | None = None, **kwargs: Any):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        # Only the given hooks replace the defaults, so the others still count as unused.
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class CallbackList(Callback):
    """Calls each hook on every callback in order; what `fit`, `evaluate` and `predict` drive.

    Args:
        callbacks: a list (possibly nested) of `Callback`s.
        add_history: append a `History` if none is given.
        add_progbar: append a `ProgbarLogger` if none is given and `params["verbose"] != 0`.
        model: the model, given to every callback.
        **params: `verbose`, `epochs`, `steps`, given to every callback's `set_params`.

    Attributes:
        history: the `History` callback, or None.
        needs_batch_logs: whether some callback reads per-batch logs (see the property).
    """

    def __init__(self, callbacks: Iterable[Any] | Any = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, **params: Any):
        super().__init__()
        self.callbacks: list[Any] = _flatten_callbacks(callbacks)
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar and params.get("verbose", 1) != 0:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    @property
    def history(self) -> History | None:
        return self._history

    @property
    def needs_batch_logs(self) -> bool:
        """True when a callback other than History overrides a batch-level hook (a live
        progress bar, verbose=1, counts). When False the loop need not fetch batch logs."""
        for cb in self.callbacks:
            if isinstance(cb, History):
                continue
            if isinstance(cb, ProgbarLogger):
                if cb.verbose == 1:
                    return True
                continue
            if any(_overrides(cb, hook) for hook in _BATCH_HOOKS):
                return True
        return False

    @property
    def user_batch_hooks(self) -> bool:
        """True when a callback other than History and the progress bar overrides a
        batch-level hook (then steps_per_execution="auto" runs one step per call, so those
        hooks fire every batch)."""
        return any(any(_overrides(cb, hook) for hook in _BATCH_HOOKS) for cb in self.callbacks
                   if not isinstance(cb, (History, ProgbarLogger)))

    def append(self, callback: Any) -> None:
        """Adds a callback at the end (it gets the model and params already set)."""
        self.callbacks.extend(_flatten_callbacks([callback]))
        if self._model is not None:
            callback.set_model(self._model)
        if self.params:
            callback.set_params(self.params)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model: Any) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    # -- dispatch ---------------------------------------------------------------------------------
    def _stage(self, hook: str, logs: dict | None) -> None:
        logs = pythonify_logs(logs)  # once per stage: one shared dict, as Keras
        for cb in self.callbacks:
            getattr(cb, hook)(logs)

    def _epoch(self, hook: str, epoch: int, logs: dict | None) -> None:
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(epoch, logs)

    def _batch(self, hook: str, batch: int, logs: dict | None) -> None:
        hooks = (hook,) + _LEGACY_ALIAS.get(hook, ())
        lazy = all(getattr(cb, "_lazy_batch_logs", False)
                   or not any(_overrides(cb, h) for h in hooks) for cb in self.callbacks)
        # Convert (a device fetch) only when a callback that reads plain floats is called;
        # then every callback shares the one converted dict, so their edits are seen.
        logs = _flatten_logs(logs) if lazy else pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(batch, logs=logs)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._stage("on_train_begin", logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._stage("on_train_end", logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._stage("on_test_begin", logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._stage("on_test_end", logs)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._stage("on_predict_begin", logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._stage("on_predict_end", logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batch("on_predict_batch_end", batch, logs)


def _flatten_callbacks(callbacks: Any) -> list[Any]:
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    out: list[Any] = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten_callbacks(cb))
        elif not all(hasattr(cb, name) for name in ("set_model", "set_params", "on_epoch_end")):
            raise TypeError(f"callbacks must be kiln.callbacks.Callback instances; received "
                            f"{cb!r} ({type(cb).__name__}). Subclass kiln.callbacks.Callback, "
                            "or wrap plain functions in kiln.callbacks.LambdaCallback.")
        else:
            out.append(cb)
    return out


__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "ProgbarLogger"]
