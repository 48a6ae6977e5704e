"""CIFAR-10, as `keras.datasets.cifar10`.

Example:
    >>> ORIGIN_URL.endswith("cifar-10-python.tar.gz")
    True
"""

from __future__ import annotations

import os

import numpy as np

from ._common import fetch, unpickle_batch

ORIGIN_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data() -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: uint8 (50000/10000, 32, 32, 3), labels (n, 1).

    Extracts Keras's archive into `~/.keras/datasets/cifar-10-batches-py-target/`.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    root = fetch("cifar-10-batches-py-target", ORIGIN_URL, _HASH, extract=True)
    folder = os.path.join(root, "cifar-10-batches-py")
    parts = [unpickle_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts]).astype("uint8")
    y_train = np.concatenate([np.asarray(p[1]) for p in parts]).astype("uint8")
    x_test, y_test = unpickle_batch(os.path.join(folder, "test_batch"))
    x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return ((x_train, y_train.reshape(-1, 1)),
            (x_test.astype(x_train.dtype), np.asarray(y_test).reshape(-1, 1).astype("uint8")))
