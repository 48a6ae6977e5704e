"""InceptionResNetV2 (Keras's `keras.applications.inception_resnet_v2`): a stem, then
residual inception blocks (block35 x10, block17 x20, block8 x10) whose residual branch is
scaled by `CustomScaleLayer` before it is added."""

from __future__ import annotations

from typing import Any

import jax

from kiln import _registry, layers
from kiln.applications import _common
from kiln.layers import Layer
from kiln.models import Model

BASE_URL = f"{_common.BASE_URL}inception_resnet_v2/"
_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")  # top, no top
# block type: each branch as its chain of (filters, kernel size) convolutions
_BRANCHES = {
    "block35": (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3))),
    "block17": (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1)))),
    "block8": (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1)))),
}


class CustomScaleLayer(Layer):
    """`inputs[0] + inputs[1] * scale`: adds a scaled residual branch (Keras's layer of the
    same name, the same config: `scale`).

    Args:
        scale: the factor on the second input.

    Example:
        >>> import numpy as np
        >>> CustomScaleLayer(0.5)([np.ones((1, 2)), np.full((1, 2), 4.0)]).tolist()
        [[3.0, 3.0]]
    """

    def __init__(self, scale: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs: Any) -> jax.Array:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("CustomScaleLayer expects a list of two tensors [x, residual]. "
                             f"Received: {type(inputs).__name__}. Fix: call it on [x, up].")
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


def conv2d_bn(x: Any, filters: int, kernel_size: Any, strides: int = 1, padding: str = "same",
              activation: str | None = "relu", use_bias: bool = False,
              name: str | None = None) -> Any:
    """Keras's `conv2d_bn` here: Conv2D `name`; without a bias, BatchNormalization (no scale)
    `{name}_bn`; then the activation `{name}_ac` (automatic names when `name` is None).

    Example:
        >>> import kiln
        >>> y = conv2d_bn(kiln.layers.Input((8, 8, 3)), 4, 3, strides=2, name="c")
        >>> tuple(y.shape)
        (None, 4, 4, 4)
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False,
                                      name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def inception_resnet_block(x: Any, scale: float, block_type: str, block_idx: int,
                           activation: str | None = "relu") -> Any:
    """One residual inception block: branches, `{block}_mixed`, the 1x1 `{block}_conv` back
    to the input's channels, `x + scale * up`, the activation `{block}_ac`."""
    if block_type not in _BRANCHES:
        raise ValueError("Unknown Inception-ResNet block type. Expected 'block35', 'block17' "
                         f"or 'block8'. Received: block_type={block_type!r}.")
    branches = []
    for chain in _BRANCHES[block_type]:
        branch = x
        for filters, kernel_size in chain:
            branch = conv2d_bn(branch, filters, kernel_size)
        branches.append(branch)
    block_name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=3, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[3], 1, activation=None, use_bias=True,
                   name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def _stem(x: Any) -> Any:
    """The convolutions and pools up to `mixed_5b` (35x35 for 299x299 inputs)."""
    x = conv2d_bn(x, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    branch_0 = conv2d_bn(x, 96, 1)
    branch_1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    branch_2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    branch_pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    branch_pool = conv2d_bn(branch_pool, 64, 1)
    return layers.Concatenate(axis=3, name="mixed_5b")(
        [branch_0, branch_1, branch_2, branch_pool])


def _reduction_a(x: Any) -> Any:
    """`mixed_6a`: 35x35 to 17x17."""
    branch_0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(conv2d_bn(x, 256, 1), 256, 3)
    branch_1 = conv2d_bn(branch_1, 384, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    return layers.Concatenate(axis=3, name="mixed_6a")([branch_0, branch_1, branch_pool])


def _reduction_b(x: Any) -> Any:
    """`mixed_7a`: 17x17 to 8x8."""
    branch_0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    branch_2 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3)
    branch_2 = conv2d_bn(branch_2, 320, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    return layers.Concatenate(axis=3, name="mixed_7a")(
        [branch_0, branch_1, branch_2, branch_pool])


def inception_resnet_v2_url(include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's InceptionResNetV2 ImageNet weights.

    Example:
        >>> inception_resnet_v2_url(False)[0]
        'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    fname = ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels"
             + ("" if include_top else "_notop"))
    return f"{fname}.h5", f"{BASE_URL}{fname}.h5", _HASHES[0 if include_top else 1]


def inception_resnet_v2(include_top: bool, weights: Any, input_tensor: Any, input_shape: Any,
                        pooling: Any, classes: int, classifier_activation: Any,
                        name: str) -> Model:
    """Keras's InceptionResNetV2 with Keras's layer names (inputs of at least 75x75)."""
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, 299, 75, include_top, weights)
    x = _stem(x)
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, 0.17, "block35", block_idx)
    x = _reduction_a(x)
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, 0.1, "block17", block_idx)
    x = _reduction_b(x)
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, 0.2, "block8", block_idx)
    x = inception_resnet_block(x, 1.0, "block8", 10, activation=None)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:  # Keras leaves these pooling layers unnamed here
        x = _common.pool(x, pooling, avg_name=None, max_name=None)
    return _common.build(inputs, x, name, weights,
                         lambda: inception_resnet_v2_url(include_top))


_registry.register(CustomScaleLayer, "layers")
