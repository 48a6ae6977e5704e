"""Keras's dataset helpers: `pack_x_y_sample_weight`, `unpack_x_y_sample_weight`,
`split_dataset` and `timeseries_dataset_from_array`, on NumPy data.

Keras returns `tf.data` datasets; kiln returns NumPy data (`split_dataset`) or an
index-based `PyDataset` of NumPy batches (`timeseries_dataset_from_array`) that `fit` reads
batch by batch.

Example:
    >>> unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ._dataset_ops import DatasetOps, batch_sizes, host
from ._py_dataset import PyDataset


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Packs `x`, `y`, `sample_weight` as Keras's loops expect: `(x,)`, `(x, y)` or all three.

    Example:
        >>> pack_x_y_sample_weight([1, 2]), pack_x_y_sample_weight(1, 2)
        (([1, 2],), (1, 2))
    """
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """`(x, y, sample_weight)` from a batch `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    A list is read as a tuple, as in Keras.

    Example:
        >>> unpack_x_y_sample_weight([1, 2, 3]), unpack_x_y_sample_weight("x")
        ((1, 2, 3), ('x', None, None))
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) in (1, 2, 3):
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError("A batch must be x, (x,), (x, y) or (x, y, sample_weight); received a "
                     f"tuple of {len(data)} elements. Pack several inputs as a list or dict "
                     "inside the first element.")


# -- split_dataset --------------------------------------------------------------------------------

def _split_size(value: Any, name: str, total: int) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float):
        raise TypeError(f"{name} must be an int, a float or None; received "
                        f"{type(value).__name__}.")
    if type(value) is int and not 0 < value < total or type(value) is float and not 0 < value < 1:
        raise ValueError(f"{name} must be a positive int smaller than {total} or a float in "
                         f"(0, 1); received {name}={value}.")
    return float(round(value * total)) if type(value) is float else float(value)


def split_sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """Keras's rule: (left, right) sample counts; floats are fractions of `total`.

    Example:
        >>> split_sizes(0.8, None, 10), split_sizes(None, 3, 10)
        ((8, 2), (7, 3))
    """
    if left_size is None and right_size is None:
        raise ValueError("split_dataset needs left_size or right_size; received both None.")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(f"left_size + right_size must be at most 1; received {left_size} + "
                         f"{right_size}.")
    left, right = _split_size(left_size, "left_size", total), _split_size(
        right_size, "right_size", total)
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"left_size + right_size = {left + right} is more than the dataset's "
                         f"{total} samples.")
    if left == 0 or right == 0:
        raise ValueError(f"With {total} samples, left_size={left_size} and right_size="
                         f"{right_size} leave one side empty; adjust the sizes.")
    return int(left), int(right)


def _take(data: Any, index: np.ndarray) -> Any:
    if isinstance(data, dict):
        return {k: _take(v, index) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_take(v, index) for v in data)
    return np.asarray(data)[index]


def _length(data: Any) -> int:
    if isinstance(data, dict):
        data = next(iter(data.values()))
    elif isinstance(data, (list, tuple)):
        data = data[0]
    return len(data)


def split_dataset(dataset: Any, left_size: Any = None, right_size: Any = None,
                  shuffle: bool = False, seed: int | None = None,
                  preferred_backend: str | None = None) -> tuple[Any, Any]:
    """Splits an array (or a tuple, list or dict of arrays) into a left and a right part.

    Sizes are sample counts (int) or fractions (float); the missing one is the rest. The left
    part is the first `left_size` samples, the right part the last `right_size` (after the
    shuffle with Python's `random.seed(seed)`, as Keras). Each part keeps the input's structure.

    Example:
        >>> import numpy as np
        >>> left, right = split_dataset(np.arange(10), left_size=0.8)
        >>> left.tolist(), right.tolist()
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    del preferred_backend  # always NumPy here
    if not isinstance(dataset, (np.ndarray, list, tuple, dict)) and not hasattr(
            dataset, "__array__"):
        raise TypeError("split_dataset expects an array or a tuple/list/dict of arrays; "
                        f"received {type(dataset).__name__}.")
    total = _length(dataset)
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    left, right = split_sizes(left_size, right_size, total)
    order = np.asarray(order, dtype=np.int64)
    return _take(dataset, order[:left]), _take(dataset, order[total - right:])


# -- timeseries -----------------------------------------------------------------------------------

class TimeseriesDataset(DatasetOps, PyDataset):
    """Windows over an array, in batches: what `timeseries_dataset_from_array` returns.

    Example:
        >>> import numpy as np
        >>> ds = TimeseriesDataset(np.arange(6), None, np.array([0, 2]), 3, 1, 2)
        >>> len(ds), ds[0].tolist()
        (1, [[0, 1, 2], [2, 3, 4]])
    """

    def __init__(self, data: Any, targets: Any, starts: np.ndarray, sequence_length: int,
                 sampling_rate: int, batch_size: int | None):
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self) -> int:
        size = self.batch_size or 1
        return -(-len(self.starts) // size)

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches.")
        size = self.batch_size or 1
        starts = self.starts[index * size:(index + 1) * size]
        x = self.data[starts[:, None] + self.offsets[None, :]]
        y = None if self.targets is None else self.targets[starts]
        if self.batch_size is None:
            x, y = x[0], (None if y is None else y[0])
        return host(x if y is None else (x, y))

    def _sizes(self) -> list[int]:
        return batch_sizes(len(self.starts), self.batch_size)


def _check_window_args(n: int, start_index: Any, end_index: Any, sampling_rate: int,
                       sequence_stride: int) -> None:
    if start_index and not 0 <= start_index < n:
        raise ValueError(f"start_index must be in [0, {n}) for data of length {n}; received "
                         f"start_index={start_index}.")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"end_index must be greater than start_index; received "
                             f"start_index={start_index}, end_index={end_index}.")
        if not 0 < end_index < n:
            raise ValueError(f"end_index must be in (0, {n}) for data of length {n}; received "
                             f"end_index={end_index}.")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if not 0 < value < n:
            raise ValueError(f"{name} must be in (0, {n}) for data of length {n}; received "
                             f"{name}={value}.")


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None, format: str = "tf") -> Any:
    """Sliding windows over `data` (and `targets[start]` per window), in NumPy batches.

    Window `i` is `data[s, s + r, ..., s + (sequence_length - 1) * r]` for start `s =
    start_index + i * sequence_stride` (r: `sampling_rate`); with targets each batch is
    `(windows, targets)`. `shuffle` shuffles the window order with `RandomState(seed)`.
    `format` is accepted for Keras compatibility: kiln always returns a `PyDataset`.

    Example:
        >>> import numpy as np
        >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), 3, batch_size=4)
        >>> x, y = ds[0]
        >>> x[1].tolist(), y.tolist(), len(ds)
        ([1, 2, 3], [0, 1, 2, 3], 2)
    """
    if format not in ("tf", "grain"):
        raise ValueError(f'format must be "tf" or "grain"; received format={format!r}.')
    _check_window_args(len(data), start_index, end_index, sampling_rate, sequence_stride)
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        np.random.RandomState(np.random.randint(1e6) if seed is None else seed).shuffle(starts)
    window_data = np.asarray(data)[start:end]
    window_targets = None if targets is None else np.asarray(targets)[start:end]
    return TimeseriesDataset(window_data, window_targets, starts, sequence_length,
                             sampling_rate, batch_size)


def is_keras_tensor(x: Any) -> bool:
    """Whether `x` is a symbolic `KerasTensor` (as made by `kiln.Input`), not a value.

    Recognised by its class (kiln's `layers` package is above `utils`, so it is not imported).

    Example:
        >>> import numpy as np
        >>> is_keras_tensor(np.zeros(2))
        False
    """
    return any(cls.__name__ == "KerasTensor" and cls.__module__.startswith("kiln.")
               for cls in type(x).__mro__)


def get_source_inputs(tensor: Any) -> list[Any]:
    """The `Input` tensors a symbolic tensor was computed from, in first-reached order.

    Example:
        >>> import kiln
        >>> a, b = kiln.Input((3,)), kiln.Input((2,))
        >>> y = kiln.layers.Concatenate()([a, b])
        >>> [t is s for t, s in zip(get_source_inputs(y), (a, b))]
        [True, True]
    """
    if not is_keras_tensor(tensor):
        raise ValueError("get_source_inputs expects a symbolic tensor (from `kiln.Input` and "
                         f"layers called on it). Received: {type(tensor).__name__}.")
    found: list[Any] = []
    stack, seen = [tensor], set()
    while stack:
        t = stack.pop(0)
        if id(t) in seen:
            continue
        seen.add(id(t))
        parents = t.node.parents if t.node is not None else []
        if not parents:
            found.append(t)
        stack = list(parents) + stack
    return found
