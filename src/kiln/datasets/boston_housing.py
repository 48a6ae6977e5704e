"""Boston housing prices, as `keras.datasets.boston_housing`.

Example:
    >>> callable(load_data)
    True
"""

from __future__ import annotations

import numpy as np

from ._common import ORIGIN, check_test_split, fetch, shuffled_split

_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: 13 float64 features, prices; shuffled with `seed`.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    check_test_split(test_split)
    path = fetch(path, ORIGIN + "boston_housing.npz", _HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed)
