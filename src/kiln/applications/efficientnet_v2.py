"""Keras's `keras.applications.efficientnet_v2`: EfficientNetV2B0..B3, S, M, L,
preprocess_input, decode_predictions (with `include_preprocessing=True`, the default, the
models take pixels in 0..255)."""

from __future__ import annotations

from typing import Any

from kiln.applications import _efficientnet_v2, imagenet_utils
from kiln.models import Model

__all__ = ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
           "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S", "decode_predictions",
           "preprocess_input"]


def EfficientNetV2B0(include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                     classes: int = 1000, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b0") -> Model:
    """Keras's EfficientNetV2B0 (default input 224x224), Keras's layer names.

    Example:
        `EfficientNetV2B0(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 1280).

        >>> import inspect
        >>> inspect.signature(EfficientNetV2B0).parameters["name"].default
        'efficientnetv2-b0'
    """
    return _efficientnet_v2.efficientnet_v2(
        "b0", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def EfficientNetV2B1(include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                     classes: int = 1000, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b1") -> Model:
    """Keras's EfficientNetV2B1 (default input 240x240).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetV2B1).parameters["name"].default
        'efficientnetv2-b1'
    """
    return _efficientnet_v2.efficientnet_v2(
        "b1", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def EfficientNetV2B2(include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                     classes: int = 1000, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b2") -> Model:
    """Keras's EfficientNetV2B2 (default input 260x260).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetV2B2).parameters["name"].default
        'efficientnetv2-b2'
    """
    return _efficientnet_v2.efficientnet_v2(
        "b2", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def EfficientNetV2B3(include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                     classes: int = 1000, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b3") -> Model:
    """Keras's EfficientNetV2B3 (default input 300x300).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetV2B3).parameters["name"].default
        'efficientnetv2-b3'
    """
    return _efficientnet_v2.efficientnet_v2(
        "b3", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def EfficientNetV2S(include_top: bool = True, weights: Any = "imagenet",
                    input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                    classes: int = 1000, classifier_activation: Any = "softmax",
                    include_preprocessing: bool = True,
                    name: str = "efficientnetv2-s") -> Model:
    """Keras's EfficientNetV2S (default input 384x384).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetV2S).parameters["name"].default
        'efficientnetv2-s'
    """
    return _efficientnet_v2.efficientnet_v2(
        "s", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def EfficientNetV2M(include_top: bool = True, weights: Any = "imagenet",
                    input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                    classes: int = 1000, classifier_activation: Any = "softmax",
                    include_preprocessing: bool = True,
                    name: str = "efficientnetv2-m") -> Model:
    """Keras's EfficientNetV2M (default input 480x480).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetV2M).parameters["name"].default
        'efficientnetv2-m'
    """
    return _efficientnet_v2.efficientnet_v2(
        "m", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def EfficientNetV2L(include_top: bool = True, weights: Any = "imagenet",
                    input_tensor: Any = None, input_shape: Any = None, pooling: Any = None,
                    classes: int = 1000, classifier_activation: Any = "softmax",
                    include_preprocessing: bool = True,
                    name: str = "efficientnetv2-l") -> Model:
    """Keras's EfficientNetV2L (default input 480x480).

    Example:
        >>> import inspect
        >>> inspect.signature(EfficientNetV2L).parameters["name"].default
        'efficientnetv2-l'
    """
    return _efficientnet_v2.efficientnet_v2(
        "l", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through, as in Keras: with `include_preprocessing=True` EfficientNetV2 models
    rescale their inputs themselves (pixels in 0..255); without it they expect [-1, 1].

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
