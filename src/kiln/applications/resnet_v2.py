"""Keras's `keras.applications.resnet_v2`: ResNet50V2, ResNet101V2, ResNet152V2."""

from __future__ import annotations

from typing import Any

from kiln.applications import _resnet, imagenet_utils
from kiln.models import Model

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "decode_predictions",
           "preprocess_input"]


def ResNet50V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
               input_shape: Any = None, pooling: Any = None, classes: int = 1000,
               classifier_activation: Any = "softmax", name: str = "resnet50v2") -> Model:
    """Keras's ResNet50V2 (pre-activation blocks), Keras's layer names.

    Example:
        `ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 2048).

        >>> import inspect
        >>> inspect.signature(ResNet50V2).parameters["name"].default
        'resnet50v2'
    """
    return _resnet.resnet(50, True, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, name)


def ResNet101V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "resnet101v2") -> Model:
    """Keras's ResNet101V2.

    Example:
        >>> import inspect
        >>> inspect.signature(ResNet101V2).parameters["name"].default
        'resnet101v2'
    """
    return _resnet.resnet(101, True, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, name)


def ResNet152V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "resnet152v2") -> Model:
    """Keras's ResNet152V2.

    Example:
        >>> import inspect
        >>> inspect.signature(ResNet152V2).parameters["name"].default
        'resnet152v2'
    """
    return _resnet.resnet(152, True, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ResNet V2 preprocessing: "tf" mode (pixels scaled to [-1, 1]).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 1, 1, 3)))[0, 0, 0].tolist()
        [-1.0, -1.0, -1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
