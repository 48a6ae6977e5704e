"""Keras's `keras.applications.vgg16`: VGG16, preprocess_input, decode_predictions."""

from kiln.applications._vgg import VGG16 as VGG16
from kiln.applications._vgg import decode_predictions as decode_predictions
from kiln.applications._vgg import preprocess_input as preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
