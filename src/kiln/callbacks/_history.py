"""`History`: the per-epoch logs that `fit` returns."""

from __future__ import annotations

from typing import Any

from ._callback import Callback, pythonify_logs


class History(Callback):
    """Records the logs of every epoch; `fit` adds it and returns it.

    Attributes:
        history: dict from log name (in the logs' order) to the list of per-epoch values.
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
        # Keras's History keeps the logs' own key order (a key that a callback added to the
        # logs, e.g. ReduceLROnPlateau's "learning_rate", comes after the metrics).
        values = pythonify_logs(logs)
        order = [k for k in (logs or {}) if k in values] + [k for k in values if k not in (logs or {})]
        for key in order:
            self.history.setdefault(key, []).append(values[key])
        if self._model is not None:  # `_model`: recording needs no weight sync
            self._model.history = self
