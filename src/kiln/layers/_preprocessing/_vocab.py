"""Host-side vocabulary helpers for the lookup layers: counting, sorting, tables, IDF.

A vocabulary is a Python list of tokens (str or int). A `LookupTable` keeps the tokens
sorted with their indices, so a lookup is one `searchsorted` in NumPy (strings, on the
host) or in jax.numpy (integers, also inside `jax.jit`).
"""

from __future__ import annotations

import collections
from typing import Any, Iterable, Sequence

import jax
import numpy as np


def vocabulary_list(vocabulary: Any, layer: str) -> list:
    """`vocabulary` as a list; a string (a file path in Keras) is refused."""
    if isinstance(vocabulary, (str, bytes)):
        raise ValueError(
            f"{layer}(vocabulary=...) accepts only a list of tokens; received the string "
            f"{vocabulary!r}. kiln never reads vocabulary files (a model config must not make "
            "it open paths). Load the file yourself, e.g. "
            "vocabulary=open(path, encoding='utf-8').read().splitlines().")
    if isinstance(vocabulary, (np.ndarray, jax.Array)):
        if np.ndim(vocabulary) != 1:
            raise ValueError(f"{layer} vocabulary must be 1-D; received shape "
                             f"{np.shape(vocabulary)}.")
        return np.asarray(vocabulary).tolist()
    if not isinstance(vocabulary, (list, tuple)):
        raise ValueError(f"{layer} vocabulary must be a list of tokens; received "
                         f"{type(vocabulary).__name__}.")
    return list(vocabulary)


class Accumulator:
    """Token counts (and document counts for TF-IDF) gathered by `adapt`."""

    def __init__(self, track_documents: bool):
        self.track_documents = track_documents
        self.counts: collections.Counter = collections.Counter()
        self.doc_counts: collections.Counter = collections.Counter()
        self.num_documents = 0

    def update(self, rows: Iterable[Sequence[Any]]) -> None:
        """Counts the tokens of each row; each row is one document."""
        for row in rows:
            row = list(row)
            self.counts.update(row)
            if self.track_documents:
                self.doc_counts.update(set(row))
            self.num_documents += 1


def sorted_tokens(counts: collections.Counter, exclude: Sequence[Any], limit: int | None) -> list:
    """Tokens by decreasing count, ties by decreasing token (Keras's reversed lexsort).

    Strings compare by code point, which is the UTF-8 byte order TensorFlow sorts by.
    """
    items = [(c, t) for t, c in counts.items() if t not in exclude]
    items.sort(reverse=True)
    tokens = [t for _, t in items]
    return tokens if not limit else tokens[:limit]


def inverse_document_frequency(doc_counts: Sequence[int], num_documents: int) -> np.ndarray:
    """`log(1 + num_documents / (1 + document_count))`, in float64 then float32 (as Keras)."""
    counts = np.asarray(doc_counts, dtype=np.float64)
    return np.log(1.0 + num_documents / (1.0 + counts)).astype(np.float32)


class LookupTable:
    """Maps tokens to indices `start, start+1, ...` in vocabulary order."""

    def __init__(self, tokens: Sequence[Any], start: int, is_string: bool):
        keys = np.array(tokens, dtype=str if is_string else np.int64)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = (order + start).astype(np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, xp: Any, inputs: Any, default: int) -> Any:
        """Index of each input token, `default` where it is not in the table."""
        if len(self.keys) == 0:
            return xp.full(xp.shape(inputs), default, dtype=self.ids.dtype if xp is np else None)
        keys, ids = xp.asarray(self.keys), xp.asarray(self.ids)
        pos = xp.minimum(xp.searchsorted(keys, inputs), len(self.keys) - 1)
        return xp.where(keys[pos] == inputs, ids[pos], default)


def invert_lookup(xp: Any, indices: Any, values: Any, token_start: int, oov_token: Any,
                  mask_token: Any) -> Any:
    """Tokens for indices: `values[i]` for vocabulary indices, else the OOV token; index 0
    gives the mask token when there is one (Keras's inverse table)."""
    n = len(values)
    if n == 0:
        out = xp.full(xp.shape(indices), oov_token)
    else:
        safe = xp.clip(indices, 0, n - 1)
        valid = (indices >= token_start) & (indices < n)
        out = xp.where(valid, xp.asarray(values)[safe], oov_token)
    if mask_token is not None:
        out = xp.where(indices == 0, mask_token, out)
    return out


def as_string_array(data: Any, encoding: str, layer: str) -> np.ndarray:
    """Strings (or bytes, decoded with `encoding`) as a NumPy unicode array."""
    if isinstance(data, (str, bytes)):
        data = [data]
        scalar = True
    else:
        scalar = False
    try:
        arr = np.asarray(data)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{layer} expects a rectangular batch of strings (equal-length rows); "
                         f"NumPy could not make an array from it ({err}). Pad the rows, or "
                         "tokenize whole strings with TextVectorization.") from None
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, encoding)
    elif arr.dtype.kind == "O":
        flat = [x.decode(encoding) if isinstance(x, bytes) else x for x in arr.ravel()]
        if not all(isinstance(x, str) for x in flat):
            raise TypeError(f"{layer} expects strings; received an object array holding "
                            f"{sorted({type(x).__name__ for x in flat})}.")
        arr = np.array(flat, dtype=str).reshape(arr.shape)
    elif arr.dtype.kind != "U":
        raise TypeError(f"{layer} expects strings; received an array of dtype {arr.dtype}. "
                        "For integer ids use IntegerLookup, or StringLookup(invert=True) to map "
                        "ids back to strings.")
    return arr[0] if scalar else arr
