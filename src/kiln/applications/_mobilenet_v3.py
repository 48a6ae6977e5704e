"""MobileNetV3Small and MobileNetV3Large (Keras's `keras.applications.mobilenet_v3`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from kiln import layers
from kiln.applications import _common, imagenet_utils
from kiln.applications._mobilenet import batch_norm, check_tensor_shape, correct_pad
from kiln.applications._mobilenet import make_divisible as depth
from kiln.models import Model

V3_BASE = f"{_common.BASE_URL}mobilenet_v3/"
WEIGHTS_HASHES = {  # Keras's: (with top, without top)
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}
# (expansion, filters, kernel (0: the model's), stride, squeeze-excite, hard-swish) per block
SMALL = ((1, 16, 3, 2, True, False), (72 / 16, 24, 3, 2, False, False),
         (88 / 24, 24, 3, 1, False, False), (4, 40, 0, 2, True, True), (6, 40, 0, 1, True, True),
         (6, 40, 0, 1, True, True), (3, 48, 0, 1, True, True), (3, 48, 0, 1, True, True),
         (6, 96, 0, 2, True, True), (6, 96, 0, 1, True, True), (6, 96, 0, 1, True, True))
LARGE = ((1, 16, 3, 1, False, False), (4, 24, 3, 2, False, False), (3, 24, 3, 1, False, False),
         (3, 40, 0, 2, True, False), (3, 40, 0, 1, True, False), (3, 40, 0, 1, True, False),
         (6, 80, 3, 2, False, True), (2.5, 80, 3, 1, False, True), (2.3, 80, 3, 1, False, True),
         (2.3, 80, 3, 1, False, True), (6, 112, 3, 1, True, True), (6, 112, 3, 1, True, True),
         (6, 160, 0, 2, True, True), (6, 160, 0, 1, True, True), (6, 160, 0, 1, True, True))


def relu(x: Any) -> Any:
    """Keras's `relu` block activation: an unnamed ReLU layer."""
    return layers.ReLU()(x)


def hard_swish(x: Any) -> Any:
    """Keras's `hard_swish` block activation: an unnamed Activation layer."""
    return layers.Activation("hard_swish")(x)


def hard_sigmoid(x: Any) -> Any:
    """`relu6(x + 3) / 6`, the squeeze-excite gate, written as Keras writes it: a ReLU layer
    between two graph operations."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def se_block(inputs: Any, filters: int, se_ratio: float, prefix: str) -> Any:
    """Squeeze-and-excite: pool, reduce, ReLU, expand, hard-sigmoid gate, multiply."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs)
    x = layers.Conv2D(depth(filters * se_ratio), 1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def inverted_res_block(x: Any, expansion: float, filters: int, kernel_size: int, stride: int,
                       se_ratio: float | None, activation: Callable, block_id: int) -> Any:
    """V3's inverted residual block: expand (not in block 0), depthwise, squeeze-excite,
    project, add."""
    shortcut, infilters, prefix = x, x.shape[-1], "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(depth(infilters * expansion), 1, padding="same", use_bias=False,
                          name=f"{prefix}expand")(x)
        x = activation(batch_norm(x, f"{prefix}expand_bn", True))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = activation(batch_norm(x, f"{prefix}depthwise_bn", True))
    if se_ratio:
        x = se_block(x, depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = batch_norm(x, f"{prefix}project_bn", True)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def stack(x: Any, blocks: tuple, alpha: float, minimalistic: bool) -> Any:
    """The blocks of `SMALL` or `LARGE`; `minimalistic` drops squeeze-excite, hard-swish and
    the 5x5 kernels (as Keras's)."""
    kernel, se_ratio = (3, None) if minimalistic else (5, 0.25)
    for block_id, (expansion, filters, k, stride, se, swish) in enumerate(blocks):
        activation = hard_swish if swish and not minimalistic else relu
        x = inverted_res_block(x, expansion, depth(filters * alpha), k or kernel, stride,
                               se_ratio if se else None, activation, block_id)
    return x


def v3_url(model_type: str, alpha: float, minimalistic: bool,
           include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's MobileNetV3 ImageNet weights.

    Example:
        >>> v3_url("small", 1.0, False, False)[0]
        'weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5'
    """
    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{float(alpha)}_float"
    fname = f"weights_mobilenet_v3_{model_name}" + (".h5" if include_top else "_no_top_v2.h5")
    return fname, V3_BASE + fname, WEIGHTS_HASHES[model_name][0 if include_top else 1]


def _v3_input(input_shape: Any, input_tensor: Any, alpha: float, minimalistic: bool,
              weights: Any) -> tuple[Any, Any]:
    """Keras's V3 input rules: any size from 32 up (None allowed even with the top)."""
    check_tensor_shape(input_tensor, input_shape)
    if input_shape is None and isinstance(input_tensor, layers.KerasTensor):
        input_shape = (input_tensor.shape[2], input_tensor.shape[1], 3)
    shape = tuple(input_shape) if input_shape is not None else (None, None, 3)
    if weights == "imagenet":
        if alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of 0.75, "
                             "1.0 for non minimalistic or 1.0 for minimalistic only. Received: "
                             f"alpha={alpha}, minimalistic={minimalistic}. Fix: pick one of "
                             "those, or pass weights=None.")
        if shape[0] != shape[1] or shape[0] != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. "
                          "Weights for input shape (224, 224) will be loaded as the default.",
                          stacklevel=4)
    # (weights=None, no flatten: only the rank and the 32-pixel minimum are checked here)
    return _common.make_input(input_tensor, shape, 224, 32, False, None)


def _v3_top(x: Any, last_point_ch: int, activation: Callable, dropout_rate: float,
            classes: int, classifier_activation: Any, weights: Any) -> Any:
    x = layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = layers.Conv2D(last_point_ch, 1, padding="same", use_bias=True, name="conv_2")(x)
    x = activation(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate)(x)
    x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
    x = layers.Flatten()(x)
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Activation(classifier_activation, name="predictions")(x)


def mobilenet_v3(model_type: str, input_shape: Any, alpha: float, minimalistic: bool,
                 include_top: bool, weights: Any, input_tensor: Any, classes: int,
                 pooling: Any, dropout_rate: float, classifier_activation: Any,
                 include_preprocessing: bool, name: str) -> Model:
    """Keras's MobileNetV3 of `model_type` ("small" or "large")."""
    _common.check_args(weights, include_top, classes)
    inputs, x = _v3_input(input_shape, input_tensor, alpha, minimalistic, weights)
    activation = relu if minimalistic else hard_swish
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="conv")(x)
    x = activation(batch_norm(x, "conv_bn", True))
    x = stack(x, SMALL if model_type == "small" else LARGE, alpha, minimalistic)
    last_conv_ch = depth(x.shape[-1] * 6)
    last_point_ch = 1024 if model_type == "small" else 1280
    if alpha > 1.0:
        last_point_ch = depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(batch_norm(x, "conv_1_bn", True))
    if include_top:
        x = _v3_top(x, last_point_ch, activation, dropout_rate, classes,
                    classifier_activation, weights)
    else:
        x = _common.pool(x, pooling)
    return _common.build(inputs, x, name, weights,
                         lambda: v3_url(model_type, alpha, minimalistic, include_top))
