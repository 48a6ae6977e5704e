"""VGG16 and VGG19 (Keras's `keras.applications.vgg16` / `vgg19`)."""

from __future__ import annotations

from typing import Any

from kiln import layers
from kiln.applications import _common, imagenet_utils
from kiln.models import Model

_HASHES = {"vgg16": ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
           "vgg19": ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")}
_FILTERS = (64, 128, 256, 512, 512)


def _vgg(convs: tuple[int, ...], family: str, include_top: bool, weights: Any,
         input_tensor: Any, input_shape: Any, pooling: Any, classes: int,
         classifier_activation: Any, name: str) -> Model:
    _common.check_args(weights, include_top, classes)
    inputs, x = _common.make_input(input_tensor, input_shape, 224, 32, include_top, weights)
    for block, (n, filters) in enumerate(zip(convs, _FILTERS), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, 3, activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = _common.classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.pool(x, pooling, None, None)

    def url() -> tuple[str, str, str]:
        fname = f"{family}_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop")
        return (f"{fname}.h5", f"{_common.BASE_URL}{family}/{fname}.h5",
                _HASHES[family][0 if include_top else 1])
    return _common.build(inputs, x, name, weights, url)


def VGG16(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
          input_shape: Any = None, pooling: Any = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg16") -> Model:
    """Keras's VGG16 (13 convolutions, 3 dense layers), Keras's layer names.

    Example:
        `VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))` gives
        outputs of shape (None, 1, 1, 512).

        >>> import inspect
        >>> inspect.signature(VGG16).parameters["name"].default
        'vgg16'
    """
    return _vgg((2, 2, 3, 3, 3), "vgg16", include_top, weights, input_tensor, input_shape,
                pooling, classes, classifier_activation, name)


def VGG19(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
          input_shape: Any = None, pooling: Any = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg19") -> Model:
    """Keras's VGG19 (16 convolutions, 3 dense layers), Keras's layer names.

    Example:
        `VGG19(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")` gives
        outputs of shape (None, 512).

        >>> import inspect
        >>> inspect.signature(VGG19).parameters["name"].default
        'vgg19'
    """
    return _vgg((2, 2, 4, 4, 4), "vgg19", include_top, weights, input_tensor, input_shape,
                pooling, classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """VGG's preprocessing ("caffe": BGR, ImageNet means subtracted).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 1, 1, 3)))[0, 0, 0].round(3).tolist()
        [-103.939, -116.779, -123.68]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
