"""Keras's `keras.applications.imagenet_utils`: ImageNet preprocessing and label decoding."""

from __future__ import annotations

import json
from typing import Any

import jax.numpy as jnp
import numpy as np

from kiln import _config
from kiln.utils import get_file

CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR means of ImageNet, Keras's constants
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_class_index: dict | None = None


def _channel_shape(ndim: int, data_format: str) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector against an image (batch) array."""
    if data_format == "channels_first":
        return (3,) + (1,) * (ndim - 3) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (3,)


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Preprocesses a batch of RGB images (0..255) the way an ImageNet model expects.

    mode "caffe": RGB to BGR, then subtract the ImageNet channel means; "tf": scale to
    [-1, 1]; "torch": scale to [0, 1], then normalize by the ImageNet mean and std.
    NumPy input gives NumPy output (a new array), JAX input gives JAX output.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 2, 2, 3), 255.0), mode="tf")[0, 0, 0].tolist()
        [1.0, 1.0, 1.0]
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError("Expected mode to be one of 'caffe', 'tf' or 'torch'. "
                         f"Received: mode={mode!r}. Fix: pass one of those.")
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("Expected data_format 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}.")
    xp = np if isinstance(x, np.ndarray) else jnp
    x = xp.asarray(x)
    if not xp.issubdtype(x.dtype, xp.floating):
        x = x.astype("float32")
    if mode == "tf":
        return x / 127.5 - 1.0
    shape = _channel_shape(x.ndim, data_format)
    if mode == "torch":
        mean = xp.asarray(_TORCH_MEAN, x.dtype).reshape(shape)
        std = xp.asarray(_TORCH_STD, x.dtype).reshape(shape)
        return (x / 255.0 - mean) / std
    axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    x = xp.flip(x, axis=axis)
    return x - xp.asarray(_CAFFE_MEAN, x.dtype).reshape(shape)


def _load_class_index() -> dict:
    """Keras's ImageNet class index (downloaded once into the models cache)."""
    global _class_index
    if _class_index is None:
        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH,
                        cache_subdir="models", file_hash=CLASS_INDEX_HASH)
        with open(path) as f:
            _class_index = json.load(f)
    return _class_index


def decode_predictions(preds: Any, top: int = 5, class_index: dict | None = None) -> list:
    """Top ImageNet classes per sample: lists of (class_name, description, score).

    `class_index` (Keras's JSON mapping "i" -> [wnid, label]) defaults to Keras's file.

    Example:
        >>> import numpy as np
        >>> idx = {str(i): [f"n{i}", f"c{i}"] for i in range(1000)}
        >>> p = np.zeros((1, 1000)); p[0, 7] = 1.0
        >>> decode_predictions(p, top=1, class_index=idx)[0][0][:2]
        ('n7', 'c7')
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (a 2D array "
                         f"of shape (samples, 1000)). Received array with shape: "
                         f"{preds.shape}. Fix: pass the output of a 1000-class ImageNet model.")
    index = class_index if class_index is not None else _load_class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape: Any, default_size: int, min_size: int,
                       require_flatten: bool, weights: Any = None) -> tuple:
    """Validates a (H, W, C) input shape for a model, Keras's rules (channels_last).

    Example:
        >>> obtain_input_shape(None, 224, 32, True, None)
        (224, 224, 3)
    """
    default = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten and input_shape is not None:
        if tuple(input_shape) != default:
            raise ValueError("When setting `include_top=True` and loading `imagenet` "
                             f"weights, `input_shape` should be {default}. Received: "
                             f"input_shape={input_shape}. Fix: drop input_shape.")
    if input_shape is None:
        return default if require_flatten else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be a tuple of three integers (H, W, C). "
                         f"Received: input_shape={input_shape}.")
    if weights == "imagenet" and input_shape[-1] != 3:
        raise ValueError("The input must have 3 channels with imagenet weights. "
                         f"Received: input_shape={input_shape}.")
    for side in input_shape[:2]:
        if side is not None and side < min_size:
            raise ValueError(f"Input size must be at least {min_size}x{min_size}. "
                             f"Received: input_shape={input_shape}. Fix: use larger images.")
    if require_flatten and None in input_shape[:2]:
        raise ValueError("If `include_top` is True, you should specify a static "
                         f"`input_shape`. Received: input_shape={input_shape}.")
    return input_shape


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """Pretrained tops only allow a softmax (or no) classifier activation, as in Keras.

    Example:
        >>> validate_activation("softmax", "imagenet")
    """
    if weights is None or classifier_activation in (None, "softmax"):
        return
    raise ValueError("Only `None` and `softmax` activations are allowed for the "
                     f"`classifier_activation` argument when using pretrained weights, "
                     f"Received: classifier_activation={classifier_activation!r}.")
