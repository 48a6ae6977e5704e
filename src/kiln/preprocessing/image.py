"""`keras.preprocessing.image`: loading, saving and converting images, and `smart_resize`."""

from __future__ import annotations

from typing import Any

import numpy as np

from kiln import _config
from kiln.ops import image as _image_ops
from kiln.utils import array_to_img as array_to_img
from kiln.utils import img_to_array as img_to_array
from kiln.utils import load_img as load_img
from kiln.utils import save_img as save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]


def smart_resize(x: Any, size: Any, interpolation: str = "bilinear",
                 data_format: str = "channels_last", backend_module: Any = None) -> Any:
    """Resizes one image (3-D) or a batch (4-D) to `size` without distorting it: the largest
    centred window of the target aspect ratio is cut out, then resized. NumPy in, NumPy out.

    Example:
        >>> smart_resize(np.ones((40, 20, 3)), (10, 10)).shape
        (10, 10, 3)
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers (height, width). "
                         f"Received: size={size!r}.")
    ndim = np.ndim(x)
    if ndim not in (3, 4):
        raise ValueError("Expected an image array with rank 3 (single image) or 4 (batch of "
                         f"images). Received: input with shape {np.shape(x)}.")
    data_format = data_format or _config.image_data_format()
    out = _image_ops.resize(x, tuple(int(s) for s in size), interpolation=interpolation,
                            crop_to_aspect_ratio=True, data_format=data_format)
    return np.asarray(out) if isinstance(x, np.ndarray) else out
