"""Saving: Keras's serialization API over kiln's one closed registry.

Nothing named in a config is imported: names resolve only to kiln's built-ins, to objects
registered with `register_keras_serializable`, and to `custom_objects`.

Example:
    >>> import kiln
    >>> config = serialize_keras_object(kiln.layers.Dense(2, name="d"))
    >>> config["module"], config["class_name"]
    ('keras.layers', 'Dense')
    >>> deserialize_keras_object(config).units
    2
"""

from .._registry import custom_object_scope as custom_object_scope
from .._registry import get_custom_objects as get_custom_objects
from .._registry import get_registered_name as get_registered_name
from .._registry import get_registered_object as get_registered_object
from .._registry import register_keras_serializable as register_keras_serializable
from .._serialization import deserialize_keras_object as deserialize_keras_object
from .._serialization import serialize_keras_object as serialize_keras_object
from ._api import load_model as load_model
from ._api import load_weights as load_weights
from ._api import save_model as save_model
from ._api import save_weights as save_weights

CustomObjectScope = custom_object_scope

__all__ = ["CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
           "get_custom_objects", "get_registered_name", "get_registered_object", "load_model",
           "load_weights", "register_keras_serializable", "save_model", "save_weights",
           "serialize_keras_object"]
