"""CIFAR-100, as `keras.datasets.cifar100`.

Example:
    >>> ORIGIN_URL.endswith("cifar-100-python.tar.gz")
    True
"""

from __future__ import annotations

import os

import numpy as np

from ._common import fetch, unpickle_batch

ORIGIN_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode: str = "fine") -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: uint8 (50000/10000, 32, 32, 3), labels (n, 1).

    label_mode: "fine" (100 classes) or "coarse" (20 superclasses).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data("coarse")  # doctest: +SKIP
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'label_mode must be "fine" or "coarse"; received {label_mode!r}.')
    root = fetch("cifar-100-python-target", ORIGIN_URL, _HASH, extract=True)
    folder = os.path.join(root, "cifar-100-python")
    out = []
    for split in ("train", "test"):
        x, y = unpickle_batch(os.path.join(folder, split), f"{label_mode}_labels")
        out.append((x.transpose(0, 2, 3, 1), np.reshape(np.asarray(y), (len(y), 1))))
    return tuple(out)
