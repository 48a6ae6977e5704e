"""MNIST digits, as `keras.datasets.mnist`.

Example:
    >>> callable(load_data)
    True
"""

from __future__ import annotations

import numpy as np

from ._common import ORIGIN, fetch

_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz") -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (60000/10000, 28, 28), uint8 labels.

    Reads `~/.keras/datasets/mnist.npz` (or under `$KERAS_HOME`), downloading it if absent.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    path = fetch(path, ORIGIN + "mnist.npz", _HASH)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
