"""Reuters newswire topics, as `keras.datasets.reuters`.

Example:
    >>> len(get_label_names())
    46
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._common import (ORIGIN, fetch, index_words, limit_words, load_npz, object_array,
                      remove_long_seq)

_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113,
              start_char: Any = 1, oov_char: Any = 2, index_from: int = 3) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: object arrays of word-index lists, topic labels.

    The arguments are those of `imdb.load_data`, plus `test_split` (the held-out fraction).

    Example:
        >>> (x_train, y_train), _ = load_data(num_words=10000)  # doctest: +SKIP
    """
    f = load_npz(fetch(path, ORIGIN + "reuters.npz", _HASH))
    xs, labels = f["x"], f["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = index_words(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    xs = limit_words(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels)
    return ((object_array(xs[:cut]), np.array(labels[:cut])),
            (object_array(xs[cut:]), np.array(labels[cut:])))


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The word -> index dictionary of the Reuters data (indices before `index_from`).

    Example:
        >>> index = get_word_index()  # doctest: +SKIP
    """
    path = fetch(path, ORIGIN + "reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921")
    with open(path) as f:
        return json.load(f)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, indexed by label.

    Example:
        >>> get_label_names()[3]
        'earn'
    """
    return _LABELS
