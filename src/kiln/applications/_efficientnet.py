"""EfficientNet B0-B7 (Keras's `keras.applications.efficientnet`), Keras's layer names.

The stem scales pixels (0..255) to [0, 1] and normalizes them with a `Normalization` layer
whose mean, variance and count are weights (ImageNet's statistics come with the 'imagenet'
file, which also adds a third `Rescaling` by 1/sqrt(std), as Keras does). Blocks are
inverted residuals with squeeze-and-excitation; the residual branch of a repeated block goes
through a stochastic-depth `Dropout` (one draw per sample: noise_shape (None, 1, 1, 1)).
"""

from __future__ import annotations

import math
from typing import Any

from kiln import layers
from kiln.applications import _common, imagenet_utils
from kiln.models import Model

BASE_URL = "https://storage.googleapis.com/keras-applications/"
_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
# variant: (width_coefficient, depth_coefficient, default_size, dropout_rate)
VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}
_KEYS = ("kernel_size", "repeats", "filters_in", "filters_out", "expand_ratio", "strides")
# The seven stages of B0 (every block: id_skip=True, se_ratio=0.25), in `_KEYS` order.
DEFAULT_BLOCKS_ARGS = [
    {**dict(zip(_KEYS, row)), "id_skip": True, "se_ratio": 0.25}
    for row in ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
                (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
                (3, 1, 192, 320, 6, 1))
]
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling", "config": {
    "scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling", "config": {
    "scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def round_filters(filters: float, width_coefficient: float, divisor: int = 8) -> int:
    """Channels scaled by `width_coefficient`, to a multiple of `divisor` (never 10% less).

    Example:
        >>> round_filters(32, 1.1), round_filters(1280, 2.0)
        (32, 2560)
    """
    filters *= width_coefficient
    rounded = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * filters else rounded)


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    """Blocks in a stage scaled by `depth_coefficient`, rounded up.

    Example:
        >>> round_repeats(3, 1.1)
        4
    """
    return math.ceil(depth_coefficient * repeats)


def correct_pad(x: Any, kernel_size: int) -> tuple:
    """Keras's `imagenet_utils.correct_pad`: the ZeroPadding2D that makes a strided "valid"
    convolution of `kernel_size` cover the input as TF's "same" would (one less at the top
    and left on even sides).

    Example:
        >>> correct_pad(layers.Input((8, 9, 3)), 3)
        ((0, 1), (1, 1))
    """
    half = kernel_size // 2
    sides = x.shape[1:3]
    adjust = (1, 1) if sides[0] is None else tuple(1 - s % 2 for s in sides)
    return ((half - adjust[0], half), (half - adjust[1], half))


def _conv(filters: int, kernel: int, name: str, **kwargs: Any) -> Any:
    return layers.Conv2D(filters, kernel, padding=kwargs.pop("padding", "same"),
                         use_bias=kwargs.pop("use_bias", False),
                         kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kwargs)


def squeeze_excite(x: Any, filters: int, filters_se: int, activation: Any, name: str) -> Any:
    """Keras's squeeze-and-excitation: channel gates from a pooled 1x1 bottleneck (shared by
    EfficientNet and EfficientNetV2)."""
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = _conv(filters_se, 1, f"{name}se_reduce", activation=activation, use_bias=True)(se)
    se = _conv(filters, 1, f"{name}se_expand", activation="sigmoid", use_bias=True)(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _bn_act(x: Any, activation: Any, bn_name: str, act_name: str) -> Any:
    x = layers.BatchNormalization(axis=3, name=bn_name)(x)
    return layers.Activation(activation, name=act_name)(x)


def block(x: Any, activation: Any, drop_rate: float, name: str, filters_in: int,
          filters_out: int, kernel_size: int, strides: int, expand_ratio: int,
          se_ratio: float, id_skip: bool) -> Any:
    """Keras's EfficientNet inverted residual block (`name` ends in "_")."""
    inputs, filters = x, filters_in * expand_ratio
    if expand_ratio != 1:
        x = _conv(filters, 1, f"{name}expand_conv")(x)
        x = _bn_act(x, activation, f"{name}expand_bn", f"{name}expand_activation")
    padding = "same"
    if strides == 2:
        x = layers.ZeroPadding2D(correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
        padding = "valid"
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding=padding, use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv")(x)
    x = _bn_act(x, activation, f"{name}bn", f"{name}activation")
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(filters_in * se_ratio)), activation, name)
    x = _conv(filters_out, 1, f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def _stages(x: Any, blocks_args: list, width: float, depth: float, divisor: int,
            activation: Any, drop_connect_rate: float) -> Any:
    total = float(sum(round_repeats(a["repeats"], depth) for a in blocks_args))
    b = 0
    for i, stage in enumerate(blocks_args):
        if stage["repeats"] <= 0:
            raise ValueError("The number of repeats in `EfficientNet` must be > 0. Received: "
                             f"repeats={stage['repeats']}. Fix: give every stage a repeat.")
        args = {k: v for k, v in stage.items() if k != "repeats"}
        args["filters_in"] = round_filters(args["filters_in"], width, divisor)
        args["filters_out"] = round_filters(args["filters_out"], width, divisor)
        for j in range(round_repeats(stage["repeats"], depth)):
            if j > 0:  # only a stage's first block changes the stride and the width
                args["strides"], args["filters_in"] = 1, args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / total,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1
    return x


def top(x: Any, include_top: bool, pooling: Any, dropout_rate: float, classes: int,
        classifier_activation: Any, weights: Any, **dense_kwargs: Any) -> Any:
    """The head both EfficientNet families share: pooled, dropout, Dense "predictions"."""
    if not include_top:
        return _common.pool(x, pooling)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation,
                        kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions",
                        **dense_kwargs)(x)


def weights_url(base_url: str, file_stem: str, hashes: tuple[str, str],
                include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of a Keras weight file: `<stem>.h5` or `<stem>_notop.h5`."""
    fname = file_stem + (".h5" if include_top else "_notop.h5")
    return fname, base_url + fname, hashes[0 if include_top else 1]


def weights_file(variant: str, include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's 'imagenet' file for an EfficientNet variant.

    Example:
        >>> weights_file("b0", False)[0]
        'efficientnetb0_notop.h5'
    """
    return weights_url(BASE_URL, f"efficientnet{variant}", _HASHES[variant], include_top)


def efficientnet(variant: str, include_top: bool, weights: Any, input_tensor: Any,
                 input_shape: Any, pooling: Any, classes: int, classifier_activation: Any,
                 name: str, drop_connect_rate: float = 0.2, depth_divisor: int = 8,
                 activation: Any = "swish", blocks_args: Any = "default") -> Model:
    """An EfficientNet `variant` ("b0".."b7") with Keras's names, arguments and defaults."""
    width, depth, default_size, dropout_rate = VARIANTS[variant]
    blocks_args = DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, default_size, 32, include_top,
                                   weights)
    x = layers.Normalization(axis=3)(layers.Rescaling(1.0 / 255.0)(x))
    if weights == "imagenet":  # the original divides by the variance, not the std
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(correct_pad(x, 3), name="stem_conv_pad")(x)
    x = _conv(round_filters(32, width, depth_divisor), 3, "stem_conv", strides=2,
              padding="valid")(x)
    x = _bn_act(x, activation, "stem_bn", "stem_activation")
    x = _stages(x, blocks_args, width, depth, depth_divisor, activation, drop_connect_rate)
    x = _conv(round_filters(1280, width, depth_divisor), 1, "top_conv")(x)
    x = _bn_act(x, activation, "top_bn", "top_activation")
    x = top(x, include_top, pooling, dropout_rate, classes, classifier_activation, weights)
    return _common.build(inputs, x, name, weights, lambda: weights_file(variant, include_top))
