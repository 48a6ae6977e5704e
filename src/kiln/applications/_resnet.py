"""ResNet50/101/152 and their V2 forms (Keras's `keras.applications.resnet`, `resnet_v2`)."""

from __future__ import annotations

from typing import Any

from kiln import layers
from kiln.applications import _common
from kiln.models import Model

_EPS = 1.001e-5  # Keras's BatchNormalization epsilon for ResNets
_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
# blocks per stage (conv2..conv5) for each depth
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
_FILTERS = (64, 128, 256, 512)


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=3, epsilon=_EPS, name=name)(x)


def block_v1(x: Any, filters: int, stride: int, conv_shortcut: bool, name: str) -> Any:
    """Keras's post-activation bottleneck block."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = _bn(layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x), f"{name}_3_bn")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def block_v2(x: Any, filters: int, stride: int, conv_shortcut: bool, name: str) -> Any:
    """Keras's pre-activation bottleneck block (the stride sits in the last block)."""
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(_bn(x, f"{name}_preact_bn"))
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.ZeroPadding2D(((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def _stacks(x: Any, depth: int, v2: bool) -> Any:
    for stage, (blocks, filters) in enumerate(zip(DEPTHS[depth], _FILTERS), start=2):
        name = f"conv{stage}"
        for i in range(1, blocks + 1):
            if v2:  # stride 2 in the last block of conv2..conv4; shortcut conv in the first
                stride = 2 if i == blocks and stage < 5 else 1
                x = block_v2(x, filters, stride, i == 1, f"{name}_block{i}")
            else:  # stride 2 in the first block of conv3..conv5
                stride = 2 if i == 1 and stage > 2 else 1
                x = block_v1(x, filters, stride, i == 1, f"{name}_block{i}")
    return x


def resnet(depth: int, v2: bool, include_top: bool, weights: Any, input_tensor: Any,
           input_shape: Any, pooling: Any, classes: int, classifier_activation: Any,
           name: str) -> Model:
    """A ResNet of `depth` (50, 101, 152), V1 or V2, with Keras's names and arguments."""
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, 224, 32, include_top, weights)
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(x)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    if not v2:
        x = layers.Activation("relu", name="conv1_relu")(_bn(x, "conv1_bn"))
    x = layers.ZeroPadding2D(((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = _stacks(x, depth, v2)
    if v2:
        x = layers.Activation("relu", name="post_relu")(_bn(x, "post_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.pool(x, pooling)
    family = f"resnet{depth}" + ("v2" if v2 else "")

    def url() -> tuple[str, str, str]:
        fname = f"{family}_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop")
        return (f"{fname}.h5", f"{_common.BASE_URL}resnet/{fname}.h5",
                _HASHES[family][0 if include_top else 1])
    return _common.build(inputs, x, name, weights, url)
