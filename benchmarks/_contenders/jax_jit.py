"""Hand-written `jax.jit` step loop: data on the device, one jitted call per batch.

Each epoch draws a permutation on the device; each call slices its batch's indices from it
and gathers the rows inside the jitted step, so only a scalar offset crosses from the host.
The state is donated, so XLA updates the weights in place.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from _common import Config, EpochClock, time_predict
from _contenders import jax_common as jc


@partial(jax.jit, static_argnames=("size", "model"), donate_argnums=(0,))
def _step(state, x, y, perm, start, size, model):
    idx = jax.lax.dynamic_slice(perm, (start,), (size,))
    return jc.train_step(state, x[idx], y[idx], model)


@partial(jax.jit, static_argnames=("size", "model"))
def _predict_batch(params, x, start, size, model):
    return jc.predict_probs(params, jax.lax.dynamic_slice_in_dim(x, start, size), model)


def _batches(n: int, batch: int):
    for start in range(0, n, batch):
        yield start, min(batch, n - start)


def run(cfg: Config, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    clock = EpochClock()
    xd, yd = jax.device_put(x), jax.device_put(y)
    key = jax.random.key(0)
    key, init_key = jax.random.split(key)
    state = jc.init_state(cfg, init_key)
    n = x.shape[0]
    logs = {}
    for _ in range(cfg.epochs):
        key, sub = jax.random.split(key)
        perm = jax.random.permutation(sub, n)
        state = jc.reset_metrics(state)
        for start, size in _batches(n, cfg.batch_size):
            state = _step(state, xd, yd, perm, start, size, cfg.model)
        logs = jc.epoch_logs(state)
        clock.mark()
    out = clock.summary() | {"final_loss": logs["loss"], "final_accuracy": logs["accuracy"]}

    def predict():
        parts = [_predict_batch(state["params"], xd, start, size, cfg.model)
                 for start, size in _batches(n, cfg.batch_size)]
        return np.asarray(jnp.concatenate(parts))

    out.update(time_predict(predict, cfg.predict_repeats))
    return out
