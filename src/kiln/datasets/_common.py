"""Shared by the dataset loaders: Keras's origins, safe unpickling of Keras's files, splits.

Example:
    >>> import numpy as np
    >>> remove_long_seq(3, [[1], [1, 2, 3]], [0, 1])
    ([[1]], [0])
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from typing import Any

import numpy as np

from ..utils._file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

_ALLOWED = frozenset({("numpy", "ndarray"), ("numpy", "dtype"),
                      ("numpy.core.multiarray", "_reconstruct"),
                      ("numpy._core.multiarray", "_reconstruct"),
                      ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and plain Python values only (never any other global)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Refusing to load {module}.{name} from a dataset file: "
                                     "only NumPy arrays are expected. The file may be corrupted "
                                     "or malicious; delete it and download it again.")


def _read_npy(buffer: io.BytesIO) -> np.ndarray:
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        header = (np.lib.format.read_array_header_1_0 if major == 1
                  else np.lib.format.read_array_header_2_0)
        header(buffer)
        return RestrictedUnpickler(buffer).load()


def load_npz(path: str) -> dict[str, np.ndarray]:
    """An `.npz` file's arrays; object arrays (ragged sequences) are unpickled safely."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[:-4]] = _read_npy(io.BytesIO(raw.read()))
    return arrays


def fetch(fname: str, origin: str, file_hash: str | None = None, **kwargs: Any) -> str:
    """The cached file's path, downloaded with `get_file` when it is not there."""
    return get_file(fname=fname, origin=origin, file_hash=file_hash, **kwargs)


def remove_long_seq(maxlen: int, seq: list, label: Any) -> tuple[list, list]:
    """Keeps the sequences shorter than `maxlen` (and their labels)."""
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1); received test_split={test_split}.")


def shuffled_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple:
    """Keras's split: shuffle with RandomState(seed), the first 1 - test_split for training."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def index_words(xs: list, start_char: Any, index_from: int) -> list:
    """Prepends `start_char` and shifts every word index by `index_from` (Keras's rule)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def limit_words(xs: list, num_words: Any, skip_top: int, oov_char: Any) -> list:
    """Words outside [skip_top, num_words) become `oov_char` (or are dropped when it is None)."""
    if not num_words:
        num_words = max(max(x) for x in xs if len(x)) if xs else 0
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(xs: list) -> np.ndarray:
    """A 1-D object array of lists (as Keras returns the word-index sequences)."""
    out = np.empty(len(xs), dtype=object)
    out[:] = xs
    return out


def unpickle_batch(fpath: str, label_key: str = "labels") -> tuple[np.ndarray, list]:
    """A CIFAR batch file: (data as (n, 3, 32, 32) uint8, labels)."""
    with open(fpath, "rb") as f:
        d = RestrictedUnpickler(f, encoding="bytes").load()
    d = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    data = np.asarray(d["data"])
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def join(*parts: str) -> str:
    return os.path.join(*parts)
