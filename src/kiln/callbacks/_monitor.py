"""`MonitorCallback`: the shared base of callbacks that watch one logged quantity.

Example:
    >>> cb = MonitorCallback(monitor="val_loss")
    >>> cb._is_improvement(0.5, None), cb._is_improvement(float("nan"), 1.0)
    (True, False)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ._callback import Callback


def _is_nan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


class MonitorCallback(Callback):
    """Watches `monitor` in the epoch logs; decides whether a value improves on a reference.

    Keras's rules (mode "auto" takes min for losses and the metric's direction otherwise;
    `min_delta` is the smallest change that counts), with one fix: NaN is never an improvement
    (Keras's comparison lets a NaN through when the reference is None).

    Args:
        monitor: the log key to watch, e.g. "val_loss".
        mode: "auto", "min" or "max" (an unknown mode warns and falls back to "auto").
        baseline: the initial best value, or None.
        min_delta: minimum absolute change that counts as an improvement.

    Example:
        >>> MonitorCallback(monitor="loss", mode="max")._is_improvement(2.0, 1.0)
        True
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: Any = None,
                 min_delta: float = 0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown; expected 'auto', "
                          "'min' or 'max'. Falling back to 'auto'.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self._minimize: bool | None = None
        self._warned_missing = False

    def _direction(self) -> bool:
        """True to minimise `monitor`; decided once (the model's metrics are built by then)."""
        if self._minimize is not None:
            return self._minimize
        if self.mode != "auto":
            self._minimize = self.mode == "min"
            return self._minimize
        name = self.monitor.removeprefix("val_")
        direction = "down" if name == "loss" or name.endswith("_loss") else None
        for metric in getattr(self._model, "metrics", None) or []:
            known = getattr(metric, "_direction", None) in ("up", "down")
            if getattr(metric, "name", None) == name and known:
                direction = metric._direction
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} received monitor={self.monitor!r}, but cannot tell "
                "whether that quantity should be minimised or maximised (expected a loss or a "
                "metric with a known direction). Pass mode='max' for the highest value or "
                "mode='min' for the lowest.")
        self._minimize = direction != "up"
        return self._minimize

    def _is_improvement(self, value: Any, reference: Any) -> bool:
        """Whether `value` beats `reference` by more than `min_delta` (NaN never does)."""
        if value is None or _is_nan(value):
            return False
        if reference is None or _is_nan(reference):
            return True
        if self._direction():
            return float(value) + self.min_delta < float(reference)
        return float(value) - self.min_delta > float(reference)

    def _monitor_value(self, logs: dict | None, what: str) -> Any:
        """`logs[monitor]`, or None with one warning per fit when it is missing."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None and not self._warned_missing:
            self._warned_missing = True
            warnings.warn(f"{what} conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}. Pass a "
                          "monitor= that the logs hold (e.g. add validation_data for val_ "
                          "keys). This warning is shown once per fit.", stacklevel=3)
        return value
