"""Keras's `keras.applications.densenet`: DenseNet121, DenseNet169, DenseNet201."""

from __future__ import annotations

from typing import Any

from kiln.applications import _densenet, imagenet_utils
from kiln.models import Model

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "decode_predictions",
           "preprocess_input"]


def DenseNet121(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "densenet121") -> Model:
    """Keras's DenseNet121 (dense blocks of 6, 12, 24, 16 layers), Keras's layer names.

    Example:
        `DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 1024).

        >>> import inspect
        >>> inspect.signature(DenseNet121).parameters["name"].default
        'densenet121'
    """
    return _densenet.densenet(_densenet.BLOCKS[121], include_top, weights, input_tensor,
                              input_shape, pooling, classes, classifier_activation, name)


def DenseNet169(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "densenet169") -> Model:
    """Keras's DenseNet169 (dense blocks of 6, 12, 32, 32 layers).

    Example:
        >>> import inspect
        >>> inspect.signature(DenseNet169).parameters["name"].default
        'densenet169'
    """
    return _densenet.densenet(_densenet.BLOCKS[169], include_top, weights, input_tensor,
                              input_shape, pooling, classes, classifier_activation, name)


def DenseNet201(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "densenet201") -> Model:
    """Keras's DenseNet201 (dense blocks of 6, 12, 48, 32 layers).

    Example:
        >>> import inspect
        >>> inspect.signature(DenseNet201).parameters["name"].default
        'densenet201'
    """
    return _densenet.densenet(_densenet.BLOCKS[201], include_top, weights, input_tensor,
                              input_shape, pooling, classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """DenseNet's preprocessing: "torch" mode (scaled to [0, 1], then ImageNet mean/std).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 1, 1, 3)))[0, 0, 0].round(3).tolist()
        [-2.118, -2.036, -1.804]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


decode_predictions = imagenet_utils.decode_predictions
