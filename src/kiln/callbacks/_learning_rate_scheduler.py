"""`LearningRateScheduler`: sets the learning rate from a function of the epoch."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._callback import Callback


class LearningRateScheduler(Callback):
    """At the start of each epoch sets the optimizer's rate to `schedule(epoch, lr)` (or
    `schedule(epoch)` when the two-argument call raises TypeError, as Keras). The rate is
    optimizer state, so the compiled step uses it without recompiling; each epoch's logs
    get `learning_rate`.

    Args:
        schedule: a function of (epoch, current rate) or of epoch alone returning a float.
        verbose: 1 prints the rate set each epoch.

    Example:
        >>> class Opt: learning_rate = 1.0
        >>> class M: optimizer = Opt()
        >>> cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        >>> cb.set_model(M())
        >>> cb.on_epoch_begin(0); cb.on_epoch_begin(1); M.optimizer.learning_rate
        0.25
    """

    def __init__(self, schedule: Callable[..., Any], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError("LearningRateScheduler needs an optimizer with a "
                             f"`learning_rate`; received {optimizer!r}. Compile the model "
                             "with a kiln optimizer.")
        try:
            rate = self.schedule(epoch, float(np.asarray(optimizer.learning_rate)))
        except TypeError:  # the one-argument form
            rate = self.schedule(epoch)
        if not isinstance(rate, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float; "
                             f"received {rate!r} ({type(rate).__name__}) at epoch {epoch}. "
                             "Return a Python float, e.g. `return float(lr)`.")
        optimizer.learning_rate = rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{rate}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
