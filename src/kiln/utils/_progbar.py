"""`Progbar`: Keras's text progress bar, drawn lazily so that device values are read rarely.

Values passed to `update` may be JAX arrays still being computed on the device. They are kept
as they are and converted to Python floats only when a line is drawn: at most once per
`interval` seconds on a live display, and once at the end otherwise.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from typing import Any, Iterable

import numpy as np

from .. import _config

_LOG = logging.getLogger("kiln")

_BAR_CHAR = "\u2501"  # '━', Keras's bar character


def stdout_can_encode(text: str) -> bool:
    """Whether `sys.stdout` can write `text` (False for e.g. an ASCII-only console)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _dynamic_display() -> bool:
    # Redraw in place on a terminal or in a notebook; elsewhere (logs, files, CI) print only
    # complete lines. Keras also counts PyCharm's console as live.
    isatty = getattr(sys.stdout, "isatty", None)
    return _config.flag("interactive_logging") and bool((isatty is not None and isatty()) or "ipykernel" in sys.modules
                or "PYCHARM_HOSTED" in os.environ)


def _write(message: str) -> None:
    if not _config.flag("interactive_logging"):  # kiln.config.disable_interactive_logging()
        if message.strip():
            _LOG.info(message.strip("\r\n"))
        return
    sys.stdout.write(message)
    sys.stdout.flush()


def _as_float(value: Any) -> Any:
    """A drawable number: the mean of an array-like (a device fetch happens here), or the value."""
    try:
        return float(np.mean(np.asarray(value)))
    except (TypeError, ValueError):
        return value


def format_duration(seconds: float) -> str:
    """An ETA as Keras prints it: `"7s"`, `"2:05"` or `"1:02:05"`."""
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def format_time_per_unit(seconds: float, unit_name: str) -> str:
    """`" 2ms/step"`-style duration of one unit (s, ms or us, as Keras)."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


class Progbar:
    """A progress bar for loops (`fit`, `evaluate` and `predict` use it through `ProgbarLogger`).

    Args:
        target: the total number of steps, or None if unknown.
        width: the bar's width in characters.
        verbose: 0 silent, 1 a live bar, 2 one line when the target is reached.
        interval: the minimum number of seconds between two redraws of the live bar.
        stateful_metrics: names whose values are shown as given; the others are averaged
            over the steps seen (weighted by the steps each update covers).
        stateless_metrics: the opposite selection: only these names are averaged. Give at
            most one of the two; with neither, every value is averaged (Keras's default).
        unit_name: the unit of the time per step, e.g. "step" or "sample".

    Example:
        >>> bar = Progbar(3, verbose=2)
        >>> for i in range(3):
        ...     bar.update(i + 1, [("loss", 0.5)])  # doctest: +ELLIPSIS
        3/3 - 0s - ...
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 stateless_metrics: Iterable[str] | None = None, unit_name: str = "step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar takes stateful_metrics (names shown as given) or "
                             "stateless_metrics (names averaged), not both; received both.")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = None if stateless_metrics is not None else set(stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._dynamic_display = _dynamic_display()
        self._bar_char = _BAR_CHAR if stdout_can_encode(_BAR_CHAR) else "="
        self._seen_so_far = 0
        self._values: dict[str, list[Any]] = {}  # name -> [sum or value, count]
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    # -- recording ------------------------------------------------------------------------------
    def _is_averaged(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current: int, values: Iterable[tuple[str, Any]], finalize: bool) -> None:
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if self._is_averaged(name) and not finalize:
                # Weighted by the number of steps this update covers (at least 1), as Keras.
                weight = max(current - self._seen_so_far, 1)
                if name in self._values:
                    self._values[name][0] = self._values[name][0] + value * weight
                    self._values[name][1] += weight
                else:
                    self._values[name] = [value * weight, weight]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current

    def _step_duration(self, current: int, now: float) -> float:
        # The first step (compilation) is left out of the estimate once later steps exist.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    # -- drawing ----------------------------------------------------------------------------------
    def _metrics_text(self, positive_only: bool) -> str:
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            avg = _as_float(total)
            if isinstance(avg, float):
                avg = avg / max(1, count)
                # Keras's verbose=2 line tests `avg > 1e-3`, the live bar `abs(avg) > 1e-3`.
                big = avg > 1e-3 if positive_only else abs(avg) > 1e-3
                text += f" - {name}: {avg:.4f}" if big else f" - {name}: {avg:.4e}"
            else:
                text += f" - {name}: {avg}"
        return text

    def _count_text(self, current: int) -> str:
        digits = int(math.log10(self.target)) + 1
        return f"%{digits}d/%d" % (current, self.target)

    def _draw_live(self, current: int, now: float, per_unit: float, finalize: bool) -> None:
        style = self._dynamic_display
        bold = (lambda s: f"\x1b[1m{s}\x1b[0m") if style else (lambda s: s)
        if self.target is not None and self.target > 0:
            done = int(self.width * float(current) / self.target)
            count = self._count_text(current)
            bar_done, bar_todo = self._bar_char * done, self._bar_char * (self.width - done)
            plain_bar = f"{count} {bar_done}{bar_todo}"
            if style:
                bar = f"{bold(count)} " + (f"\x1b[32m{bar_done}\x1b[0m" if done else "") + \
                    f"\x1b[37m{bar_todo}\x1b[0m"
            else:
                bar = plain_bar
        else:
            bar = plain_bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            clock = format_duration(per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {clock}" + format_time_per_unit(per_unit, self.unit_name)
        info += self._metrics_text(positive_only=False)
        plain_width = len(plain_bar) + len(info)
        if style:
            info = f" {bold(clock)}" + info[len(clock) + 1:]
            padding = " " * max(self._prev_total_width - plain_width, 0)
            message = "\r" + bar + info + padding + ("\n" if finalize else "")
        else:
            message = bar + info + "\n"
        _write(message)
        self._prev_total_width = plain_width

    def _draw_summary_line(self, current: int, now: float, per_unit: float) -> None:
        line = f"{self._count_text(current)} - {now - self._start:.0f}s"
        line += " -" + format_time_per_unit(per_unit, self.unit_name)
        _write(line + self._metrics_text(positive_only=True) + "\n")

    # -- public API -------------------------------------------------------------------------------
    def update(self, current: int, values: Iterable[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Records the values of step `current` and redraws the bar if it is time to.

        Args:
            current: the index of the current step (1-based: the number of steps done).
            values: `(name, value)` pairs for this step; values may be device arrays.
            finalize: whether this is the last update; defaults to `current >= target`.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values or [], finalize)
        now = time.time()
        per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if not finalize and (now - self._last_update < self.interval
                                 or not self._dynamic_display):
                return
            self._draw_live(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            self._draw_summary_line(current, now, per_unit)
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """Advances the bar by `n` steps (see `update`)."""
        self.update(self._seen_so_far + n, values)
