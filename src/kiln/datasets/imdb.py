"""IMDB movie-review sentiment, as `keras.datasets.imdb`.

Example:
    >>> callable(load_data), callable(get_word_index)
    (True, True)
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._common import (ORIGIN, fetch, index_words, limit_words, load_npz, object_array,
                      remove_long_seq)

_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"


def _shuffled(rng: np.random.RandomState, x: np.ndarray, y: np.ndarray) -> tuple:
    indices = np.arange(len(x))
    rng.shuffle(indices)
    return x[indices], y[indices]


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, seed: int = 113, start_char: Any = 1,
              oov_char: Any = 2, index_from: int = 3, **kwargs: Any) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: object arrays of word-index lists, 0/1 labels.

    Words are indexed by frequency (shifted by `index_from`); `num_words` keeps the most
    frequent, `skip_top` drops the most frequent, others become `oov_char`; `maxlen` drops
    longer reviews; each review starts with `start_char`.

    Example:
        >>> (x_train, y_train), _ = load_data(num_words=10000)  # doctest: +SKIP
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}.")
    f = load_npz(fetch(path, ORIGIN + "imdb.npz", _HASH))
    rng = np.random.RandomState(seed)
    x_train, y_train = _shuffled(rng, f["x_train"], f["y_train"])
    x_test, y_test = _shuffled(rng, f["x_test"], f["y_test"])
    x_train = index_words(x_train, start_char, index_from)
    x_test = index_words(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = remove_long_seq(maxlen, x_train, y_train)
        x_test, y_test = remove_long_seq(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(f"No sequence is shorter than maxlen={maxlen}; increase maxlen.")
    xs = limit_words(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(y_train), np.asarray(y_test)])
    n = len(x_train)
    return (object_array(xs[:n]), labels[:n]), (object_array(xs[n:]), labels[n:])


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The word -> index dictionary of the IMDB data (indices before `index_from`).

    Example:
        >>> index = get_word_index()  # doctest: +SKIP
    """
    path = fetch(path, ORIGIN + "imdb_word_index.json", "bfafd718b763782e994055a2d397834f")
    with open(path) as f:
        return json.load(f)
