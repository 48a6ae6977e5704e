"""EfficientNetV2 B0-B3, S, M, L (Keras's `keras.applications.efficientnet_v2`).

The first stages are Fused-MBConv blocks (one regular convolution instead of expansion +
depthwise), the later ones MBConv blocks with squeeze-and-excitation. With
`include_preprocessing`, the B models rescale pixels to [0, 1] and normalize them with fixed
ImageNet statistics; S, M and L (and inputs without 3 channels) rescale them to [-1, 1).
"""

from __future__ import annotations

from typing import Any

from kiln import initializers, layers
from kiln.applications import _common
from kiln.applications._efficientnet import (
    CONV_KERNEL_INITIALIZER,
    round_repeats,
    squeeze_excite,
    top,
    weights_url,
)
from kiln.models import Model

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}
# variant: (width_coefficient, depth_coefficient, default_size)
VARIANTS = {"b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260),
            "b3": (1.2, 1.4, 300), "s": (1.0, 1.0, 384), "m": (1.0, 1.0, 480),
            "l": (1.0, 1.0, 480)}
_KEYS = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
         "se_ratio", "strides", "conv_type")
_B = ((3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
      (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0),
      (3, 8, 112, 192, 6, 0.25, 2, 0))
_STAGES = {  # per variant, the stages in `_KEYS` order (conv_type 1: Fused-MBConv)
    "b0": _B, "b1": _B, "b2": _B, "b3": _B,
    "s": ((3, 2, 24, 24, 1, 0, 1, 1), (3, 4, 24, 48, 4, 0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
          (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
          (3, 15, 160, 256, 6, 0.25, 2, 0)),
    "m": ((3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
          (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
          (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)),
    "l": ((3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
          (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
          (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)),
}
DEFAULT_BLOCKS_ARGS = {f"efficientnetv2-{v}": [dict(zip(_KEYS, row)) for row in rows]
                       for v, rows in _STAGES.items()}
_MEAN = (0.485, 0.456, 0.406)
_VARIANCE = (0.229 ** 2, 0.224 ** 2, 0.225 ** 2)


def round_filters(filters: float, width_coefficient: float, min_depth: int | None,
                  depth_divisor: int) -> int:
    """Channels scaled by `width_coefficient`, to the nearest multiple of `depth_divisor`
    (at least `min_depth`). Unlike EfficientNet's, it may round down by more than 10%.

    Example:
        >>> round_filters(1280, 1.2, 8, 8)
        1536
    """
    filters *= width_coefficient
    return int(max(min_depth or depth_divisor,
                   int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def _bn(x: Any, momentum: float, name: str) -> Any:
    return layers.BatchNormalization(axis=3, momentum=momentum, name=name)(x)


def _conv(filters: int, kernel: int, name: str, strides: int = 1) -> Any:
    return layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                         kernel_initializer=CONV_KERNEL_INITIALIZER, name=name)


def _expand(x: Any, filters: int, kernel: int, strides: int, momentum: float, activation: Any,
            name: str) -> Any:
    x = _conv(filters, kernel, f"{name}expand_conv", strides)(x)
    x = _bn(x, momentum, f"{name}expand_bn")
    return layers.Activation(activation, name=f"{name}expand_activation")(x)


def _residual(x: Any, inputs: Any, strides: int, same_width: bool, rate: float,
              name: str) -> Any:
    if strides == 1 and same_width:
        if rate:
            x = layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def mb_conv_block(x: Any, input_filters: int, output_filters: int, expand_ratio: int = 1,
                  kernel_size: int = 3, strides: int = 1, se_ratio: float = 0.0,
                  bn_momentum: float = 0.9, activation: Any = "swish",
                  survival_probability: float = 0.8, name: str = "") -> Any:
    """Keras's `MBConvBlock` applied to `x`; `survival_probability` is the Dropout *rate*
    of the residual branch (Keras's name for it)."""
    inputs, filters = x, input_filters * expand_ratio
    if expand_ratio != 1:
        x = _expand(x, filters, 1, 1, bn_momentum, activation, name)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="same", use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv2")(x)
    x = layers.Activation(activation, name=f"{name}activation")(_bn(x, bn_momentum, f"{name}bn"))
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(input_filters * se_ratio)), activation, name)
    x = _bn(_conv(output_filters, 1, f"{name}project_conv")(x), bn_momentum,
            f"{name}project_bn")
    return _residual(x, inputs, strides, input_filters == output_filters,
                     survival_probability, name)


def fused_mb_conv_block(x: Any, input_filters: int, output_filters: int,
                        expand_ratio: int = 1, kernel_size: int = 3, strides: int = 1,
                        se_ratio: float = 0.0, bn_momentum: float = 0.9,
                        activation: Any = "swish", survival_probability: float = 0.8,
                        name: str = "") -> Any:
    """Keras's `FusedMBConvBlock` applied to `x` (the expansion is a full convolution)."""
    inputs, filters = x, input_filters * expand_ratio
    if expand_ratio != 1:
        x = _expand(x, filters, kernel_size, strides, bn_momentum, activation, name)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(input_filters * se_ratio)), activation, name)
    expanded = expand_ratio != 1
    x = _conv(output_filters, 1 if expanded else kernel_size, f"{name}project_conv",
              1 if expanded else strides)(x)
    x = _bn(x, bn_momentum, f"{name}project_bn")
    if not expanded:
        x = layers.Activation(activation, name=f"{name}project_activation")(x)
    return _residual(x, inputs, strides, input_filters == output_filters,
                     survival_probability, name)


def _stages(x: Any, blocks_args: list, width: float, depth: float, divisor: int,
            min_depth: int, momentum: float, activation: Any, drop_connect_rate: float) -> Any:
    total = float(sum(a["num_repeat"] for a in blocks_args))  # unrounded, as in Keras
    b = 0
    for i, stage in enumerate(blocks_args):
        if stage["num_repeat"] <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. Received: "
                             f"num_repeat={stage['num_repeat']}. Fix: give every stage one.")
        args = {k: v for k, v in stage.items() if k not in ("num_repeat", "conv_type")}
        for key in ("input_filters", "output_filters"):
            args[key] = round_filters(args[key], width, min_depth, divisor)
        make = fused_mb_conv_block if stage["conv_type"] == 1 else mb_conv_block
        for j in range(round_repeats(stage["num_repeat"], depth)):
            if j > 0:
                args["strides"], args["input_filters"] = 1, args["output_filters"]
            x = make(x, activation=activation, bn_momentum=momentum,
                     survival_probability=drop_connect_rate * b / total,
                     name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1
    return x


def _preprocess(x: Any, variant: str) -> Any:
    if variant.startswith("b") and x.shape[-1] == 3:
        x = layers.Rescaling(scale=1.0 / 255)(x)
        return layers.Normalization(mean=list(_MEAN), variance=list(_VARIANCE), axis=3)(x)
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)


def weights_file(variant: str, include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's 'imagenet' file for an EfficientNetV2 variant.

    Example:
        >>> weights_file("s", True)[0]
        'efficientnetv2-s.h5'
    """
    return weights_url(BASE_URL, f"efficientnetv2-{variant}", _HASHES[variant], include_top)


def efficientnet_v2(variant: str, include_top: bool, weights: Any, input_tensor: Any,
                    input_shape: Any, pooling: Any, classes: int, classifier_activation: Any,
                    include_preprocessing: bool, name: str, dropout_rate: float = 0.2,
                    drop_connect_rate: float = 0.2, depth_divisor: int = 8,
                    min_depth: int = 8, bn_momentum: float = 0.9, activation: Any = "swish",
                    blocks_args: Any = "default") -> Model:
    """An EfficientNetV2 `variant` ("b0".."b3", "s", "m", "l") with Keras's names."""
    width, depth, default_size = VARIANTS[variant]
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS[f"efficientnetv2-{variant}"]
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, default_size, 32, include_top,
                                   weights)
    if include_preprocessing:
        x = _preprocess(x, variant)
    stem = round_filters(blocks_args[0]["input_filters"], width, min_depth, depth_divisor)
    x = _bn(_conv(stem, 3, "stem_conv", 2)(x), bn_momentum, "stem_bn")
    x = layers.Activation(activation, name="stem_activation")(x)
    x = _stages(x, blocks_args, width, depth, depth_divisor, min_depth, bn_momentum,
                activation, drop_connect_rate)
    x = _conv(round_filters(1280, width, min_depth, depth_divisor), 1, "top_conv")(x)
    x = layers.Activation(activation, name="top_activation")(_bn(x, bn_momentum, "top_bn"))
    x = top(x, include_top, pooling, dropout_rate, classes, classifier_activation, weights,
            bias_initializer=initializers.Constant(0.0))
    return _common.build(inputs, x, name, weights, lambda: weights_file(variant, include_top))
