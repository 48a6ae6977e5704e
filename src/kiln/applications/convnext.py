"""Keras's `keras.applications.convnext`: ConvNeXtTiny, Small, Base, Large, XLarge,
preprocess_input, decode_predictions (with `include_preprocessing=True`, the default, the
models take pixels in 0..255)."""

from __future__ import annotations

from typing import Any

from kiln.applications import _convnext, imagenet_utils
from kiln.models import Model

__all__ = ["ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
           "decode_predictions", "preprocess_input"]


def ConvNeXtTiny(include_top: bool = True, include_preprocessing: bool = True,
                 weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
                 pooling: Any = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "convnext_tiny") -> Model:
    """Keras's ConvNeXtTiny (default input 224x224), Keras's layer names.

    Example:
        `ConvNeXtTiny(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 768).

        >>> import inspect
        >>> inspect.signature(ConvNeXtTiny).parameters["name"].default
        'convnext_tiny'
    """
    return _convnext.convnext("tiny", include_top, include_preprocessing, weights,
                              input_tensor, input_shape, pooling, classes,
                              classifier_activation, name)


def ConvNeXtSmall(include_top: bool = True, include_preprocessing: bool = True,
                  weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
                  pooling: Any = None, classes: int = 1000,
                  classifier_activation: Any = "softmax", name: str = "convnext_small") -> Model:
    """Keras's ConvNeXtSmall (default input 224x224).

    Example:
        >>> import inspect
        >>> inspect.signature(ConvNeXtSmall).parameters["name"].default
        'convnext_small'
    """
    return _convnext.convnext("small", include_top, include_preprocessing, weights,
                              input_tensor, input_shape, pooling, classes,
                              classifier_activation, name)


def ConvNeXtBase(include_top: bool = True, include_preprocessing: bool = True,
                 weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
                 pooling: Any = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "convnext_base") -> Model:
    """Keras's ConvNeXtBase (default input 224x224).

    Example:
        >>> import inspect
        >>> inspect.signature(ConvNeXtBase).parameters["name"].default
        'convnext_base'
    """
    return _convnext.convnext("base", include_top, include_preprocessing, weights,
                              input_tensor, input_shape, pooling, classes,
                              classifier_activation, name)


def ConvNeXtLarge(include_top: bool = True, include_preprocessing: bool = True,
                  weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
                  pooling: Any = None, classes: int = 1000,
                  classifier_activation: Any = "softmax", name: str = "convnext_large") -> Model:
    """Keras's ConvNeXtLarge (default input 224x224).

    Example:
        >>> import inspect
        >>> inspect.signature(ConvNeXtLarge).parameters["name"].default
        'convnext_large'
    """
    return _convnext.convnext("large", include_top, include_preprocessing, weights,
                              input_tensor, input_shape, pooling, classes,
                              classifier_activation, name)


def ConvNeXtXLarge(include_top: bool = True, include_preprocessing: bool = True,
                   weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
                   pooling: Any = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "convnext_xlarge") -> Model:
    """Keras's ConvNeXtXLarge (default input 224x224).

    Example:
        >>> import inspect
        >>> inspect.signature(ConvNeXtXLarge).parameters["name"].default
        'convnext_xlarge'
    """
    return _convnext.convnext("xlarge", include_top, include_preprocessing, weights,
                              input_tensor, input_shape, pooling, classes,
                              classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through, as in Keras: ConvNeXt models normalize their inputs themselves (a
    `Normalization` layer with ImageNet's statistics), so they take pixels in 0..255.

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
