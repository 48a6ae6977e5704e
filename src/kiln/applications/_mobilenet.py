"""MobileNet (V1) and MobileNetV2 (Keras's `keras.applications.mobilenet`, `mobilenet_v2`),
and the helpers MobileNetV3 shares with them."""

from __future__ import annotations

import warnings
from typing import Any

from kiln import layers
from kiln.applications import _common, imagenet_utils
from kiln.models import Model

V1_BASE = f"{_common.BASE_URL}mobilenet/"
V2_BASE = f"{_common.BASE_URL}mobilenet_v2/"
_V1_SIZES = (128, 160, 192, 224)
_V2_SIZES = (96, 128, 160, 192, 224)
_V1_ALPHAS = (0.25, 0.50, 0.75, 1.0)
_V2_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
# (pointwise filters, stride) of V1's 13 depthwise blocks
_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
              (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
# (filters, stride, expansion) of V2's 17 inverted residual blocks
_V2_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
              (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
              (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """`v` rounded to a multiple of `divisor`, never below 90% of `v` (Keras's rule).

    Example:
        >>> make_divisible(32 * 0.35), make_divisible(1280 * 1.4)
        (16, 1792)
    """
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def correct_pad(x: Any, kernel_size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The ZeroPadding2D before a stride-2 "valid" convolution (Keras's `correct_pad`).

    Example:
        >>> correct_pad(layers.Input((32, 32, 3)), 3)
        ((0, 1), (0, 1))
    """
    size = x.shape[1:3]
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def batch_norm(x: Any, name: str, v2: bool) -> Any:
    """BatchNormalization on channels: Keras's defaults (V1), or V2/V3's epsilon and momentum."""
    if v2:  # V2 and V3 use TensorFlow-slim's BatchNormalization settings
        return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=name)(x)


def check_tensor_shape(input_tensor: Any, input_shape: Any) -> None:
    """V2/V3: an `input_tensor` given with an `input_shape` must agree in width."""
    if input_tensor is None or input_shape is None:
        return
    if not isinstance(input_tensor, layers.KerasTensor):
        return  # `_common.make_input` says what to pass instead
    if input_tensor.shape[2] != input_shape[1]:
        raise ValueError("input_tensor.shape[2] must equal input_shape[1]. Received "
                         f"input_tensor.shape={input_tensor.shape}, input_shape={input_shape}. "
                         "Fix: drop input_shape, or make the two agree.")


def _default_size(input_shape: Any, input_tensor: Any, sizes: tuple[int, ...]) -> int:
    """The input size a square `input_shape` (else the tensor's) names, if it is one of
    `sizes`; else 224."""
    if input_shape is not None:
        rows, cols = input_shape[0], input_shape[1]
    elif isinstance(input_tensor, layers.KerasTensor):
        rows, cols = input_tensor.shape[1], input_tensor.shape[2]
    else:
        return 224
    return rows if rows == cols and rows in sizes else 224


def _imagenet_rows(shape: tuple, sizes: tuple[int, ...]) -> Any:
    """The image size of the weight file: the input's, or 224 (with Keras's warning)."""
    rows, cols = shape[0], shape[1]
    if rows == cols and rows in sizes:
        return rows
    warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                  f"{list(sizes)}. Weights for input shape (224, 224) will be loaded as the "
                  "default.", stacklevel=4)
    return 224


def _check_alpha(alpha: float, allowed: tuple[float, ...]) -> None:
    if alpha not in allowed:
        raise ValueError("If imagenet weights are being loaded, alpha must be one of "
                         f"{list(allowed)}. Received: alpha={alpha}. Fix: pick one of those, "
                         "or pass weights=None.")


def v1_url(alpha: float, rows: int, include_top: bool) -> tuple[str, str, None]:
    """(file name, origin, hash) of Keras's MobileNet (V1) ImageNet weights (Keras gives no
    hash for these files).

    Example:
        >>> v1_url(0.5, 160, False)[0]
        'mobilenet_5_0_160_tf_no_top.h5'
    """
    text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0"}.get(alpha, "2_5")
    fname = f"mobilenet_{text}_{rows}_tf" + (".h5" if include_top else "_no_top.h5")
    return fname, V1_BASE + fname, None


def v2_url(alpha: float, rows: int, include_top: bool) -> tuple[str, str, None]:
    """(file name, origin, hash) of Keras's MobileNetV2 ImageNet weights (no hash in Keras).

    Example:
        >>> v2_url(1.4, 224, True)[0]
        'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5'
    """
    fname = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
             + (".h5" if include_top else "_no_top.h5"))
    return fname, V2_BASE + fname, None


def conv_block(x: Any, filters: int, alpha: float, strides: int = 2) -> Any:
    """V1's stem: 3x3 convolution, BatchNormalization, ReLU6."""
    x = layers.Conv2D(int(filters * alpha), 3, padding="same", use_bias=False, strides=strides,
                      name="conv1")(x)
    return layers.ReLU(6.0, name="conv1_relu")(batch_norm(x, "conv1_bn", False))


def depthwise_block(x: Any, filters: int, alpha: float, depth_multiplier: int, strides: int,
                    block_id: int) -> Any:
    """V1's depthwise-separable block (a stride-2 one pads bottom-right, then "valid")."""
    if strides != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(3, padding="same" if strides == 1 else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = batch_norm(x, f"conv_dw_{block_id}_bn", False)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(filters * alpha), 1, padding="same", use_bias=False,
                      name=f"conv_pw_{block_id}")(x)
    x = batch_norm(x, f"conv_pw_{block_id}_bn", False)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _v1_top(x: Any, include_top: bool, dropout: float, pooling: Any, classes: int,
            classifier_activation: Any, weights: Any) -> Any:
    if not include_top:
        return _common.pool(x, pooling, None, None)
    x = layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
    x = layers.Reshape((classes,), name="reshape_2")(x)
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Activation(classifier_activation, name="predictions")(x)


def mobilenet_v1(input_shape: Any, alpha: float, depth_multiplier: int, dropout: float,
                 include_top: bool, weights: Any, input_tensor: Any, pooling: Any,
                 classes: int, classifier_activation: Any, name: str | None) -> Model:
    """Keras's MobileNet (V1): Keras's names, arguments, defaults and weight files."""
    _common.check_args(weights, include_top, classes)
    size = _default_size(input_shape, None, _V1_SIZES)
    shape = imagenet_utils.obtain_input_shape(input_shape, size, 32, include_top, weights)
    rows = shape[0]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be "
                             f"1. Received: depth_multiplier={depth_multiplier}. Fix: pass "
                             "depth_multiplier=1 or weights=None.")
        _check_alpha(alpha, _V1_ALPHAS)
        rows = _imagenet_rows(shape, _V1_SIZES)
    inputs, x = _common.make_input(input_tensor, shape, size, 32, include_top, weights)
    x = conv_block(x, 32, alpha)
    for block_id, (filters, strides) in enumerate(_V1_BLOCKS, start=1):
        x = depthwise_block(x, filters, alpha, depth_multiplier, strides, block_id)
    x = _v1_top(x, include_top, dropout, pooling, classes, classifier_activation, weights)
    name = f"mobilenet_{alpha:0.2f}_{rows}" if name is None else name
    return _common.build(inputs, x, name, weights, lambda: v1_url(alpha, rows, include_top))


def inverted_res_block(x: Any, expansion: int, stride: int, alpha: float, filters: int,
                       block_id: int) -> Any:
    """V2's inverted residual block: expand (not in block 0), depthwise, project, add."""
    in_channels = x.shape[-1]
    pointwise = make_divisible(int(filters * alpha), 8)
    inputs, prefix = x, f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False,
                          activation=None, name=f"{prefix}expand")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(batch_norm(x, f"{prefix}expand_BN", True))
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = batch_norm(x, f"{prefix}depthwise_BN", True)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise, 1, padding="same", use_bias=False, activation=None,
                      name=f"{prefix}project")(x)
    x = batch_norm(x, f"{prefix}project_BN", True)
    if in_channels == pointwise and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _v2_body(x: Any, alpha: float) -> Any:
    x = layers.Conv2D(make_divisible(32 * alpha, 8), 3, strides=2, padding="same",
                      use_bias=False, name="Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(batch_norm(x, "bn_Conv1", True))
    for block_id, (filters, stride, expansion) in enumerate(_V2_BLOCKS):
        x = inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    return layers.ReLU(6.0, name="out_relu")(batch_norm(x, "Conv_1_bn", True))


def mobilenet_v2(input_shape: Any, alpha: float, include_top: bool, weights: Any,
                 input_tensor: Any, pooling: Any, classes: int, classifier_activation: Any,
                 name: str | None) -> Model:
    """Keras's MobileNetV2: Keras's names, arguments, defaults and weight files."""
    _common.check_args(weights, include_top, classes)
    check_tensor_shape(input_tensor, input_shape)
    size = _default_size(input_shape, input_tensor, _V2_SIZES)
    shape = imagenet_utils.obtain_input_shape(input_shape, size, 32, include_top, weights)
    rows = shape[0]
    if weights == "imagenet":
        _check_alpha(alpha, _V2_ALPHAS)
        rows = _imagenet_rows(shape, _V2_SIZES)
    inputs, x = _common.make_input(input_tensor, shape, size, 32, include_top, weights)
    x = _v2_body(x, alpha)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.pool(x, pooling, None, None)
    name = f"mobilenetv2_{alpha:0.2f}_{rows}" if name is None else name
    return _common.build(inputs, x, name, weights, lambda: v2_url(alpha, rows, include_top))
