"""Keras's mnist_convnet written by hand in JAX (NHWC), for the `jax-jit` / `jax-scan` contenders.

Conv2D(32, 3, relu) - MaxPool(2) - Conv2D(64, 3, relu) - MaxPool(2) - Flatten - Dropout(0.5)
- Dense(10). Glorot-uniform kernels (fans as Keras counts them for a conv kernel: receptive
field x channels) and zero biases, Keras's Conv2D / Dense defaults, as in the MLP contenders.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from _common import IMAGE_SHAPE, N_CLASSES

DIMENSIONS = ("NHWC", "HWIO", "NHWC")  # channels-last, as Keras's default data_format
DROPOUT_RATE = 0.5


def _glorot(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def _flat_size() -> int:
    h, w, _ = IMAGE_SHAPE
    for _ in range(2):  # each block: a valid 3x3 conv (-2), then a 2x2 pool (floor halving)
        h, w = (h - 2) // 2, (w - 2) // 2
    return h * w * 64


def init_params(key: jax.Array) -> dict[str, dict[str, jax.Array]]:
    k1, k2, k3 = jax.random.split(key, 3)
    shapes = {"conv1": (3, 3, IMAGE_SHAPE[-1], 32), "conv2": (3, 3, 32, 64),
              "dense": (_flat_size(), N_CLASSES)}
    return {name: {"w": _glorot(k, shape), "b": jnp.zeros((shape[-1],), jnp.float32)}
            for k, (name, shape) in zip((k1, k2, k3), shapes.items())}


def _conv_relu_pool(layer: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    y = jax.lax.conv_general_dilated(x, layer["w"], (1, 1), "VALID", dimension_numbers=DIMENSIONS)
    y = jax.nn.relu(y + layer["b"])
    return jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def logits(params: dict[str, dict[str, jax.Array]], x: jax.Array,
           dropout_key: jax.Array | None = None) -> jax.Array:
    """Forward pass; inverted dropout (keep 1 - rate, scale 1 / keep) only with a key."""
    x = _conv_relu_pool(params["conv2"], _conv_relu_pool(params["conv1"], x))
    x = x.reshape(x.shape[0], -1)
    if dropout_key is not None:
        keep = 1.0 - DROPOUT_RATE
        x = jnp.where(jax.random.bernoulli(dropout_key, keep, x.shape), x / keep, 0.0)
    return x @ params["dense"]["w"] + params["dense"]["b"]
