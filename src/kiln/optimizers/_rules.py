"""Keras's per-variable update rules as pure jax.numpy functions.

Each function takes one gradient `g`, the variable's current value `w` (after weight decay),
its slots, the learning rate `lr` and the 0-based iteration count `step`, and returns the new
value and the new slots. The arithmetic follows `keras/src/optimizers/<name>.py` operation by
operation, including which constants are float32 tensors and which are Python floats (they
round differently: `1 - float32(0.9)` is not `float32(1 - 0.9)`), so results agree with Keras
to the last bit or so. `t = step + 1` is Keras's `local_step`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

Array = Any


def _prep(g: Array, w: Array, lr: Array) -> tuple[Array, Array, Array]:
    """Casts the gradient, learning rate and step to the variable's dtype (as Keras does)."""
    return g.astype(w.dtype), jnp.asarray(lr).astype(w.dtype), w.dtype


def sgd(g, w, s, lr, step, *, momentum: float, nesterov: bool):
    """`w -= lr*g`; with momentum `m = mu*m - lr*g`, then `w += m`
    (Nesterov: `w += mu*m - lr*g`)."""
    g, lr, _ = _prep(g, w, lr)
    if momentum == 0:
        return w - g * lr, s
    m = s["momentum"] * momentum - g * lr
    w = w + (m * momentum - g * lr) if nesterov else w + m
    return w, {"momentum": m}


def rmsprop(g, w, s, lr, step, *, rho: float, momentum: float, epsilon: float, centered: bool):
    """`v = rho*v + (1-rho)*g^2`; `inc = lr*g / sqrt(v + eps)` (eps inside the sqrt).

    Centered: `a = rho*a + (1-rho)*g` and the denominator is `sqrt(v - a^2 + eps)`.
    Momentum: `mom = momentum*mom + inc; w -= mom`; otherwise `w -= inc`.
    """
    g, lr, _ = _prep(g, w, lr)
    out = {}
    v = rho * s["velocity"] + (1 - rho) * jnp.square(g)
    out["velocity"] = v
    if centered:
        a = rho * s["average_gradient"] + (1 - rho) * g
        out["average_gradient"] = a
        denominator = v - jnp.square(a) + epsilon
    else:
        denominator = v + epsilon
    increment = (lr * g) / jnp.sqrt(denominator)
    if momentum > 0:
        mom = momentum * s["momentum"] + increment
        out["momentum"] = mom
        return w - mom, out
    return w - increment, out


def adam(g, w, s, lr, step, *, beta_1: float, beta_2: float, epsilon: float, amsgrad: bool):
    """`m += (g-m)*(1-b1); v += (g^2-v)*(1-b2)`;
    `w -= m * lr*sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps)` (eps on the uncorrected sqrt(v)).

    amsgrad: `v_hat = max(v_hat, v)` replaces `v` in the denominator.
    """
    g, lr, dtype = _prep(g, w, lr)
    t = jnp.asarray(step + 1).astype(dtype)
    b1_power = jnp.power(jnp.asarray(beta_1, dtype), t)
    b2_power = jnp.power(jnp.asarray(beta_2, dtype), t)
    alpha = lr * jnp.sqrt(1 - b2_power) / (1 - b1_power)
    m = s["momentum"] + (g - s["momentum"]) * (1 - beta_1)
    v = s["velocity"] + (jnp.square(g) - s["velocity"]) * (1 - beta_2)
    out = {"momentum": m, "velocity": v}
    if amsgrad:
        v = jnp.maximum(s["velocity_hat"], v)
        out["velocity_hat"] = v
    return w - (m * alpha) / (jnp.sqrt(v) + epsilon), out


def adadelta(g, w, s, lr, step, *, rho: float, epsilon: float):
    """`A = rho*A + (1-rho)*g^2`; `d = -sqrt(D+eps)*g / sqrt(A+eps)`;
    `D = rho*D + (1-rho)*d^2`; `w += lr*d`."""
    g, lr, _ = _prep(g, w, lr)
    acc_g = rho * s["accumulated_grad"] + (1 - rho) * jnp.square(g)
    delta = -((jnp.sqrt(s["accumulated_delta_var"] + epsilon) * g) / jnp.sqrt(acc_g + epsilon))
    acc_d = rho * s["accumulated_delta_var"] + (1 - rho) * jnp.square(delta)
    return w + lr * delta, {"accumulated_grad": acc_g, "accumulated_delta_var": acc_d}


def adagrad(g, w, s, lr, step, *, epsilon: float):
    """`acc += g^2`; `w -= lr*g / sqrt(acc + eps)` (acc starts at initial_accumulator_value)."""
    g, lr, _ = _prep(g, w, lr)
    acc = s["accumulator"] + jnp.square(g)
    return w - (lr * g) / jnp.sqrt(acc + epsilon), {"accumulator": acc}


def nadam_u_product(u_product, step, *, beta_1: float):
    """The shared momentum-schedule product, updated once per step before the variables:
    `u_prod *= b1 * (1 - 0.5 * 0.96^t)`."""
    t = jnp.asarray(step + 1).astype(u_product.dtype)
    return u_product * beta_1 * (1.0 - 0.5 * jnp.power(0.96, t))


def nadam(g, w, s, lr, step, *, beta_1: float, beta_2: float, epsilon: float, u_product):
    """Nesterov Adam with Keras's momentum schedule `u_t = b1*(1 - 0.5*0.96^t)`:
    `m_hat = u_{t+1}*m/(1 - u_prod*u_{t+1}) + (1-u_t)*g/(1 - u_prod)`,
    `v_hat = v/(1-b2^t)`, `w -= lr*m_hat/(sqrt(v_hat) + eps)`."""
    g, lr, dtype = _prep(g, w, lr)
    t = jnp.asarray(step + 1).astype(dtype)
    t_next = jnp.asarray(step + 2).astype(dtype)
    decay = jnp.asarray(0.96, dtype)
    b1 = jnp.asarray(beta_1, dtype)
    b2 = jnp.asarray(beta_2, dtype)
    u_t = b1 * (1.0 - 0.5 * jnp.power(decay, t))
    u_t_1 = b1 * (1.0 - 0.5 * jnp.power(decay, t_next))
    u_prod_t = jnp.asarray(u_product).astype(dtype)
    u_prod_t_1 = u_prod_t * u_t_1
    b2_power = jnp.power(b2, t)
    m = s["momentum"] + (g - s["momentum"]) * (1 - b1)
    v = s["velocity"] + (jnp.square(g) - s["velocity"]) * (1 - b2)
    m_hat = (u_t_1 * m) / (1 - u_prod_t_1) + ((1 - u_t) * g) / (1 - u_prod_t)
    v_hat = v / (1 - b2_power)
    return w - (m_hat * lr) / (jnp.sqrt(v_hat) + epsilon), {"momentum": m, "velocity": v}


def adamax(g, w, s, lr, step, *, beta_1: float, beta_2: float, epsilon: float):
    """`m += (g-m)*(1-b1); u = max(b2*u, |g|)`; `w -= lr*m / ((1-b1^t)*(u + eps))`."""
    g, lr, dtype = _prep(g, w, lr)
    t = jnp.asarray(step + 1).astype(dtype)
    b1_power = jnp.power(jnp.asarray(beta_1, dtype), t)
    m = s["momentum"] + (g - s["momentum"]) * (1 - beta_1)
    u = jnp.maximum(beta_2 * s["norm"], jnp.abs(g))
    return w - (lr * m) / ((1 - b1_power) * (u + epsilon)), {"momentum": m, "norm": u}


def lion(g, w, s, lr, step, *, beta_1: float, beta_2: float):
    """`w -= lr*sign(b1*m + (1-b1)*g)`; then `m = b2*m + (1-b2)*g`."""
    g, lr, dtype = _prep(g, w, lr)
    b1 = jnp.asarray(beta_1, dtype)
    b2 = jnp.asarray(beta_2, dtype)
    m = s["momentum"]
    w = w - lr * jnp.sign(m * b1 + g * (1.0 - b1))
    return w, {"momentum": m * b2 + g * (1.0 - b2)}


def ftrl(g, w, s, lr, step, *, learning_rate_power: float, l1: float, l2: float,
         l2_shrinkage: float, beta: float):
    """FTRL-Proximal (McMahan et al. 2013) in Keras's form; the variable is assigned
    `(clip(z, -l1, l1) - z) / (n_new^-p / lr + 2*l2')` with `l2' = l2 + beta/(2*lr)`."""
    g, lr, _ = _prep(g, w, lr)
    p = learning_rate_power
    l2_reg = l2 + beta / (2.0 * lr)
    grad_to_use = g + (2 * l2_shrinkage) * w
    accum = s["accumulator"]
    new_accum = accum + jnp.square(g)
    linear = s["linear"] + (
        grad_to_use - ((jnp.power(new_accum, -p) - jnp.power(accum, -p)) / lr) * w)
    quadratic = jnp.power(new_accum, -p) / lr + 2 * l2_reg
    w = (jnp.clip(linear, -l1, l1) - linear) / quadratic
    return w, {"accumulator": new_accum, "linear": linear}


def lamb(g, w, s, lr, step, *, beta_1: float, beta_2: float, epsilon: float):
    """Adam's direction, bias-corrected, with eps outside the sqrt, scaled per tensor by the
    trust ratio `||w|| / ||update||` (1 where either norm is 0)."""
    g, lr, dtype = _prep(g, w, lr)
    t = jnp.asarray(step + 1).astype(dtype)
    b1_power = jnp.power(jnp.asarray(beta_1, dtype), t)
    b2_power = jnp.power(jnp.asarray(beta_2, dtype), t)
    m = s["momentum"] + (g - s["momentum"]) * (1 - beta_1)
    v = s["velocity"] + (jnp.square(g) - s["velocity"]) * (1 - beta_2)
    update = (m / (1.0 - b1_power)) / (jnp.sqrt(v / (1.0 - b2_power)) + epsilon)
    w_norm = jnp.sqrt(jnp.sum(jnp.power(w, 2)))
    u_norm = jnp.sqrt(jnp.sum(jnp.power(update, 2)))
    ratio = jnp.where(w_norm > 0, jnp.where(u_norm > 0, w_norm / u_norm, 1.0), 1.0)
    return w - ratio * lr * update, {"momentum": m, "velocity": v}


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


def adafactor(g, w, s, lr, step, *, beta_2_decay: float, epsilon_1: float, epsilon_2: float,
              clip_threshold: float, clamp_lr: bool):
    """Adafactor (Shazeer & Stern 2018) as Keras writes it: the second moment of a tensor
    with ndim >= 2 is factored over its last two axes (row means `r`, column means `c`);
    `beta_2_t = 1 - t^beta_2_decay`; the step is `max(eps2, rms(w)) * min(lr, 1/sqrt(t))`
    times the update clipped to rms <= clip_threshold."""
    g, lr, dtype = _prep(g, w, lr)
    t = jnp.asarray(step + 1).astype(dtype)
    if clamp_lr:
        lr = jnp.minimum(lr, 1 / jnp.sqrt(t))
    rho_t = jnp.minimum(lr, 1 / jnp.sqrt(t))
    alpha_t = jnp.maximum(jnp.asarray(epsilon_2, dtype), _rms(w)) * rho_t
    reg_sq = jnp.square(g) + epsilon_1
    beta_2_t = 1 - jnp.power(t, beta_2_decay)
    out = dict(s)
    if w.ndim >= 2:
        r = beta_2_t * s["r"] + (1 - beta_2_t) * jnp.mean(reg_sq, axis=-1)
        c = beta_2_t * s["c"] + (1 - beta_2_t) * jnp.mean(reg_sq, axis=-2)
        v = (jnp.expand_dims(r / jnp.mean(r, axis=-1, keepdims=True), -1)
             * jnp.expand_dims(c, -2))
        out.update(r=r, c=c)
    else:
        v = beta_2_t * s["v"] + (1 - beta_2_t) * reg_sq
    out["v"] = v
    u = g / jnp.sqrt(v)
    u_hat = u / jnp.maximum(jnp.asarray(1.0, dtype), _rms(u) / clip_threshold)
    return w - alpha_t * u_hat, out
