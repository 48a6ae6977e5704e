"""`CallbackList`: dispatches every hook to a list of callbacks."""

from __future__ import annotations

from typing import Any, Iterable

from ._callback import (
    _BATCH_HOOKS, _LEGACY_ALIAS, Callback, _flatten_logs, _overrides, pythonify_logs,
)
from ._history import History
from ._progbar_logger import ProgbarLogger


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
