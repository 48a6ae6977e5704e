"""Keras's `keras.applications.resnet`: ResNet50, ResNet101, ResNet152."""

from __future__ import annotations

from typing import Any

from kiln.applications import _resnet, imagenet_utils
from kiln.models import Model

__all__ = ["ResNet50", "ResNet101", "ResNet152", "decode_predictions", "preprocess_input"]


def ResNet50(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
             input_shape: Any = None, pooling: Any = None, classes: int = 1000,
             classifier_activation: Any = "softmax", name: str = "resnet50") -> Model:
    """Keras's ResNet50 (V1), Keras's layer names.

    Example:
        `ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 2048).

        >>> import inspect
        >>> inspect.signature(ResNet50).parameters["name"].default
        'resnet50'
    """
    return _resnet.resnet(50, False, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, name)


def ResNet101(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
              input_shape: Any = None, pooling: Any = None, classes: int = 1000,
              classifier_activation: Any = "softmax", name: str = "resnet101") -> Model:
    """Keras's ResNet101 (V1).

    Example:
        >>> import inspect
        >>> inspect.signature(ResNet101).parameters["name"].default
        'resnet101'
    """
    return _resnet.resnet(101, False, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, name)


def ResNet152(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
              input_shape: Any = None, pooling: Any = None, classes: int = 1000,
              classifier_activation: Any = "softmax", name: str = "resnet152") -> Model:
    """Keras's ResNet152 (V1).

    Example:
        >>> import inspect
        >>> inspect.signature(ResNet152).parameters["name"].default
        'resnet152'
    """
    return _resnet.resnet(152, False, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ResNet (V1) preprocessing: "caffe" mode (BGR, ImageNet means subtracted).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 1, 1, 3)))[0, 0, 0].round(2).tolist()
        [-103.94, -116.78, -123.68]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
