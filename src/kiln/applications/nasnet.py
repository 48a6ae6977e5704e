"""Keras's `keras.applications.nasnet`: NASNetMobile, NASNetLarge."""

from __future__ import annotations

from typing import Any

from kiln.applications import _nasnet, imagenet_utils
from kiln.models import Model

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]


def NASNetMobile(input_shape: Any = None, include_top: bool = True, weights: Any = "imagenet",
                 input_tensor: Any = None, pooling: Any = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "nasnet_mobile") -> Model:
    """Keras's NASNetMobile (NASNet-A 4 @ 1056; 224x224 by default, at least 32x32).

    Example:
        `NASNetMobile(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 1056).

        >>> import inspect
        >>> inspect.signature(NASNetMobile).parameters["name"].default
        'nasnet_mobile'
    """
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return _nasnet.nasnet(input_shape, penultimate_filters=1056, num_blocks=4,
                          stem_block_filters=32, skip_reduction=False, filter_multiplier=2,
                          include_top=include_top, weights=weights, input_tensor=input_tensor,
                          pooling=pooling, classes=classes, default_size=224,
                          classifier_activation=classifier_activation, name=name)


def NASNetLarge(input_shape: Any = None, include_top: bool = True, weights: Any = "imagenet",
                input_tensor: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "nasnet_large") -> Model:
    """Keras's NASNetLarge (NASNet-A 6 @ 4032; 331x331 by default, at least 32x32).

    Example:
        >>> import inspect
        >>> inspect.signature(NASNetLarge).parameters["name"].default
        'nasnet_large'
    """
    return _nasnet.nasnet(input_shape, penultimate_filters=4032, num_blocks=6,
                          stem_block_filters=96, skip_reduction=True, filter_multiplier=2,
                          include_top=include_top, weights=weights, input_tensor=input_tensor,
                          pooling=pooling, classes=classes, default_size=331,
                          classifier_activation=classifier_activation, name=name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """NASNet's preprocessing: "tf" mode (pixels scaled from 0..255 to -1..1).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]]))[0, 0, 0].tolist()
        [-1.0, 0.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
