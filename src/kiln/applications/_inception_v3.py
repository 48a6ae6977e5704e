"""InceptionV3 (Keras's `keras.applications.inception_v3`): a stem, then the inception
blocks `mixed0` ... `mixed10`; every convolution is an unnamed conv-BN-ReLU triple."""

from __future__ import annotations

from typing import Any

from kiln import layers
from kiln.applications import _common
from kiln.models import Model

BASE_URL = f"{_common.BASE_URL}inception_v3/"
_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")  # top, no top


def conv2d_bn(x: Any, filters: int, num_row: int, num_col: int, padding: str = "same",
              strides: tuple[int, int] = (1, 1), name: str | None = None) -> Any:
    """Conv2D (no bias) + BatchNormalization (no scale) + ReLU, Keras's `conv2d_bn`: with a
    `name`, the layers are `{name}_conv`, `{name}_bn` and `{name}`; else automatic names.

    Example:
        >>> import kiln
        >>> y = conv2d_bn(kiln.layers.Input((8, 8, 3)), 4, 3, 3, name="c")
        >>> tuple(y.shape)
        (None, 8, 8, 4)
    """
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=3, scale=False,
                                  name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _avg_branch(x: Any, filters: int) -> Any:
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


def _block_35(x: Any, pool_filters: int, name: str) -> Any:
    """The 35x35 block: 1x1, 5x5, double 3x3 and pooled branches."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(conv2d_bn(branch3x3dbl, 96, 3, 3), 96, 3, 3)
    branch_pool = _avg_branch(x, pool_filters)
    return layers.Concatenate(axis=3, name=name)(
        [branch1x1, branch5x5, branch3x3dbl, branch_pool])


def _reduction_35(x: Any) -> Any:
    """`mixed3`: 35x35 to 17x17."""
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.Concatenate(axis=3, name="mixed3")([branch3x3, branch3x3dbl, branch_pool])


def _block_17(x: Any, width: int, name: str) -> Any:
    """The 17x17 block: factorized 7x7 convolutions of `width` channels inside."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, width, 1, 1)
    branch7x7 = conv2d_bn(conv2d_bn(branch7x7, width, 1, 7), 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, width, 1, 1)
    for shape in ((7, 1), (1, 7), (7, 1)):
        branch7x7dbl = conv2d_bn(branch7x7dbl, width, *shape)
    branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = _avg_branch(x, 192)
    return layers.Concatenate(axis=3, name=name)(
        [branch1x1, branch7x7, branch7x7dbl, branch_pool])


def _reduction_17(x: Any) -> Any:
    """`mixed8`: 17x17 to 8x8."""
    branch3x3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(conv2d_bn(branch7x7x3, 192, 1, 7), 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.Concatenate(axis=3, name="mixed8")([branch3x3, branch7x7x3, branch_pool])


def _block_8(x: Any, i: int) -> Any:
    """`mixed9`, `mixed10`: the 8x8 block with split 1x3 / 3x1 branches."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = layers.Concatenate(axis=3, name=f"mixed9_{i}")(
        [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)])
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    branch3x3dbl = layers.Concatenate(axis=3)(
        [conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)])
    branch_pool = _avg_branch(x, 192)
    return layers.Concatenate(axis=3, name=f"mixed{9 + i}")(
        [branch1x1, branch3x3, branch3x3dbl, branch_pool])


def inception_v3_url(include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's InceptionV3 ImageNet weights.

    Example:
        >>> inception_v3_url(True)[0]
        'inception_v3_weights_tf_dim_ordering_tf_kernels.h5'
    """
    fname = "inception_v3_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop")
    return f"{fname}.h5", f"{BASE_URL}{fname}.h5", _HASHES[0 if include_top else 1]


def inception_v3(include_top: bool, weights: Any, input_tensor: Any, input_shape: Any,
                 pooling: Any, classes: int, classifier_activation: Any, name: str) -> Model:
    """Keras's InceptionV3 with Keras's layer names (inputs of at least 75x75)."""
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, 299, 75, include_top, weights)
    x = conv2d_bn(x, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _block_35(x, pool_filters, f"mixed{i}")
    x = _reduction_35(x)
    for i, width in enumerate((128, 160, 160, 192), start=4):
        x = _block_17(x, width, f"mixed{i}")
    x = _reduction_17(x)
    for i in range(2):
        x = _block_8(x, i)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:  # Keras leaves these pooling layers unnamed here
        x = _common.pool(x, pooling, avg_name=None, max_name=None)
    return _common.build(inputs, x, name, weights, lambda: inception_v3_url(include_top))
