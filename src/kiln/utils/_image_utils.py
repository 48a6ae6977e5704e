"""Image files to arrays and back, as `keras.utils.load_img` / `img_to_array` /
`array_to_img` / `save_img`. Needs Pillow, kiln's optional extra: `pip install "kiln[image]"`.

Example:
    >>> import numpy as np
    >>> img = array_to_img(np.zeros((2, 3, 3)))  # doctest: +SKIP
    >>> img.size  # doctest: +SKIP
    (3, 2)
"""

from __future__ import annotations

import io
import pathlib
import warnings
from typing import Any

import numpy as np

from .. import _config

try:
    from PIL import Image as _pil_image
except ImportError:  # Pillow is the optional extra kiln[image]
    _pil_image = None

_FORMATS = ("channels_last", "channels_first")


def _require_pillow(what: str) -> Any:
    if _pil_image is None:
        raise ImportError(f"{what} needs Pillow, which is not installed. Install it with "
                          'pip install "kiln[image]" (or pip install Pillow).')
    return _pil_image


def _interpolations() -> dict[str, Any]:
    r = _require_pillow("Resizing images").Resampling
    return {"nearest": r.NEAREST, "bilinear": r.BILINEAR, "bicubic": r.BICUBIC,
            "hamming": r.HAMMING, "box": r.BOX, "lanczos": r.LANCZOS}


def _data_format(data_format: str | None) -> str:
    data_format = data_format or _config.image_data_format()
    if data_format not in _FORMATS:
        raise ValueError(f"data_format must be one of {_FORMATS}; received {data_format!r}.")
    return data_format


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: Any = None) -> Any:
    """A PIL image from a rank-3 array (1, 3 or 4 channels); `scale` maps its range to 0..255.

    Example:
        >>> import numpy as np
        >>> array_to_img(np.ones((2, 3, 1))).mode  # doctest: +SKIP
        'L'
    """
    pil = _require_pillow("array_to_img")
    x = np.array(x, dtype=dtype or _config.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img expects one image of rank 3; received shape {x.shape}.")
    if _data_format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        x = (x / top if top != 0 else x) * 255
    channels = x.shape[2]
    if channels in (3, 4):
        return pil.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return pil.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img supports 1, 3 or 4 channels; received {channels}.")


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A rank-3 array (height, width, channels) from a PIL image (floatx by default).

    Example:
        >>> import numpy as np
        >>> img_to_array(np.zeros((2, 3))).shape
        (2, 3, 1)
    """
    x = np.asarray(img, dtype=dtype or _config.floatx())
    first = _data_format(data_format) == "channels_first"
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if first else x
    if x.ndim == 2:
        return x.reshape((1,) + x.shape) if first else x.reshape(x.shape + (1,))
    raise ValueError(f"img_to_array expects an image of rank 2 or 3; received shape {x.shape}.")


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs: Any) -> None:
    """Saves an image array to a file (format from the suffix unless `file_format`).

    Example:
        >>> import numpy as np, tempfile, os
        >>> save_img(os.path.join(tempfile.mkdtemp(), "a.png"), np.ones((2, 2, 3)))  # doctest: +SKIP
    """
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("JPEG cannot store an alpha channel; saving the image as RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _open(path: Any) -> Any:
    pil = _require_pillow("load_img")
    if isinstance(path, io.BytesIO):
        return pil.open(path)
    if isinstance(path, (pathlib.Path, bytes, str)):
        with open(path, "rb") as f:
            return pil.open(io.BytesIO(f.read()))
    raise TypeError(f"load_img expects a path or an io.BytesIO; received {type(path).__name__}.")


def _convert(img: Any, color_mode: str) -> Any:
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise ValueError('color_mode must be "grayscale", "rgb" or "rgba"; received '
                     f"{color_mode!r}.")


def _crop_box(size: tuple[int, int], target: tuple[int, int]) -> list[int]:
    """The centered box of the target's aspect ratio (Keras's keep_aspect_ratio)."""
    (width, height), (tw, th) = size, target
    crop_h, crop_w = min(height, (width * th) // tw), min(width, (height * tw) // th)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return [left, top, left + crop_w, top + crop_h]


def load_img(path: Any, color_mode: str = "rgb", target_size: Any = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """Loads an image file as a PIL image, converted to `color_mode`, resized to
    `target_size` (height, width) with `interpolation` (center-cropped first to the target's
    aspect ratio with `keep_aspect_ratio`).

    Example:
        >>> img = load_img("photo.jpg", target_size=(64, 64))  # doctest: +SKIP
    """
    img = _convert(_open(path), color_mode)
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    methods = _interpolations()
    if interpolation not in methods:
        raise ValueError(f"interpolation must be one of {sorted(methods)}; received "
                         f"{interpolation!r}.")
    box = _crop_box(img.size, size) if keep_aspect_ratio else None
    return img.resize(size, methods[interpolation], box=box)
