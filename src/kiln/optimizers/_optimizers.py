"""The Keras optimizers most code uses: SGD, RMSprop, Adam, AdamW, Adadelta, Adagrad, Nadam.

Each class holds its hyperparameters and points `_update_var` at a pure rule in `_rules.py`.
Every constructor also takes the shared arguments of `Optimizer` (weight_decay, clipnorm,
clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
loss_scale_factor, gradient_accumulation_steps, name).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from . import _rules as R
from ._base import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional momentum, in Keras's form.

    Without momentum `w -= lr*g`. With momentum `m = momentum*m - lr*g; w += m`
    (Nesterov: `w += momentum*m - lr*g`). The learning rate sits inside the buffer (PyTorch
    keeps it outside), which matters when the rate changes during training.

    Args:
        learning_rate: float, schedule or callable (default 0.01, the only 0.01 default).
        momentum: float in [0, 1].
        nesterov: whether to use Nesterov momentum.
        **kwargs: the shared `Optimizer` arguments.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> params = {"w": jnp.ones(2)}
        >>> params, state = opt.apply({"w": jnp.ones(2)}, params, opt.init(params))
        >>> params["w"].tolist()
        [0.8999999761581421, 0.8999999761581421]
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not isinstance(momentum, float) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: "
                             f"momentum={momentum!r}. Write it as a float, e.g. 0.9.")
        self.momentum = momentum
        self.nesterov = nesterov

    def _slot_groups(self):
        return (("momentum",),) if self.momentum != 0 else ()

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.sgd(g, w, slots, lr, step, momentum=self.momentum, nesterov=self.nesterov)

    def _own_config(self) -> dict:
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (Hinton), Keras's form: epsilon inside the square root.

    `v = rho*v + (1-rho)*g^2; w -= lr*g / sqrt(v + eps)`. `centered` subtracts the squared
    mean gradient `a = rho*a + (1-rho)*g` inside the root; `momentum > 0` accumulates
    `mom = momentum*mom + increment` and subtracts `mom`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: decay of the squared-gradient average (0.9; PyTorch's alpha is 0.99).
        momentum: momentum factor (0 disables it).
        epsilon: added to the average before the sqrt (1e-7).
        centered: normalise by the gradient's variance estimate.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _slot_groups(self):
        groups = [("velocity",)]
        if self.momentum > 0:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("average_gradient",))
        return tuple(groups)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.rmsprop(g, w, slots, lr, step, rho=self.rho, momentum=self.momentum,
                         epsilon=self.epsilon, centered=self.centered)

    def _own_config(self) -> dict:
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adam(Optimizer):
    """Adam (Kingma & Ba), Keras's form: epsilon on the uncorrected `sqrt(v)`.

    `m += (g-m)*(1-b1); v += (g^2-v)*(1-b2)`;
    `w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)`. With `amsgrad`,
    `v_hat = max(v_hat, v)` replaces `v` in the denominator.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: first-moment decay (0.9).
        beta_2: second-moment decay (0.999).
        epsilon: 1e-7 (PyTorch uses 1e-8, added to the corrected sqrt).
        amsgrad: use the AMSGrad variant.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def _slot_groups(self):
        groups = [("momentum", "velocity")]
        if self.amsgrad:
            groups.append(("velocity_hat",))
        return tuple(groups)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.adam(g, w, slots, lr, step, beta_1=self.beta_1, beta_2=self.beta_2,
                      epsilon=self.epsilon, amsgrad=self.amsgrad)

    def _own_config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): `w -= w*weight_decay*lr`
    before each Adam step, on every variable not excluded with `exclude_from_weight_decay`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        weight_decay: the decay factor (0.004; required).
        beta_1, beta_2, epsilon, amsgrad: as for `Adam`.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None. Use Adam for no weight decay.")


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), scaled by `learning_rate` as in Keras.

    `A = rho*A + (1-rho)*g^2; d = -sqrt(D+eps)/sqrt(A+eps)*g; D = rho*D + (1-rho)*d^2;
    w += lr*d`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: decay of both running averages (0.95).
        epsilon: 1e-7.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def _slot_groups(self):
        return (("accumulated_grad", "accumulated_delta_var"),)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.adadelta(g, w, slots, lr, step, rho=self.rho, epsilon=self.epsilon)

    def _own_config(self) -> dict:
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): `acc += g^2; w -= lr*g / sqrt(acc + eps)`, with the
    accumulator starting at `initial_accumulator_value` (0.1; optax starts at 0.1 too but
    puts eps outside the sqrt).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        initial_accumulator_value: the accumulators' starting value (0.1).
        epsilon: 1e-7.
        **kwargs: the shared `Optimizer` arguments.
    """

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _slot_groups(self):
        return (("accumulator",),)

    def _init_slot(self, name, w):
        return jnp.full(w.shape, self.initial_accumulator_value, w.dtype)

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.adagrad(g, w, slots, lr, step, epsilon=self.epsilon)

    def _own_config(self) -> dict:
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class _AdamLike(Optimizer):
    """Shared constructor and config of the optimizers whose own arguments are exactly
    Keras's `beta_1=0.9, beta_2=0.999, epsilon=1e-7` (Nadam, Adamax, Lamb)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _own_config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(_AdamLike):
    """Nesterov-accelerated Adam (Dozat 2016) with Keras's momentum schedule
    `u_t = beta_1*(1 - 0.5*0.96^t)` and its running product `u_product` (one scalar for the
    whole optimizer, the last of `variables`).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: 0.9.  beta_2: 0.999.  epsilon: 1e-7.
        **kwargs: the shared `Optimizer` arguments.
    """

    def _slot_groups(self):
        return (("momentum", "velocity"),)

    def _init_shared(self, leaves):
        dtype = leaves[0].dtype if leaves else jnp.float32
        return {"u_product": jnp.asarray(1.0, dtype)}

    def _update_shared(self, shared, step):
        return {"u_product": R.nadam_u_product(shared["u_product"], step, beta_1=self.beta_1)}

    def _update_var(self, g, w, slots, lr, step, shared):
        return R.nadam(g, w, slots, lr, step, beta_1=self.beta_1, beta_2=self.beta_2,
                       epsilon=self.epsilon, u_product=shared["u_product"])

