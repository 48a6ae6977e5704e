"""The keyword arguments of fit / evaluate / predict, as one checked object each.

`Model.fit` (and evaluate/predict) keep Keras's signatures; they pack everything except the
data into one of these frozen dataclasses and hand it to `kiln.training`. `check()` refuses a
bad value with the message the user would get from Keras's argument name.

Example:
    >>> FitOptions(batch_size=16, epochs=3).check().epochs
    3
    >>> FitOptions(epochs=0).check()
    Traceback (most recent call last):
    ...
    ValueError: `epochs` must be an int >= 1; received 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EvaluateOptions", "FitOptions", "PredictOptions", "check_int"]


def check_int(name: str, value: Any, minimum: int, allow_none: bool = True) -> None:
    """Refuses anything but an int >= `minimum` (None passes when `allow_none`)."""
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; received {value!r}.")


def check_validation_freq(freq: Any) -> None:
    """An int >= 1 (every N epochs) or a collection of 1-based epoch numbers."""
    if isinstance(freq, (list, tuple, set)):
        if all(isinstance(e, (int, np.integer)) and e >= 1 for e in freq):
            return
    elif isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq >= 1:
        return
    raise ValueError("validation_freq must be a positive int (validate every N epochs) or a list "
                     f"of 1-based epoch numbers; received {freq!r}.")


def verbosity(verbose: Any) -> Any:
    """Keras's "auto" is 1 (a progress bar)."""
    return 1 if verbose == "auto" else verbose


@dataclass(frozen=True)
class FitOptions:
    """Everything `Model.fit` takes besides x, y and sample_weight."""

    batch_size: int | None = None
    epochs: int = 1
    verbose: Any = "auto"
    callbacks: Any = None
    validation_split: float = 0.0
    validation_data: Any = None
    shuffle: Any = True
    class_weight: Any = None
    initial_epoch: int = 0
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    validation_batch_size: int | None = None
    validation_freq: Any = 1

    def check(self) -> "FitOptions":
        check_int("batch_size", self.batch_size, 1)
        check_int("epochs", self.epochs, 1, allow_none=False)
        check_int("initial_epoch", self.initial_epoch, 0, allow_none=False)
        check_int("steps_per_epoch", self.steps_per_epoch, 1)
        check_int("validation_steps", self.validation_steps, 1)
        check_int("validation_batch_size", self.validation_batch_size, 1)
        check_validation_freq(self.validation_freq)
        return self

    def should_validate(self, epoch: int) -> bool:
        """Whether epoch `epoch` (0-based) ends with validation."""
        freq = self.validation_freq
        return (epoch + 1) % freq == 0 if isinstance(freq, int) else (epoch + 1) in freq


@dataclass(frozen=True)
class EvaluateOptions:
    """Everything `Model.evaluate` takes besides x, y and sample_weight."""

    batch_size: int | None = None
    verbose: Any = "auto"
    steps: int | None = None
    callbacks: Any = None
    return_dict: bool = False

    def check(self) -> "EvaluateOptions":
        check_int("batch_size", self.batch_size, 1)
        check_int("steps", self.steps, 1)
        return self


@dataclass(frozen=True)
class PredictOptions:
    """Everything `Model.predict` takes besides x."""

    batch_size: int | None = None
    verbose: Any = "auto"
    steps: int | None = None
    callbacks: Any = None

    def check(self) -> "PredictOptions":
        check_int("batch_size", self.batch_size, 1)
        check_int("steps", self.steps, 1)
        return self
