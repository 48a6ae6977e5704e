"""Whether a model computes its own loss, so that `compile(loss=None)` is legitimate.

Decided from what the model does, never from its source text: it overrides `compute_loss` or
`train_step` (the model answers `_overrides_loss()`), or its `call` uses `add_loss` (seen by
tracing it once abstractly: the model answers `_adds_loss()`, None while its input shape is
unknown). Duck typing keeps `kiln.training` free of any import of `kiln.models`.

Example:
    >>> class Plain:
    ...     def _overrides_loss(self): return False
    ...     def _adds_loss(self): return None
    >>> own_loss_verdict(Plain()) is None, defines_own_loss(Plain())
    (True, True)
"""

from __future__ import annotations

from typing import Any

__all__ = ["defines_own_loss", "own_loss_verdict"]


def own_loss_verdict(model: Any) -> bool | None:
    """True: the model computes its own loss; False: it does not; None: not known yet (the
    input shape is unknown, so `call` could not be traced)."""
    overrides = getattr(model, "_overrides_loss", None)
    if overrides is not None and overrides():
        return True
    adds = getattr(model, "_adds_loss", None)
    return adds() if adds is not None else None


def defines_own_loss(model: Any) -> bool:
    """True when the model computes its own loss, or when that cannot be told (the step then
    reports any real problem); False only when the model surely does not."""
    return own_loss_verdict(model) is not False
