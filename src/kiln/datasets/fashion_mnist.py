"""Fashion-MNIST, as `keras.datasets.fashion_mnist`.

Example:
    >>> FILES[0]
    'train-labels-idx1-ubyte.gz'
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from ._common import ORIGIN, fetch

FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def _read(path: str, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data() -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: uint8 (60000/10000, 28, 28) images, uint8 labels.

    Reads the four gzip IDX files from `~/.keras/datasets/fashion-mnist/`, downloading absent ones.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [fetch(name, ORIGIN + name, cache_subdir=subdir) for name in FILES]
    y_train, y_test = _read(paths[0], 8), _read(paths[2], 8)
    x_train = _read(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = _read(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
