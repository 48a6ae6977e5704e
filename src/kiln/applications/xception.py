"""Keras's `keras.applications.xception`: Xception."""

from __future__ import annotations

from typing import Any

from kiln.applications import _xception, imagenet_utils
from kiln.models import Model

__all__ = ["Xception", "decode_predictions", "preprocess_input"]


def Xception(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
             input_shape: Any = None, pooling: Any = None, classes: int = 1000,
             classifier_activation: Any = "softmax", name: str = "xception") -> Model:
    """Keras's Xception (299x299 by default, at least 71x71), Keras's layer names.

    Example:
        `Xception(weights=None, include_top=False, input_shape=(71, 71, 3))` gives
        outputs of shape (None, 3, 3, 2048).

        >>> import inspect
        >>> inspect.signature(Xception).parameters["name"].default
        'xception'
    """
    return _xception.xception(include_top, weights, input_tensor, input_shape, pooling,
                              classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Xception's preprocessing: "tf" mode (pixels scaled from 0..255 to -1..1).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]]))[0, 0, 0].tolist()
        [-1.0, 0.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
