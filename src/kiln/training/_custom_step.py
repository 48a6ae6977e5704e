"""Detection of user `train_step` / `test_step` / `predict_step` overrides.

kiln does not run such overrides yet, so a model that defines one raises at the first
compiled call instead of silently training kiln's default step.

Example:
    >>> class Plain:
    ...     pass
    >>> overridden_steps(Plain())
    []
"""

from __future__ import annotations

from typing import Any

STEP_METHODS = ("train_step", "test_step", "predict_step")


def overridden_steps(model: Any) -> list[str]:
    """Names of the step methods that `model`'s class defines (kiln's Model defines none)."""
    return [name for name in STEP_METHODS if callable(getattr(type(model), name, None))]


def check_step_overrides(model: Any) -> None:
    """Raises NotImplementedError naming the overridden step methods, if any."""
    names = overridden_steps(model)
    if names:
        raise NotImplementedError(
            f"Model '{getattr(model, 'name', type(model).__name__)}' of class "
            f"{type(model).__name__} overrides {', '.join(names)}. kiln does not run custom "
            "step methods yet (only its default step), and will not silently train a "
            "different step. Expected: no step override; received: an override. Fix: express "
            "the objective by overriding `compute_loss(x, y, y_pred, sample_weight, training)` "
            "or with `add_loss` in `call`, and remove the step override."
        )
