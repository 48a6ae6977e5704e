"""Keras's `keras.applications.mobilenet_v3`: MobileNetV3Small and MobileNetV3Large.

Keras exports the two constructors as `keras.applications.MobileNetV3Small` / `...Large`;
its `mobilenet_v3` module holds `preprocess_input` (a no-op: the models rescale their own
inputs) and `decode_predictions`.
"""

from __future__ import annotations

from typing import Any

from kiln.applications import _mobilenet_v3, imagenet_utils
from kiln.models import Model

__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]


def MobileNetV3Small(input_shape: Any = None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, classes: int = 1000, pooling: Any = None,
                     dropout_rate: float = 0.2, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True,
                     name: str = "MobileNetV3Small") -> Model:
    """Keras's MobileNetV3Small, Keras's layer names and weight files.

    Args:
        input_shape: (H, W, 3), at least 32x32; None (the default) takes any size, even
            with the top. ImageNet weights are those of 224x224 inputs.
        alpha: width multiplier (0.75 or 1.0 for ImageNet weights; 1.0 if minimalistic).
        minimalistic: no squeeze-and-excite, no hard-swish, only 3x3 kernels.
        include_top, weights, input_tensor, classes, pooling, classifier_activation: as in
            every `keras.applications` model.
        dropout_rate: the Dropout before the logits (none if 0).
        include_preprocessing: a Rescaling layer first, from [0, 255] to [-1, 1].
        name: the model's name.

    Example:
        `MobileNetV3Small(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 576).

        >>> import inspect
        >>> inspect.signature(MobileNetV3Small).parameters["dropout_rate"].default
        0.2
    """
    return _mobilenet_v3.mobilenet_v3("small", input_shape, alpha, minimalistic, include_top,
                                      weights, input_tensor, classes, pooling, dropout_rate,
                                      classifier_activation, include_preprocessing, name)


def MobileNetV3Large(input_shape: Any = None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, classes: int = 1000, pooling: Any = None,
                     dropout_rate: float = 0.2, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True,
                     name: str = "MobileNetV3Large") -> Model:
    """Keras's MobileNetV3Large; arguments as in `MobileNetV3Small`.

    Example:
        `MobileNetV3Large(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 960).

        >>> import inspect
        >>> inspect.signature(MobileNetV3Large).parameters["name"].default
        'MobileNetV3Large'
    """
    return _mobilenet_v3.mobilenet_v3("large", input_shape, alpha, minimalistic, include_top,
                                      weights, input_tensor, classes, pooling, dropout_rate,
                                      classifier_activation, include_preprocessing, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A no-op kept for Keras's API: MobileNetV3 rescales its inputs itself (its
    `include_preprocessing`). Returns `x` unchanged.

    Example:
        >>> preprocess_input([1.0, 255.0])
        [1.0, 255.0]
    """
    return x


decode_predictions = imagenet_utils.decode_predictions
