"""California housing prices, as `keras.datasets.california_housing`.

Example:
    >>> callable(load_data)
    True
"""

from __future__ import annotations

import numpy as np

from ._common import ORIGIN, check_test_split, fetch, shuffled_split

_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version: str = "large", path: str = "california_housing.npz",
              test_split: float = 0.2, seed: int = 113) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: 8 features, prices; "small" keeps 600 samples.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data("small")  # doctest: +SKIP
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(f'version must be "small" or "large"; received version={version!r}.')
    path = fetch(path, ORIGIN + "california_housing.npz", _HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffled_split(x, y, test_split, seed)
