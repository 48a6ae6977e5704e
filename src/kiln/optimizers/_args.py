"""Argument checks and small helpers shared by every optimizer's constructor."""

from __future__ import annotations

import inspect
import itertools
import warnings
from typing import Any, Callable

from .._utils import to_snake_case

_UIDS: dict[str, itertools.count] = {}


def auto_name(cls_name: str) -> str:
    """'adam', then 'adam_1', 'adam_2', ... (Keras's `auto_name`; "RMSprop" -> "rm_sprop")."""
    base = to_snake_case(cls_name)
    n = next(_UIDS.setdefault(base, itertools.count()))
    return base if n == 0 else f"{base}_{n}"


def takes_step(fn: Callable) -> bool:
    """Whether a learning-rate callable wants the iteration count as its argument (Keras
    calls a plain callable with no argument; kiln also accepts `f(iterations)`)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               and p.default is p.empty for p in params)


def check_kwargs(cls: type, kwargs: dict) -> None:
    """Drops Keras's ignored `decay` (with a warning) and rejects any other unknown kwarg."""
    if kwargs.pop("decay", None) is not None:
        warnings.warn("Argument `decay` is no longer supported and will be ignored (as in "
                      "Keras 3). Use a learning-rate schedule instead.", stacklevel=4)
    if not kwargs:
        return
    supported: list[str] = []
    for klass in cls.__mro__:  # the class's own arguments first, then the shared ones
        init = klass.__dict__.get("__init__")
        if init is not None:
            supported += [p for p in inspect.signature(init).parameters
                          if p not in ("self", "kwargs") and p not in supported]
    hint = " (`lr` is now called `learning_rate`)" if "lr" in kwargs else ""
    raise ValueError(f"{cls.__name__}() got unsupported argument(s) {kwargs}{hint}. "
                     f"Supported arguments: {', '.join(supported)}.")


def check_common(clipnorm: Any, clipvalue: Any, global_clipnorm: Any, use_ema: bool,
                 ema_momentum: float, ema_overwrite_frequency: Any,
                 gradient_accumulation_steps: Any) -> None:
    """Keras's constructor checks on the shared arguments."""
    steps = gradient_accumulation_steps
    if steps is not None and (not isinstance(steps, int) or steps < 2):
        raise ValueError("`gradient_accumulation_steps` must be an integer >= 2 (or None). "
                         f"Received: gradient_accumulation_steps={steps!r}.")
    if use_ema and not 0 <= ema_momentum <= 1:
        raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: "
                         f"ema_momentum={ema_momentum}.")
    freq = ema_overwrite_frequency
    if use_ema and freq and (not isinstance(freq, int) or freq < 1):
        raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                         f"Received: ema_overwrite_frequency={freq!r}.")
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                         f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                         f"global_clipnorm={global_clipnorm}. Keep one of them.")


def check_learning_rate(learning_rate: Any) -> None:
    """A learning rate that is not a schedule or callable must be a Python float (Keras
    rejects `1`)."""
    if isinstance(learning_rate, float):
        return
    example = float(learning_rate) if isinstance(learning_rate, int) else 0.001
    raise ValueError(
        "Argument `learning_rate` should be a float, a LearningRateSchedule, or a callable "
        "(returning the learning rate, optionally from the iteration count); received "
        f"learning_rate={learning_rate!r} ({type(learning_rate).__name__}). Write it as a "
        f"float, e.g. learning_rate={example}."
    )
