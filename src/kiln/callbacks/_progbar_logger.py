"""`ProgbarLogger`: Keras's progress bar during fit, evaluate and predict."""

from __future__ import annotations

import sys
from typing import Any

from ..utils._progbar import Progbar
from ._callback import Callback, _flatten_logs


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
