"""The hand-written JAX models shared by the `jax-jit` and `jax-scan` contenders.

Plain JAX + optax, written as a careful user would: Glorot-uniform kernels and zero biases
(Keras's Dense defaults), optax.adam with Keras's epsilon, the loss and an accuracy count
computed in the step (the same work as Keras's fit with metrics=["accuracy"]). The MLP is
here; the convnet (Keras's mnist_convnet) is in jax_convnet.py. `model` ("mlp" / "convnet")
is a static argument of the jitted callers.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from _common import EPSILON, LEARNING_RATE, N_CLASSES, N_FEATURES, Config
from _contenders import jax_convnet

OPTIMIZER = optax.adam(LEARNING_RATE, eps=EPSILON)


def init_params(cfg: Config, key: jax.Array) -> list[dict[str, jax.Array]]:
    sizes = [N_FEATURES, *cfg.hidden, N_CLASSES]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        key, sub = jax.random.split(key)
        limit = (6.0 / (fan_in + fan_out)) ** 0.5
        params.append({"w": jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -limit, limit),
                       "b": jnp.zeros((fan_out,), jnp.float32)})
    return params


def mlp_logits(params: list[dict[str, jax.Array]], x: jax.Array) -> jax.Array:
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def logits(model: str, params: Any, x: jax.Array, dropout_key: jax.Array | None = None):
    """The model's logits; `dropout_key` (convnet, training only) switches dropout on."""
    if model == "convnet":
        return jax_convnet.logits(params, x, dropout_key)
    return mlp_logits(params, x)


def init_state(cfg: Config, key: jax.Array) -> dict[str, Any]:
    if cfg.model == "convnet":
        key, dropout_key = jax.random.split(key)
        params, extra = jax_convnet.init_params(key), {"key": dropout_key}
    else:
        params, extra = init_params(cfg, key), {}  # the MLP has no dropout: no key to split
    return {"params": params, "opt": OPTIMIZER.init(params),
            "loss_sum": jnp.zeros((), jnp.float32), "correct": jnp.zeros((), jnp.int32),
            "count": jnp.zeros((), jnp.int32)} | extra


def train_step(state: dict[str, Any], xb: jax.Array, yb: jax.Array,
               model: str = "mlp") -> dict[str, Any]:
    """One Adam step on a batch; accumulates the summed loss and the correct predictions."""
    key, dropout_key = jax.random.split(state["key"]) if "key" in state else (None, None)

    def loss_fn(params):
        z = logits(model, params, xb, dropout_key)
        loss = optax.softmax_cross_entropy_with_integer_labels(z, yb).mean()
        return loss, z

    (loss, z), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
    updates, opt = OPTIMIZER.update(grads, state["opt"], state["params"])
    n = yb.shape[0]
    return {"params": optax.apply_updates(state["params"], updates), "opt": opt,
            "loss_sum": state["loss_sum"] + loss * n,
            "correct": state["correct"] + jnp.sum(jnp.argmax(z, -1) == yb).astype(jnp.int32),
            "count": state["count"] + n} | ({"key": key} if key is not None else {})


def reset_metrics(state: dict[str, Any]) -> dict[str, Any]:
    zero = jnp.zeros((), jnp.float32)
    return state | {"loss_sum": zero, "correct": jnp.zeros((), jnp.int32),
                    "count": jnp.zeros((), jnp.int32)}


def epoch_logs(state: dict[str, Any]) -> dict[str, float]:
    """Fetches the epoch's mean loss and accuracy (waits for the device, as fit's logs do)."""
    count = float(state["count"])
    return {"loss": float(state["loss_sum"]) / count, "accuracy": float(state["correct"]) / count}


def predict_probs(params: Any, xb: jax.Array, model: str = "mlp") -> jax.Array:
    return jax.nn.softmax(logits(model, params, xb), axis=-1)
