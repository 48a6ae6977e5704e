"""Keras's `keras.applications.vgg19`: VGG19, preprocess_input, decode_predictions."""

from kiln.applications._vgg import VGG19 as VGG19
from kiln.applications._vgg import decode_predictions as decode_predictions
from kiln.applications._vgg import preprocess_input as preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
