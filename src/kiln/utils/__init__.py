"""Utilities: seeding, label encoding, the progress bar and Keras's serialization helpers."""

from .._random import set_random_seed as set_random_seed
from .._registry import custom_object_scope as custom_object_scope
from .._registry import get_custom_objects as get_custom_objects
from .._registry import register_keras_serializable as register_keras_serializable
from .._serialization import deserialize_keras_object as deserialize_keras_object
from .._serialization import serialize_keras_object as serialize_keras_object
from .._naming import clear_session as clear_session
from ._numpy_utils import normalize as normalize
from ._numpy_utils import to_categorical as to_categorical
from ._progbar import Progbar as Progbar

__all__ = ["Progbar", "clear_session", "custom_object_scope", "deserialize_keras_object",
           "get_custom_objects", "normalize", "register_keras_serializable",
           "serialize_keras_object", "set_random_seed", "to_categorical"]

