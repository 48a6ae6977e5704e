"""The less common Keras optimizers: Adamax, Lion, Ftrl, Lamb, Adafactor.

Every constructor also takes the shared arguments of `Optimizer`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from . import _rules as R
from ._base import Optimizer
from ._optimizers import _AdamLike


class Adamax(_AdamLike):
    """Adamax (Kingma & Ba, section 7): Adam with the infinity norm.

    `m += (g-m)*(1-b1); u = max(b2*u, |g|); w -= lr*m / ((1-b1^t)*(u + eps))`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: 0.9.  beta_2: 0.999.  epsilon: 1e-7.
        **kwargs: the shared `Optimizer` arguments.
    """

    def _slot_groups(self):
        return (("momentum", "norm"),)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.adamax(g, w, slots, lr, step, beta_1=self.beta_1, beta_2=self.beta_2,
                        epsilon=self.epsilon)


class Lion(Optimizer):
    """Lion (Chen et al. 2023): `w -= lr*sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: interpolation for the update direction, in (0, 1] (0.9).
        beta_2: momentum decay (0.99).
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the (0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = beta_1, beta_2

    def _slot_groups(self):
        return (("momentum",),)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.lion(g, w, slots, lr, step, beta_1=self.beta_1, beta_2=self.beta_2)

    def _own_config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}


_FTRL_NONNEGATIVE = ("initial_accumulator_value", "l1_regularization_strength",
                     "l2_regularization_strength", "l2_shrinkage_regularization_strength")


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013) with L1/L2 and L2-shrinkage regularisation.

    Per element, with `n` the squared-gradient accumulator and `z` the linear term:
    `n' = n + g^2; z += g + 2*l2s*w - (n'^-p - n^-p)/lr * w;
    w = (clip(z, -l1, l1) - z) / (n'^-p/lr + 2*(l2 + beta/(2*lr)))`, `p` the learning-rate
    power.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        learning_rate_power: <= 0 (-0.5).
        initial_accumulator_value: >= 0 (0.1).
        l1_regularization_strength, l2_regularization_strength,
        l2_shrinkage_regularization_strength: >= 0 (0.0).
        beta: 0.0.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        values = dict(initial_accumulator_value=initial_accumulator_value,
                      l1_regularization_strength=l1_regularization_strength,
                      l2_regularization_strength=l2_regularization_strength,
                      l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength)
        for key in _FTRL_NONNEGATIVE:
            if values[key] < 0.0:
                raise ValueError(f"`{key}` needs to be positive or zero. Received: "
                                 f"{key}={values[key]}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.beta = beta
        for key, value in values.items():
            setattr(self, key, value)

    def _slot_groups(self):
        return (("accumulator", "linear"),)

    def _init_slot(self, name, w):
        if name == "accumulator":
            return jnp.full(w.shape, self.initial_accumulator_value, w.dtype)
        return jnp.zeros(w.shape, w.dtype)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.ftrl(g, w, slots, lr, step, learning_rate_power=self.learning_rate_power,
                      l1=self.l1_regularization_strength, l2=self.l2_regularization_strength,
                      l2_shrinkage=self.l2_shrinkage_regularization_strength, beta=self.beta)

    def _own_config(self) -> dict:
        return {"learning_rate_power": self.learning_rate_power,
                **{key: getattr(self, key) for key in _FTRL_NONNEGATIVE}, "beta": self.beta}


class Lamb(_AdamLike):
    """LAMB (You et al. 2019): Adam's bias-corrected direction `u = m_hat/(sqrt(v_hat)+eps)`
    scaled per tensor by the trust ratio `||w||/||u||`. (Keras has no "lamb" string.)

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: 0.9.  beta_2: 0.999.  epsilon: 1e-7.
        **kwargs: the shared `Optimizer` arguments.
    """

    def _slot_groups(self):
        return (("momentum", "velocity"),)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.lamb(g, w, slots, lr, step, beta_1=self.beta_1, beta_2=self.beta_2,
                      epsilon=self.epsilon)


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018) as Keras implements it: factored second moments
    over the last two axes of tensors with ndim >= 2 (slots "r" and "c"; Keras keeps int32
    placeholder scalars for smaller tensors), `beta_2_t = 1 - t^beta_2_decay`, relative step
    size `max(epsilon_2, rms(w)) * min(lr, 1/sqrt(t))` and update clipping to rms
    `clip_threshold`. With a float learning rate and `relative_step`, the rate is also
    capped at `1/sqrt(t)`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_2_decay: -0.8.  epsilon_1: 1e-30.  epsilon_2: 1e-3.  clip_threshold: 1.0.
        relative_step: True.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_2_decay: float = -0.8,
                 epsilon_1: float = 1e-30, epsilon_2: float = 1e-3, clip_threshold: float = 1.0,
                 relative_step: bool = True, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def _slot_groups(self):
        return (("r", "c", "v"),)

    def _init_slot(self, name, w):
        if name == "v":
            return jnp.zeros(w.shape, w.dtype)
        if w.ndim < 2:
            return jnp.asarray(0, jnp.int32)
        shape = w.shape[:-1] if name == "r" else w.shape[:-2] + w.shape[-1:]
        return jnp.zeros(shape, w.dtype)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.adafactor(g, w, slots, lr, step, beta_2_decay=self.beta_2_decay,
                           epsilon_1=self.epsilon_1, epsilon_2=self.epsilon_2,
                           clip_threshold=self.clip_threshold,
                           clamp_lr=self._lr.schedule is None and self.relative_step)

    def _own_config(self) -> dict:
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}
