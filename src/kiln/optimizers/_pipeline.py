"""The steps Keras runs around every optimizer's update rule, as pure functions.

They work on flat lists of leaves (one entry per variable, `None` where a variable got no
gradient), in the order of `keras/src/optimizers/base_optimizer.py::apply` and
`keras/src/backend/jax/optimizer.py::JaxOptimizer._backend_apply_gradients`:
unscale -> accumulate -> clip -> weight decay -> update rule -> EMA -> constraints.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax.numpy as jnp

Leaves = list  # list of arrays, None where a variable has no gradient


def clip_by_norm(g: Any, clipnorm: float) -> Any:
    """Scales one gradient tensor so its L2 norm is at most `clipnorm`:
    `g * clipnorm / max(||g||, clipnorm)` (Keras's `_clip_by_norm`, safe at norm 0)."""
    l2sum = jnp.sum(jnp.square(g), axis=None, keepdims=True)
    positive = l2sum > 0
    l2norm = jnp.where(positive, jnp.sqrt(jnp.where(positive, l2sum, jnp.ones_like(l2sum))), l2sum)
    return (g * clipnorm) / jnp.maximum(l2norm, clipnorm)


def clip_by_global_norm(grads: Leaves, clipnorm: float) -> Leaves:
    """Scales all gradients by `clipnorm * min(1/N, 1/clipnorm)`, `N` the global L2 norm;
    a non-finite `N` turns every gradient into NaN, as in Keras."""
    present = [g for g in grads if g is not None]
    norm = jnp.sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g)) for g in present])))
    scale = clipnorm * jnp.minimum(1.0 / norm, 1.0 / clipnorm) + (norm - norm)
    return [None if g is None else g * scale for g in grads]


def clip_gradients(grads: Leaves, clipnorm: float | None, clipvalue: float | None,
                   global_clipnorm: float | None) -> Leaves:
    """Applies whichever of Keras's three clipping options is set (a value <= 0 is off)."""
    if clipnorm and clipnorm > 0:
        return [None if g is None else clip_by_norm(g, clipnorm) for g in grads]
    if global_clipnorm and global_clipnorm > 0:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue and clipvalue > 0:
        return [None if g is None else jnp.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


def decay_weights(params: Leaves, grads: Leaves, use_decay: Sequence[bool],
                  weight_decay: float | None, lr: Any) -> Leaves:
    """Decoupled weight decay `w -= w * wd * lr`, before the update rule, on every variable
    that has a gradient and is not excluded (Keras's `_apply_weight_decay`)."""
    if weight_decay is None:
        return params
    out = []
    for w, g, use in zip(params, grads, use_decay):
        if g is not None and use:
            w = w - w * jnp.asarray(weight_decay, w.dtype) * jnp.asarray(lr).astype(w.dtype)
        out.append(w)
    return out


def accumulate(grads: Leaves, accumulators: Leaves, is_update: Any, steps: int
               ) -> tuple[Leaves, Leaves]:
    """Gradient accumulation as Keras's JAX backend does it: on an update step the gradient
    becomes `(g + acc) / steps` and the accumulator resets to 0; otherwise the accumulator
    becomes `g + acc` (the update computed from `g` alone is then discarded)."""
    new_grads, new_accs = [], []
    for g, acc in zip(grads, accumulators):
        if g is None:
            new_grads.append(None)
            new_accs.append(acc)
            continue
        new_grads.append(jnp.where(is_update, (g + acc) / steps, g))
        new_accs.append(jnp.where(is_update, jnp.zeros_like(acc), g + acc))
    return new_grads, new_accs


def select(pred: Any, new: Leaves, old: Leaves) -> Leaves:
    """`new` where `pred` holds, else `old`, leaf by leaf."""
    return [jnp.where(pred, n, o) for n, o in zip(new, old)]


def ema_update(averages: Leaves, params: Leaves, step: Any, momentum: float) -> Leaves:
    """`avg = mu*avg + (1-mu)*w` with `mu = ema_momentum`, except `mu = 0` at step 0
    (so the average starts at the weights); on all variables, as in Keras."""
    out = []
    for avg, w in zip(averages, params):
        mu = (step != 0).astype(w.dtype) * momentum
        out.append(mu * avg + (1 - mu) * w)
    return out
