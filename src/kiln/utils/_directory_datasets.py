"""`image_dataset_from_directory` and `text_dataset_from_directory`, as Keras's.

`directory/class_a/*.png`, `directory/class_b/*.png` ... give the files and their labels
(the sorted subfolder names are the classes). The result is a `PyDataset` of `(x, y)` NumPy
batches (`x` alone with `labels=None`), read from disk one batch at a time, so `fit` streams
it; it carries `class_names` and `file_paths`. Images need Pillow (`pip install "kiln[image]"`).

Example:
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> for name in ("neg", "pos"):
    ...     os.makedirs(os.path.join(d, name))
    ...     _ = open(os.path.join(d, name, "a.txt"), "w").write(name)
    >>> ds = text_dataset_from_directory(d, shuffle=False, verbose=False)
    >>> x, y = ds[0]
    >>> ds.class_names, x.tolist(), y.tolist()
    (['neg', 'pos'], ['neg', 'pos'], [0, 1])
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from ._image_utils import _convert, _crop_box, _interpolations, _open, _pil_image, img_to_array
from ._dataset_ops import DatasetOps, batch_sizes, host
from ._py_dataset import PyDataset

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _subdirs(directory: str, class_names: Any) -> list[str]:
    found = sorted(d for d in os.listdir(directory)
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
    if class_names is None:
        return found
    if not set(class_names) <= set(found):
        raise ValueError(f"class_names must be subfolders of {directory}: expected a subset of "
                         f"{found}, received class_names={list(class_names)}.")
    return list(class_names)


def _files_of(folder: str, follow_links: bool, formats: tuple[str, ...]) -> list[str]:
    out = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda w: w[0]):
        out += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats)]
    return out


def index_directory(directory: str, labels: Any, formats: tuple[str, ...],
                    class_names: Any = None, shuffle: bool = True, seed: Any = None,
                    follow_links: bool = False, verbose: bool = True) -> tuple:
    """(file paths, int32 labels or None, class names), in Keras's order and shuffle."""
    if labels == "inferred":
        classes = _subdirs(directory, class_names)
        groups = [_files_of(os.path.join(directory, c), follow_links, formats) for c in classes]
        paths = [p for g in groups for p in g]
        label_array = np.concatenate([np.full(len(g), i, "int32") for i, g in enumerate(groups)]
                                     ) if groups else np.zeros(0, "int32")
    else:
        if class_names is not None:
            raise ValueError("class_names can only be given with labels='inferred'; received "
                             f"labels={'None' if labels is None else 'a list'}.")
        paths = _files_of(directory, follow_links, formats)
        if labels is not None and len(labels) != len(paths):
            raise ValueError(f"labels has {len(labels)} entries but {directory} holds "
                             f"{len(paths)} files; give one label per file (sorted order).")
        label_array = None if labels is None else np.asarray(labels)
        classes = None if labels is None else [str(v) for v in sorted(set(labels))]
    if verbose:
        print(f"Found {len(paths)} files." if label_array is None else
              f"Found {len(paths)} files belonging to {len(classes)} classes.")
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, classes


def check_split_args(validation_split: Any, subset: Any, shuffle: bool, seed: Any) -> None:
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1); received {validation_split}.")
    if bool(validation_split) != bool(subset):
        raise ValueError("subset and validation_split go together: set both or neither "
                         f"(received subset={subset!r}, validation_split={validation_split}).")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('subset must be "training", "validation" or "both"; received '
                         f"{subset!r}.")
    if validation_split and shuffle and seed is None:
        raise ValueError("With validation_split and shuffle, pass a seed, so that the training "
                         "and validation subsets do not overlap.")


def _labels_batch(labels: np.ndarray, label_mode: Any, num_classes: int) -> np.ndarray:
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    return labels.astype("int32") if labels.dtype.kind in "iu" else labels


class FilesDataset(DatasetOps, PyDataset):
    """Files read `batch_size` at a time by `load(path)`, with their labels; reshuffled after
    every epoch when `shuffle` (what the directory datasets return).

    Example:
        >>> ds = FilesDataset(["a", "b", "c"], None, len, 2, None, [], False, 0)
        >>> len(ds), ds[1].tolist()
        (2, [1])
    """

    def __init__(self, paths: list[str], labels: Any, load: Callable[[str], Any],
                 batch_size: Any, label_mode: Any, class_names: Any, shuffle: bool,
                 seed: Any):
        super().__init__()
        self.file_paths, self.labels, self.load = list(paths), labels, load
        self.batch_size, self.label_mode, self.class_names = batch_size, label_mode, class_names
        self.shuffle = shuffle
        self._order = np.arange(len(self.file_paths))
        self._rng = np.random.RandomState(seed)

    def __len__(self) -> int:
        return -(-len(self.file_paths) // (self.batch_size or 1))

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches.")
        size = self.batch_size or 1
        rows = self._order[index * size:(index + 1) * size]
        x = np.stack([np.asarray(self.load(self.file_paths[i])) for i in rows])
        if self.labels is None or self.label_mode is None:
            out: Any = x
        else:
            out = (x, _labels_batch(self.labels[rows], self.label_mode, len(self.class_names)))
        if self.batch_size is None:
            out = out[0] if not isinstance(out, tuple) else (out[0][0], out[1][0])
        return host(out)

    def _sizes(self) -> list[int]:
        return batch_sizes(len(self.file_paths), self.batch_size)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self._order)


def _subsets(paths: list, labels: Any, validation_split: Any, subset: Any) -> list[tuple]:
    """[(paths, labels)] for one subset, or [training, validation] for subset="both"."""
    if not validation_split:
        return [(paths, labels)]
    n_val = int(validation_split * len(paths))
    cut = len(paths) - n_val
    train = (paths[:cut], None if labels is None else labels[:cut])
    val = (paths[cut:], None if labels is None else labels[cut:])
    chosen = {"training": [train], "validation": [val], "both": [train, val]}[subset]
    for (p, _), name in zip(chosen, ["training", "validation"] if subset == "both" else [subset]):
        print(f"Using {len(p)} files for {name}.")
    return chosen


def _from_directory(directory: str, labels: Any, label_mode: Any, class_names: Any,
                    formats: tuple, load: Callable, batch_size: Any, shuffle: bool, seed: Any,
                    validation_split: Any, subset: Any, follow_links: bool, verbose: bool) -> Any:
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError("labels must be 'inferred', None or a list of labels (one per file, "
                         f"in sorted file order); received {labels!r}.")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('label_mode must be "int", "categorical", "binary" or None; received '
                         f"{label_mode!r}.")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_split_args(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_array, classes = index_directory(directory, labels, formats, class_names,
                                                  shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(classes) != 2:
        raise ValueError(f'label_mode="binary" needs exactly 2 classes; found {len(classes)}: '
                         f"{classes}. Use label_mode='categorical' or 'int'.")
    if not paths:
        raise ValueError(f"No files found in directory {directory} with extensions {formats}.")
    parts = [FilesDataset(p, lab, load, batch_size, label_mode, classes, shuffle, seed)
             for p, lab in _subsets(paths, label_array, validation_split, subset)]
    return parts[0] if len(parts) == 1 else tuple(parts)


def _read_text(max_length: Any) -> Callable[[str], str]:
    def read(path: str) -> str:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text[:max_length] if max_length is not None else text
    return read


def text_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: Any = "int",
                                class_names: Any = None, batch_size: Any = 32,
                                max_length: Any = None, shuffle: bool = True, seed: Any = None,
                                validation_split: Any = None, subset: Any = None,
                                follow_links: bool = False, format: str = "tf",
                                verbose: bool = True) -> Any:
    """A `PyDataset` of `(texts, labels)` batches from the `.txt` files of `directory`.

    Texts are NumPy string arrays (cut to `max_length` characters). `label_mode`: "int"
    (int32), "categorical" (one-hot float32), "binary" (float32 (n, 1)) or None (texts only).
    `subset="both"` returns (training, validation). `format` is accepted for compatibility.

    Example:
        >>> ds = text_dataset_from_directory("reviews/", batch_size=8)  # doctest: +SKIP
    """
    del format
    return _from_directory(directory, labels, label_mode, class_names, (".txt",),
                           _read_text(max_length), batch_size, shuffle, seed, validation_split,
                           subset, follow_links, verbose)


def _image_loader(color_mode: str, image_size: Any, interpolation: str, crop: bool,
                  pad: bool, data_format: Any) -> Callable[[str], np.ndarray]:
    if color_mode not in _CHANNELS:
        raise ValueError(f'color_mode must be "grayscale", "rgb" or "rgba"; received '
                         f"{color_mode!r}.")
    methods = _interpolations()
    if interpolation not in methods:
        raise ValueError(f"interpolation must be one of {sorted(methods)}; received "
                         f"{interpolation!r}.")
    size = (int(image_size[1]), int(image_size[0]))

    def load(path: str) -> np.ndarray:
        img = _convert(_open(path), color_mode)
        if img.size != size:
            img = _padded(img, size) if pad else img
            box = _crop_box(img.size, size) if crop else None
            img = img.resize(size, methods[interpolation], box=box)
        return img_to_array(img, data_format=data_format, dtype="float32")
    return load


def _padded(img: Any, target: tuple[int, int]) -> Any:
    """The image centered on a black canvas of the target's aspect ratio."""
    (width, height), (tw, th) = img.size, target
    pad_w, pad_h = max(width, (height * tw) // th), max(height, (width * th) // tw)
    canvas = _pil_image.new(img.mode, (pad_w, pad_h))
    canvas.paste(img, ((pad_w - width) // 2, (pad_h - height) // 2))
    return canvas


def image_dataset_from_directory(directory: str, labels: Any = "inferred",
                                 label_mode: Any = "int", class_names: Any = None,
                                 color_mode: str = "rgb", batch_size: Any = 32,
                                 image_size: Any = (256, 256), shuffle: bool = True,
                                 seed: Any = None, validation_split: Any = None,
                                 subset: Any = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False, data_format: Any = None,
                                 format: str = "tf", verbose: bool = True) -> Any:
    """A `PyDataset` of `(images, labels)` batches from the image files of `directory`.

    Images are float32 `(batch, height, width, channels)` (channels from `color_mode`),
    resized to `image_size` with `interpolation` (center-cropped, or zero-padded, to its aspect ratio
    first with `crop_to_aspect_ratio` / `pad_to_aspect_ratio`). Labels as in `text_dataset_from_directory`. Needs Pillow.

    Example:
        >>> ds = image_dataset_from_directory("photos/", image_size=(64, 64))  # doctest: +SKIP
    """
    del format
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Set at most one of pad_to_aspect_ratio and crop_to_aspect_ratio; "
                         "received both True.")
    load = _image_loader(color_mode, image_size, interpolation, crop_to_aspect_ratio,
                         pad_to_aspect_ratio, data_format)
    return _from_directory(directory, labels, label_mode, class_names, IMAGE_FORMATS, load,
                           batch_size, shuffle, seed, validation_split, subset, follow_links,
                           verbose)
