"""Keras's `keras.applications.efficientnet`: EfficientNetB0..B7, preprocess_input,
decode_predictions (the models scale their own inputs: they take pixels in 0..255)."""

from __future__ import annotations

from typing import Any

from kiln.applications import _efficientnet, imagenet_utils
from kiln.models import Model

__all__ = ["EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
           "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
           "decode_predictions", "preprocess_input"]


def EfficientNetB0(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb0") -> Model:
    """Keras's EfficientNetB0 (default input 224x224), Keras's layer names.

    Example:
        `EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 1280).

        >>> import inspect
        >>> inspect.signature(EfficientNetB0).parameters["name"].default
        'efficientnetb0'
    """
    return _efficientnet.efficientnet("b0", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB1(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb1") -> Model:
    """Keras's EfficientNetB1 (default input 240x240).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB1).parameters["name"].default
        'efficientnetb1'
    """
    return _efficientnet.efficientnet("b1", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb2") -> Model:
    """Keras's EfficientNetB2 (default input 260x260).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB2).parameters["name"].default
        'efficientnetb2'
    """
    return _efficientnet.efficientnet("b2", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB3(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb3") -> Model:
    """Keras's EfficientNetB3 (default input 300x300).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB3).parameters["name"].default
        'efficientnetb3'
    """
    return _efficientnet.efficientnet("b3", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB4(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb4") -> Model:
    """Keras's EfficientNetB4 (default input 380x380).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB4).parameters["name"].default
        'efficientnetb4'
    """
    return _efficientnet.efficientnet("b4", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB5(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb5") -> Model:
    """Keras's EfficientNetB5 (default input 456x456).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB5).parameters["name"].default
        'efficientnetb5'
    """
    return _efficientnet.efficientnet("b5", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB6(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb6") -> Model:
    """Keras's EfficientNetB6 (default input 528x528).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB6).parameters["name"].default
        'efficientnetb6'
    """
    return _efficientnet.efficientnet("b6", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def EfficientNetB7(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb7") -> Model:
    """Keras's EfficientNetB7 (default input 600x600).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetB7).parameters["name"].default
        'efficientnetb7'
    """
    return _efficientnet.efficientnet("b7", include_top, weights, input_tensor, input_shape,
                                      pooling, classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through, as in Keras: EfficientNet models rescale and normalize their inputs
    themselves (a `Rescaling` and a `Normalization` layer), so they take pixels in 0..255.

    Example:
        >>> preprocess_input([1.0, 255.0])
        [1.0, 255.0]
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list:
    """Top ImageNet classes per sample: lists of (class_name, description, score).

    Example:
        `decode_predictions(model.predict(images), top=3)` names each image's 3 best classes
        (Keras's class index file is downloaded once).

        >>> import inspect
        >>> inspect.signature(decode_predictions).parameters["top"].default
        5
    """
    return imagenet_utils.decode_predictions(preds, top=top)
