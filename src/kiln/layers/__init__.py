"""Layers: the building blocks of models."""

from ._context import clear_session as clear_session
from ._core import Activation as Activation
from ._core import Dense as Dense
from ._core import Dropout as Dropout
from ._core import Flatten as Flatten
from ._core import Input as Input
from ._core import InputLayer as InputLayer
from ._core import Reshape as Reshape
from ._layer import Layer as Layer
from ._symbolic import KerasTensor as KerasTensor

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "KerasTensor",
           "Layer", "Reshape"]
