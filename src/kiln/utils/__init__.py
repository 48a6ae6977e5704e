"""Utilities: seeding, label encoding, the progress bar, Keras's serialization helpers, and
Keras's data utilities (sequences, files, datasets, images)."""

from .._random import set_random_seed as set_random_seed
from .._registry import custom_object_scope as custom_object_scope
from .._registry import custom_object_scope as CustomObjectScope
from .._registry import get_custom_objects as get_custom_objects
from .._registry import get_registered_name as get_registered_name
from .._registry import get_registered_object as get_registered_object
from .._registry import register_keras_serializable as register_keras_serializable
from .._serialization import deserialize_keras_object as deserialize_keras_object
from .._serialization import serialize_keras_object as serialize_keras_object
from .._naming import clear_session as clear_session
from ._dataset_utils import get_source_inputs as get_source_inputs
from ._dataset_utils import is_keras_tensor as is_keras_tensor
from ._dataset_utils import pack_x_y_sample_weight as pack_x_y_sample_weight
from ._dataset_utils import split_dataset as split_dataset
from ._dataset_utils import timeseries_dataset_from_array as timeseries_dataset_from_array
from ._dataset_utils import unpack_x_y_sample_weight as unpack_x_y_sample_weight
from ._directory_datasets import image_dataset_from_directory as image_dataset_from_directory
from ._directory_datasets import text_dataset_from_directory as text_dataset_from_directory
from ._file_utils import get_file as get_file
from ._image_utils import array_to_img as array_to_img
from ._image_utils import img_to_array as img_to_array
from ._image_utils import load_img as load_img
from ._image_utils import save_img as save_img
from ._numpy_utils import normalize as normalize
from ._numpy_utils import to_categorical as to_categorical
from ._plot import model_to_dot as model_to_dot
from ._plot import plot_history as plot_history
from ._plot import plot_model as plot_model
from ._progbar import Progbar as Progbar
from ._py_dataset import PyDataset as PyDataset
from ._py_dataset import Sequence as Sequence
from ._sequence_utils import pad_sequences as pad_sequences
from ..config import disable_interactive_logging as disable_interactive_logging
from ..config import enable_interactive_logging as enable_interactive_logging
from ..config import is_interactive_logging_enabled as is_interactive_logging_enabled

__all__ = ["disable_interactive_logging", "enable_interactive_logging", "get_source_inputs",
           "is_interactive_logging_enabled", "CustomObjectScope", "Progbar", "PyDataset", "Sequence", "array_to_img",
           "clear_session", "custom_object_scope", "deserialize_keras_object", "get_file",
           "get_custom_objects", "get_registered_name", "get_registered_object",
           "image_dataset_from_directory", "img_to_array", "is_keras_tensor", "load_img",
           "model_to_dot", "normalize", "pack_x_y_sample_weight", "pad_sequences",
           "plot_history", "plot_model", "register_keras_serializable", "save_img",
           "serialize_keras_object", "set_random_seed", "split_dataset",
           "text_dataset_from_directory", "timeseries_dataset_from_array", "to_categorical",
           "unpack_x_y_sample_weight"]
