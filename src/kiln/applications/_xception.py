"""Xception (Keras's `keras.applications.xception`): depthwise-separable convolutions with
residual connections; entry flow, 8 middle blocks, exit flow."""

from __future__ import annotations

from typing import Any

from kiln import layers
from kiln.applications import _common
from kiln.models import Model

BASE_URL = f"{_common.BASE_URL}xception/"
_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")  # top, no top


def _bn(x: Any, name: str | None = None) -> Any:
    return layers.BatchNormalization(axis=-1, name=name)(x)


def _relu(x: Any, name: str) -> Any:
    return layers.Activation("relu", name=name)(x)


def _sep_bn(x: Any, filters: int, name: str) -> Any:
    """A 3x3 separable convolution (no bias) and its BatchNormalization `{name}_bn`."""
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return _bn(x, f"{name}_bn")


def _reduction_block(x: Any, filters: tuple[int, int], prefix: str, first_relu: bool) -> Any:
    """Two separable convolutions and a stride-2 max pool, plus a strided 1x1 shortcut."""
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same",
                             use_bias=False)(x)
    residual = _bn(residual)
    if first_relu:
        x = _relu(x, f"{prefix}_sepconv1_act")
    x = _sep_bn(x, filters[0], f"{prefix}_sepconv1")
    x = _relu(x, f"{prefix}_sepconv2_act")
    x = _sep_bn(x, filters[1], f"{prefix}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"{prefix}_pool")(x)
    return layers.Add()([x, residual])


def _middle_block(x: Any, prefix: str) -> Any:
    """Three ReLU + separable convolutions of 728 channels, with an identity shortcut."""
    residual = x
    for i in (1, 2, 3):
        x = _relu(x, f"{prefix}_sepconv{i}_act")
        x = _sep_bn(x, 728, f"{prefix}_sepconv{i}")
    return layers.Add()([x, residual])


def xception_url(include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's Xception ImageNet weights.

    Example:
        >>> xception_url(False)[0]
        'xception_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    fname = "xception_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop")
    return f"{fname}.h5", f"{BASE_URL}{fname}.h5", _HASHES[0 if include_top else 1]


def xception(include_top: bool, weights: Any, input_tensor: Any, input_shape: Any,
             pooling: Any, classes: int, classifier_activation: Any, name: str) -> Model:
    """Keras's Xception with Keras's layer names (inputs of at least 71x71)."""
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, 299, 71, include_top, weights)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(x)
    x = _relu(_bn(x, "block1_conv1_bn"), "block1_conv1_act")
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = _relu(_bn(x, "block1_conv2_bn"), "block1_conv2_act")
    x = _reduction_block(x, (128, 128), "block2", first_relu=False)
    x = _reduction_block(x, (256, 256), "block3", first_relu=True)
    x = _reduction_block(x, (728, 728), "block4", first_relu=True)
    for i in range(8):
        x = _middle_block(x, f"block{i + 5}")
    x = _reduction_block(x, (728, 1024), "block13", first_relu=True)
    x = _relu(_sep_bn(x, 1536, "block14_sepconv1"), "block14_sepconv1_act")
    x = _relu(_sep_bn(x, 2048, "block14_sepconv2"), "block14_sepconv2_act")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:  # Keras leaves these pooling layers unnamed here
        x = _common.pool(x, pooling, avg_name=None, max_name=None)
    return _common.build(inputs, x, name, weights, lambda: xception_url(include_top))
