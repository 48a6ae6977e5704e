"""Learning-rate schedules with Keras's names, arguments and formulas.

A schedule is a callable `schedule(step) -> learning rate` where `step` is the optimizer's
iteration count (an int32 scalar, possibly a tracer inside `jax.jit`). Pass one as any
optimizer's `learning_rate`; the optimizer evaluates it at every update, inside the jitted
step, so nothing recompiles as the rate changes.

The arithmetic mirrors `keras/src/optimizers/schedules/learning_rate_schedule.py` step by
step (float32 casts included), so the rates agree with Keras's bit for bit.

Example:
    >>> from kiln.optimizers import schedules
    >>> s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(s(10)), 6)
    0.05
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax.numpy as jnp

from .. import _config
from .. import _registry, _serialization


def _float(value: Any) -> jnp.ndarray:
    """A Python number as a float32 tensor, as Keras's `convert_to_tensor` makes it."""
    if isinstance(value, float):
        return jnp.asarray(value, dtype=_config.floatx())
    return jnp.asarray(value)


def _check_steps(argument: str, value: Any) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{argument}` must be > 0. Received: {argument}={value}.")


class LearningRateSchedule:
    """Base class of learning-rate schedules.

    Subclasses implement `__call__(step)` (jax.numpy only, so it can be traced) and
    `get_config()`; `from_config(config)` calls the constructor with the config.
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in order "
            "to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _TimeDecay(LearningRateSchedule):
    """Shared by ExponentialDecay and InverseTimeDecay: both decay with
    `p = step / decay_steps` (floored when `staircase`); subclasses give the formula."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def __call__(self, step: Any) -> Any:
        initial = _float(self.initial_learning_rate)
        dtype = initial.dtype
        p = jnp.asarray(step).astype(dtype) / jnp.asarray(self.decay_steps).astype(dtype)
        if self.staircase:
            p = jnp.floor(p)
        return self._decay(initial, jnp.asarray(self.decay_rate).astype(dtype), p)

    def _decay(self, initial: Any, rate: Any, p: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_TimeDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps per factor of `decay_rate` (> 0).
        decay_rate: the factor applied every `decay_steps` steps.
        staircase: if True, `step / decay_steps` is floored (the rate drops in steps).
        name: the schedule's name.
    """

    def _decay(self, initial: Any, rate: Any, p: Any) -> Any:
        return initial * jnp.power(rate, p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while
    `boundaries[i-1] < step <= boundaries[i]`, and `values[-1]` after the last boundary.

    Args:
        boundaries: strictly increasing step numbers.
        values: one more value than boundaries.
        name: the schedule's name.
    """

    def __init__(self, boundaries: Sequence[Any], values: Sequence[Any],
                 name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> Any:
        step = jnp.asarray(step)
        # Keras casts the boundaries to the step's dtype and sums indicator * value terms.
        bounds = [jnp.asarray(b).astype(step.dtype) for b in self.boundaries]
        values = [_float(v) for v in self.values]
        dtype = values[0].dtype
        result = jnp.asarray(0, dtype=dtype)
        result += (step <= bounds[0]).astype(dtype) * values[0]
        result += (step > bounds[-1]).astype(dtype) * values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1]):
            result += ((step > low) & (step <= high)).astype(dtype) * value
        return result

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """`(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end`.

    With `cycle=True`, `decay_steps` is replaced by the first multiple of it that is
    `>= step` (1 at step 0), so the decay restarts.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to go from the initial to the end rate (> 0).
        end_learning_rate: the final rate.
        power: the polynomial's power.
        cycle: whether to restart after `decay_steps`.
        name: the schedule's name.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay"):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> Any:
        initial = _float(self.initial_learning_rate)
        dtype = initial.dtype
        end = jnp.asarray(self.end_learning_rate).astype(dtype)
        power = jnp.asarray(self.power).astype(dtype)
        step_f = jnp.asarray(step).astype(dtype)
        decay_steps = jnp.asarray(self.decay_steps).astype(dtype)
        if self.cycle:
            multiplier = jnp.where(step_f == 0, 1.0, jnp.ceil(step_f / self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step_f = jnp.minimum(step_f, decay_steps)
        p = step_f / decay_steps
        return (initial - end) * jnp.power(1 - p, power) + end

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_TimeDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the step scale (> 0).
        decay_rate: the decay rate.
        staircase: if True, `step / decay_steps` is floored.
        name: the schedule's name.
    """

    def _decay(self, initial: Any, rate: Any, p: Any) -> Any:
        return initial / (jnp.asarray(1, p.dtype) + rate * p)


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay (SGDR without restarts).

    Warmup (if `warmup_target` is set, for `step < warmup_steps`):
    `initial + (warmup_target - initial) * step / warmup_steps`.
    Decay from `lr0` (`warmup_target`, or `initial_learning_rate` without warmup), with
    `s = min(step - warmup_steps, decay_steps)`:
    `lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to decay over (> 0).
        alpha: the final rate as a fraction of `lr0`.
        name: the schedule's name.
        warmup_target: the rate reached at the end of warmup, or None for no warmup.
        warmup_steps: the number of warmup steps.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, step: Any, decay_steps: Any, decay_from: Any, dtype: Any) -> Any:
        fraction = step / decay_steps
        cosine = 0.5 * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> Any:
        initial = _float(self.initial_learning_rate)
        dtype = initial.dtype
        decay_steps = jnp.asarray(self.decay_steps).astype(dtype)
        step_f = jnp.asarray(step).astype(dtype)
        if self.warmup_target is None:
            return self._decay(jnp.minimum(step_f, decay_steps), decay_steps, initial, dtype)
        target = jnp.asarray(self.warmup_target).astype(dtype)
        warmup_steps = jnp.asarray(self.warmup_steps).astype(dtype)
        step_f = jnp.minimum(step_f, decay_steps + warmup_steps)
        warm = (target - initial) * (step_f / warmup_steps) + initial
        decayed = self._decay(step_f - warmup_steps, decay_steps, target, dtype)
        return jnp.where(step_f < warmup_steps, warm, decayed)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016).

    Period `i` lasts `first_decay_steps * t_mul**i` steps and starts at
    `initial_learning_rate * m_mul**i`; within a period, with `f` the completed fraction,
    the rate is `initial * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * f)) + alpha)`.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: the length of the first period (> 0).
        t_mul: the factor by which each period is longer than the last.
        m_mul: the factor applied to the starting rate at each restart.
        alpha: the minimum rate as a fraction of `initial_learning_rate`.
        name: the schedule's name.
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay"):
        _check_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> Any:
        initial = _float(self.initial_learning_rate)
        dtype = initial.dtype
        alpha = jnp.asarray(self.alpha).astype(dtype)
        t_mul = jnp.asarray(self._t_mul).astype(dtype)
        m_mul = jnp.asarray(self._m_mul).astype(dtype)
        fraction = (jnp.asarray(step).astype(dtype)
                    / jnp.asarray(self.first_decay_steps).astype(dtype))
        # Keras picks the branch with a cond on `t_mul == 1`; t_mul is a constant here.
        if float(self._t_mul) == 1.0:
            i_restart = jnp.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
            sum_r = (1.0 - jnp.power(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / jnp.power(t_mul, i_restart)
        m_fac = jnp.power(m_mul, i_restart)
        cosine = 0.5 * m_fac * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        return initial * ((1 - alpha) * cosine + alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
    CosineDecayRestarts)}


for _schedule_cls in (LearningRateSchedule, *_SCHEDULES.values()):
    _registry.register(_schedule_cls, "schedules")


def serialize(schedule: LearningRateSchedule) -> dict:
    """The schedule as Keras's serialized dict (`module`, `class_name`, `config`)."""
    return _serialization.serialize(schedule)


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuilds a schedule from `serialize`'s dict (built-in or in `custom_objects`)."""
    return _serialization.deserialize(config, "schedules", custom_objects,
                                      label="learning rate schedule")


__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts",
           "serialize", "deserialize"]
