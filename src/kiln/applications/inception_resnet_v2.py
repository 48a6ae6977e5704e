"""Keras's `keras.applications.inception_resnet_v2`: InceptionResNetV2 (its
`CustomScaleLayer`, registered under Keras's name, is in `_inception_resnet_v2`)."""

from __future__ import annotations

from typing import Any

from kiln.applications import _inception_resnet_v2, imagenet_utils
from kiln.models import Model

__all__ = ["InceptionResNetV2", "decode_predictions", "preprocess_input"]


def InceptionResNetV2(include_top: bool = True, weights: Any = "imagenet",
                      input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                      classes: int = 1000, classifier_activation: Any = "softmax",
                      name: str = "inception_resnet_v2") -> Model:
    """Keras's InceptionResNetV2 (299x299 by default, at least 75x75), Keras's layer names.

    Example:
        `InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3))` gives
        outputs of shape (None, 1, 1, 1536).

        >>> import inspect
        >>> inspect.signature(InceptionResNetV2).parameters["name"].default
        'inception_resnet_v2'
    """
    return _inception_resnet_v2.inception_resnet_v2(include_top, weights, input_tensor,
                                                    input_shape, pooling, classes,
                                                    classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """InceptionResNetV2's preprocessing: "tf" mode (pixels scaled from 0..255 to -1..1).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]]))[0, 0, 0].tolist()
        [-1.0, 0.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
