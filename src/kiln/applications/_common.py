"""What every application constructor shares: the input, the top, the weights."""

from __future__ import annotations

from typing import Any, Callable

from kiln import layers
from kiln.applications import imagenet_utils
from kiln.models import Model
from kiln.saving._legacy_h5 import is_legacy_h5, load_legacy_weights
from kiln.utils import get_file

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def check_args(weights: Any, include_top: bool, classes: int) -> None:
    """Keras's argument checks on `weights` and `classes`."""
    if not (weights in ("imagenet", None) or isinstance(weights, str)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000. Received: classes={classes}. Fix: pass classes=1000 "
                         "or weights=None.")


def make_input(input_tensor: Any, input_shape: Any, default_size: int, min_size: int,
               include_top: bool, weights: Any) -> tuple[Any, Any]:
    """(model input, first tensor): a new `Input` or the given `input_tensor`."""
    shape = imagenet_utils.obtain_input_shape(input_shape, default_size, min_size,
                                              require_flatten=include_top, weights=weights)
    if input_tensor is None:
        x = layers.Input(shape=shape)
        return x, x
    if not isinstance(input_tensor, layers.KerasTensor):
        raise ValueError("Expected `input_tensor` to be a symbolic tensor from "
                         f"`keras.Input(...)`. Received: {type(input_tensor).__name__}. Fix: "
                         "wrap it, e.g. input_tensor=keras.Input(shape=(224, 224, 3)).")
    return input_tensor, input_tensor


def pool(x: Any, pooling: Any, avg_name: str | None = "avg_pool",
         max_name: str | None = "max_pool") -> Any:
    """The `pooling` option of a headless model ("avg", "max" or None)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def classifier(x: Any, classes: int, classifier_activation: Any, weights: Any) -> Any:
    """The `predictions` Dense layer of a model with its top."""
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def load_weights(model: Any, weights: Any, url: Callable[[], tuple[str, str, str]]) -> Any:
    """Loads 'imagenet' (Keras's file: `url()` gives (file name, origin, hash)) or a path."""
    if weights == "imagenet":
        fname, origin, file_hash = url()
        path = get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
        # by name when the names agree, else in order (Keras's rule): a second model of a
        # kind in one session has automatic names such as `normalization_1`
        load_legacy_weights(model, path, mode="auto")
    elif weights is not None:
        if is_legacy_h5(weights):
            load_legacy_weights(model, weights, mode="auto")
        else:
            model.load_weights(weights)
    return model


def build(inputs: Any, outputs: Any, name: str, weights: Any,
          url: Callable[[], tuple[str, str, str]]) -> Model:
    """The functional model (its layers, hence weights, in Keras's order), weights loaded."""
    return load_weights(Model(inputs, outputs, name=name), weights, url)
