"""Keras's `keras.applications.mobilenet_v2`: MobileNetV2."""

from __future__ import annotations

from typing import Any

from kiln.applications import _mobilenet, imagenet_utils
from kiln.models import Model

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]


def MobileNetV2(input_shape: Any = None, alpha: float = 1.0, include_top: bool = True,
                weights: Any = "imagenet", input_tensor: Any = None, pooling: Any = None,
                classes: int = 1000, classifier_activation: Any = "softmax",
                name: str | None = None) -> Model:
    """Keras's MobileNetV2: inverted residual blocks, Keras's layer names.

    Args:
        input_shape: (H, W, 3), at least 32x32; with `weights="imagenet"` the weight file
            is the one for a square 96, 128, 160, 192 or 224 input (else 224's, with a
            warning).
        alpha: width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 for ImageNet weights).
        include_top, weights, input_tensor, pooling, classes, classifier_activation: as in
            every `keras.applications` model.
        name: the model's name; None gives Keras's `mobilenetv2_{alpha:.2f}_{rows}`.

    Example:
        `MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 1280).

        >>> import inspect
        >>> inspect.signature(MobileNetV2).parameters["alpha"].default
        1.0
    """
    return _mobilenet.mobilenet_v2(input_shape, alpha, include_top, weights, input_tensor,
                                   pooling, classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """MobileNetV2's preprocessing: "tf" mode (pixels scaled to [-1, 1]).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 1, 1, 3)))[0, 0, 0].tolist()
        [-1.0, -1.0, -1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
