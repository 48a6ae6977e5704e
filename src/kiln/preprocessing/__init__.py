"""`keras.preprocessing`: the dataset builders, and the `image` and `sequence` helpers, under
the names older Keras code imports them by (the same functions as in `kiln.utils`)."""

from kiln.preprocessing import image as image
from kiln.preprocessing import sequence as sequence
from kiln.utils import image_dataset_from_directory as image_dataset_from_directory
from kiln.utils import text_dataset_from_directory as text_dataset_from_directory
from kiln.utils import timeseries_dataset_from_array as timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
