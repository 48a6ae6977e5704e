"""DenseNet121/169/201 (Keras's `keras.applications.densenet`)."""

from __future__ import annotations

from typing import Any

from kiln import layers
from kiln.applications import _common
from kiln.models import Model

BASE_URL = f"{_common.BASE_URL}densenet/"
_EPS = 1.001e-5  # Keras's BatchNormalization epsilon for DenseNets
# blocks per dense stage (conv2..conv5) of each depth
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
_DEPTHS = {blocks: depth for depth, blocks in BLOCKS.items()}
_HASHES = {  # Keras's: (with top, without top)
    121: ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    169: ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    201: ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=3, epsilon=_EPS, name=name)(x)


def conv_block(x: Any, growth_rate: int, name: str) -> Any:
    """One dense layer: BN-ReLU-1x1 conv, BN-ReLU-3x3 conv, concatenated onto `x`."""
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(_bn(x, f"{name}_0_bn"))
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x1, f"{name}_1_bn"))
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                       name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def dense_block(x: Any, blocks: int, name: str) -> Any:
    """`blocks` dense layers of growth rate 32."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x: Any, reduction: float, name: str) -> Any:
    """BN-ReLU, a 1x1 conv to `reduction` of the channels, 2x2 average pooling."""
    x = layers.Activation("relu", name=f"{name}_relu")(_bn(x, f"{name}_bn"))
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def densenet_url(depth: int, include_top: bool) -> tuple[str, str, str]:
    """(file name, origin, hash) of Keras's DenseNet ImageNet weights.

    Example:
        >>> densenet_url(121, False)[0]
        'densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    fname = f"densenet{depth}_weights_tf_dim_ordering_tf_kernels" + ("" if include_top
                                                                     else "_notop")
    return f"{fname}.h5", f"{BASE_URL}{fname}.h5", _HASHES[depth][0 if include_top else 1]


def densenet(blocks: Any, include_top: bool, weights: Any, input_tensor: Any,
             input_shape: Any, pooling: Any, classes: int, classifier_activation: Any,
             name: str = "densenet") -> Model:
    """Keras's `DenseNet(blocks, ...)`: dense stages of `blocks` layers (`BLOCKS[121]` etc.);
    ImageNet weights exist for the three `BLOCKS` only."""
    _common.check_args(weights, include_top, classes)
    blocks = tuple(blocks)
    if len(blocks) != 4:
        raise ValueError("Expected `blocks` to give the layer counts of the 4 dense stages. "
                         f"Received: blocks={blocks}. Fix: pass 4 counts, e.g. (6, 12, 24, 16).")
    if weights == "imagenet" and blocks not in _DEPTHS:
        raise ValueError(f"ImageNet weights exist for the DenseNet blocks {list(_DEPTHS)} only. "
                         f"Received: blocks={blocks}. Fix: pass weights=None.")
    inputs, x = _common.make_input(input_tensor, input_shape, 224, 32, include_top, weights)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.Activation("relu", name="conv1_relu")(_bn(x, "conv1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, n in enumerate(blocks, start=2):
        x = dense_block(x, n, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.Activation("relu", name="relu")(_bn(x, "bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.pool(x, pooling)
    return _common.build(inputs, x, name, weights,
                         lambda: densenet_url(_DEPTHS[blocks], include_top))
