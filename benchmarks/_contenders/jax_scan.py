"""Hand-written epoch as one `lax.scan`: a whole epoch is a single jitted call.

The data lives on the device; the epoch's permutation is drawn inside the call and reshaped
to [steps, batch] indices that the scan walks; a last partial batch (if any) is one more step
in the same call. Predict is likewise one scan over the batches.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from _common import Config, EpochClock, time_predict
from _contenders import jax_common as jc


@partial(jax.jit, static_argnames=("batch", "model"), donate_argnums=(0,))
def _epoch(state, x, y, key, batch, model):
    n = x.shape[0]
    full = n // batch
    perm = jax.random.permutation(key, n)

    def body(carry, idx):
        return jc.train_step(carry, x[idx], y[idx], model), None

    state, _ = jax.lax.scan(body, jc.reset_metrics(state), perm[: full * batch].reshape(full, batch))
    if n % batch:
        rest = perm[full * batch:]
        state = jc.train_step(state, x[rest], y[rest], model)
    return state


@partial(jax.jit, static_argnames=("batch", "model"))
def _predict(params, x, batch, model):
    n = x.shape[0]
    full = n // batch
    xs = x[: full * batch].reshape(full, batch, *x.shape[1:])
    _, out = jax.lax.scan(lambda c, xb: (c, jc.predict_probs(params, xb, model)), None, xs)
    out = out.reshape(full * batch, -1)
    if n % batch:
        out = jnp.concatenate([out, jc.predict_probs(params, x[full * batch:], model)])
    return out


def run(cfg: Config, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    clock = EpochClock()
    xd, yd = jax.device_put(x), jax.device_put(y)
    key = jax.random.key(0)
    key, init_key = jax.random.split(key)
    state = jc.init_state(cfg, init_key)
    logs = {}
    for _ in range(cfg.epochs):
        key, sub = jax.random.split(key)
        state = _epoch(state, xd, yd, sub, cfg.batch_size, cfg.model)
        logs = jc.epoch_logs(state)
        clock.mark()
    out = clock.summary() | {"final_loss": logs["loss"], "final_accuracy": logs["accuracy"]}
    out.update(time_predict(
        lambda: np.asarray(_predict(state["params"], xd, cfg.batch_size, cfg.model)),
        cfg.predict_repeats))
    return out
