"""Keras's `keras.applications.mobilenet`: MobileNet (V1)."""

from __future__ import annotations

from typing import Any

from kiln.applications import _mobilenet, imagenet_utils
from kiln.models import Model

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]


def MobileNet(input_shape: Any = None, alpha: float = 1.0, depth_multiplier: int = 1,
              dropout: float = 1e-3, include_top: bool = True, weights: Any = "imagenet",
              input_tensor: Any = None, pooling: Any = None, classes: int = 1000,
              classifier_activation: Any = "softmax", name: str | None = None) -> Model:
    """Keras's MobileNet (V1): depthwise-separable blocks, Keras's layer names.

    Args:
        input_shape: (H, W, 3), at least 32x32; with `weights="imagenet"` the weight file
            is the one for a square 128, 160, 192 or 224 input (else 224's, with a warning).
        alpha: width multiplier (0.25, 0.5, 0.75 or 1.0 for ImageNet weights).
        depth_multiplier: the depthwise convolutions' multiplier (1 for ImageNet weights).
        dropout: rate of the Dropout before the classifier.
        include_top, weights, input_tensor, pooling, classes, classifier_activation: as in
            every `keras.applications` model.
        name: the model's name; None gives Keras's `mobilenet_{alpha:.2f}_{rows}`.

    Example:
        `MobileNet(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 1024).

        >>> import inspect
        >>> inspect.signature(MobileNet).parameters["dropout"].default
        0.001
    """
    return _mobilenet.mobilenet_v1(input_shape, alpha, depth_multiplier, dropout, include_top,
                                   weights, input_tensor, pooling, classes,
                                   classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """MobileNet's preprocessing: "tf" mode (pixels scaled to [-1, 1]).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 1, 3), 255.0))[0, 0, 0].tolist()
        [1.0, 1.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
