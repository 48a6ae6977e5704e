"""Keras's `keras.applications.resnet50`: ResNet50, preprocess_input, decode_predictions."""

from kiln.applications.resnet import ResNet50 as ResNet50
from kiln.applications.resnet import decode_predictions as decode_predictions
from kiln.applications.resnet import preprocess_input as preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
