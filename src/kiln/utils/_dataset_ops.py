"""tf.data's chainable methods on the datasets Keras returns as `tf.data.Dataset`.

`image_dataset_from_directory`, `text_dataset_from_directory` and
`timeseries_dataset_from_array` return index-based `PyDataset`s here (kiln has no
TensorFlow); `DatasetOps` gives them the `tf.data.Dataset` methods programs chain on them —
`take`, `skip`, `map`, `batch`, `unbatch`, `shuffle`, `cache`, `prefetch`, `repeat`,
`as_numpy_iterator`, `cardinality` — each a new lazy dataset over the last, still readable by
index, so `fit` streams it. Elements come as `HostArray`s: NumPy arrays that also answer
`.numpy()`, as the tensors of a tf.data pipeline do.

Example:
    >>> import numpy as np
    >>> ds = Elements([(np.arange(4), np.ones(4)), (np.arange(4, 6), np.ones(2))])
    >>> len(ds.unbatch()), [x.numpy().tolist() for x, _ in ds.unbatch().batch(3)]
    (6, [[0, 1, 2], [3, 4, 5]])
    >>> [int(x.sum()) for x, _ in ds.map(lambda x, y: (x * 10, y)).take(1)]
    [60]
"""

from __future__ import annotations

import random as _py_random
from typing import Any, Callable, Iterator

import jax
import numpy as np

from ._py_dataset import PyDataset

INFINITE, UNKNOWN = -1, -2  # tf.data's cardinality codes


class HostArray(np.ndarray):
    """A NumPy array with tf.Tensor's `.numpy()` (what a pipeline's elements are)."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self)


def host(tree: Any) -> Any:
    """Every array leaf of `tree` as a `HostArray` (strings and other leaves unchanged)."""
    def one(a: Any) -> Any:
        if isinstance(a, (np.ndarray, jax.Array, np.generic)):
            return np.asarray(a).view(HostArray)
        return a
    return jax.tree_util.tree_map(one, tree)


def batch_sizes(count: int, batch_size: int | None) -> list[int]:
    """The size of each of the batches `count` samples make, `batch_size` at a time.

    >>> batch_sizes(5, 2)
    [2, 2, 1]
    """
    if batch_size is None:
        raise TypeError("The dataset is not batched: its elements are single samples.")
    return [min(batch_size, count - i) for i in range(0, count, batch_size)]


def _apply(fn: Callable, element: Any) -> Any:
    """`fn(*element)` for a tuple element (tf.data unpacks tuples), else `fn(element)`."""
    return fn(*element) if isinstance(element, tuple) else fn(element)


class DatasetOps:
    """The `tf.data.Dataset` methods, for an index-based dataset (`__len__`, `__getitem__`)."""

    def take(self, count: int) -> "Sliced":
        """The first `count` elements (all of them for -1)."""
        return Sliced(self, 0, None if count is None or count < 0 else int(count))

    def skip(self, count: int) -> "Sliced":
        """All but the first `count` elements."""
        return Sliced(self, max(int(count), 0), None)

    def map(self, map_func: Callable, num_parallel_calls: Any = None, deterministic: Any = None,
            name: Any = None) -> "Mapped":
        """`map_func` applied to each element (a tuple element is passed unpacked)."""
        return Mapped(self, map_func)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: Any = None,
              deterministic: Any = None, name: Any = None) -> "Batched":
        """Consecutive elements stacked `batch_size` at a time (a new leading axis)."""
        return Batched(self, int(batch_size), bool(drop_remainder))

    def unbatch(self) -> "Unbatched":
        """Each element split along its first axis into single samples."""
        return Unbatched(self)

    def shuffle(self, buffer_size: int, seed: Any = None,
                reshuffle_each_iteration: Any = None, name: Any = None) -> "Shuffled":
        """Elements drawn at random from a buffer of `buffer_size` (tf.data's algorithm),
        in a new order every epoch unless `reshuffle_each_iteration=False`."""
        return Shuffled(self, int(buffer_size), seed, reshuffle_each_iteration is not False)

    def cache(self, filename: str = "", name: Any = None) -> "Cached":
        """Elements kept in memory after their first read (`filename` is not supported)."""
        if filename:
            raise ValueError("kiln caches datasets in memory only. Received: filename="
                             f"{filename!r}. Fix: call cache() without a filename.")
        return Cached(self)

    def prefetch(self, buffer_size: Any, name: Any = None) -> "DatasetOps":
        """The dataset itself: `fit` already reads ahead and keeps the next batches on the
        device (see `workers` for reading batches in threads)."""
        return self

    def repeat(self, count: int | None = None, name: Any = None) -> "Repeated":
        """The elements `count` times over (forever for None or -1)."""
        return Repeated(self, None if count is None or count < 0 else int(count))

    def as_numpy_iterator(self) -> Iterator[Any]:
        """The elements as NumPy arrays."""
        return (jax.tree_util.tree_map(np.asarray, e) for e in self)

    def cardinality(self) -> HostArray:
        """The number of elements (-1: infinite), as tf.data gives it (`.numpy()` works)."""
        n = self.num_batches
        return np.asarray(INFINITE if n is None else n, np.int64).view(HostArray)

    def __iter__(self) -> Iterator[Any]:
        n = self.num_batches
        i = 0
        while n is None or i < n:
            yield self[i]
            i += 1

    def _sizes(self) -> list[int]:
        """The first-axis size of each element (read from the elements; sources that know
        them say so without reading)."""
        return [len(jax.tree_util.tree_leaves(self[i])[0]) for i in range(len(self))]


class Derived(DatasetOps, PyDataset):
    """A dataset computed from `source` element by element."""

    def __init__(self, source: Any):
        super().__init__()
        self.source = source
        self._workers, self._use_multiprocessing, self._max_queue_size = source._settings()

    def __len__(self) -> int:  # element for element, unless the kind says otherwise
        return len(self.source)

    @property
    def num_batches(self) -> int | None:
        return self.source.num_batches if type(self).__len__ is Derived.__len__ else len(self)

    def on_epoch_end(self) -> None:
        self.source.on_epoch_end()


class Elements(Derived):
    """A fixed list of elements, as a dataset (mostly for examples and tests)."""

    def __init__(self, elements: list[Any]):
        PyDataset.__init__(self)
        self.elements = list(elements)

    def __len__(self) -> int:
        return len(self.elements)

    def __getitem__(self, index: int) -> Any:
        return host(self.elements[index])

    def on_epoch_end(self) -> None:
        pass


class Sliced(Derived):
    def __init__(self, source: Any, start: int, stop: int | None):
        super().__init__(source)
        self.start, self.stop = start, stop

    def __len__(self) -> int:
        n = self.source.num_batches
        if n is None:
            if self.stop is None:
                raise TypeError("The dataset is infinite: it has no length.")
            return max(self.stop - self.start, 0)
        end = n if self.stop is None else min(self.stop, n)
        return max(end - self.start, 0)

    @property
    def num_batches(self) -> int | None:
        if self.source.num_batches is None and self.stop is None:
            return None
        return len(self)

    def __getitem__(self, index: int) -> Any:
        _check(index, len(self))
        return self.source[self.start + index]

    def _sizes(self) -> list[int]:
        return self.source._sizes()[self.start:self.start + len(self)]


class Mapped(Derived):
    def __init__(self, source: Any, fn: Callable):
        super().__init__(source)
        self.fn = fn

    def __getitem__(self, index: int) -> Any:
        return host(_apply(self.fn, self.source[index]))


class Cached(Derived):
    def __init__(self, source: Any):
        super().__init__(source)
        self._memo: dict[int, Any] = {}

    def __getitem__(self, index: int) -> Any:
        if index not in self._memo:
            self._memo[index] = self.source[index]
        return self._memo[index]

    def on_epoch_end(self) -> None:
        pass  # a cached pipeline replays its first epoch, as tf.data's cache() does

    def _sizes(self) -> list[int]:
        return self.source._sizes()


def _check(index: int, n: int | None) -> None:
    if index < 0 or (n is not None and index >= n):
        raise IndexError(f"element index {index} out of range for {n} elements.")


class Repeated(Derived):
    def __init__(self, source: Any, count: int | None):
        super().__init__(source)
        self.count = count

    @property
    def num_batches(self) -> int | None:
        return None if self.count is None else len(self.source) * self.count

    def __len__(self) -> int:
        if self.count is None:
            raise TypeError("The dataset repeats forever: it has no length. Fix: pass "
                            "steps_per_epoch to fit, or repeat(count).")
        return len(self.source) * self.count

    def __getitem__(self, index: int) -> Any:
        _check(index, self.num_batches)
        return self.source[index % len(self.source)]


class Shuffled(Derived):
    def __init__(self, source: Any, buffer_size: int, seed: Any, reshuffle: bool):
        super().__init__(source)
        self.buffer_size, self.reshuffle = max(buffer_size, 1), reshuffle
        self._rng = _py_random.Random(seed)
        self._order = self._draw()

    def _draw(self) -> list[int]:
        """tf.data's order: fill a buffer, emit a random slot, refill it with the next one."""
        n = len(self.source)
        buffer, out, nxt = list(range(min(self.buffer_size, n))), [], min(self.buffer_size, n)
        while buffer:
            slot = self._rng.randrange(len(buffer))
            out.append(buffer[slot])
            if nxt < n:
                buffer[slot], nxt = nxt, nxt + 1
            else:
                buffer.pop(slot)
        return out

    def __getitem__(self, index: int) -> Any:
        _check(index, len(self))
        return self.source[self._order[index]]

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        if self.reshuffle:
            self._order = self._draw()

    def _sizes(self) -> list[int]:
        sizes = self.source._sizes()
        return [sizes[i] for i in self._order]


class Unbatched(Derived):
    """Samples of the source's elements, read in order (one element is kept at a time)."""

    def __init__(self, source: Any):
        super().__init__(source)
        self._starts: np.ndarray | None = None
        self._held: tuple[int, Any] | None = None

    def _offsets(self) -> np.ndarray:
        if self._starts is None:
            self._starts = np.concatenate([[0], np.cumsum(self.source._sizes())]).astype(int)
        return self._starts

    def __len__(self) -> int:
        return int(self._offsets()[-1])

    def __getitem__(self, index: int) -> Any:
        starts = self._offsets()
        _check(index, int(starts[-1]))
        element = int(np.searchsorted(starts, index, side="right") - 1)
        if self._held is None or self._held[0] != element:
            self._held = (element, self.source[element])
        row = index - starts[element]
        return jax.tree_util.tree_map(lambda a: a[row], self._held[1])

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        self._starts, self._held = None, None  # a reshuffled source has new sizes


class Batched(Derived):
    def __init__(self, source: Any, batch_size: int, drop_remainder: bool):
        super().__init__(source)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}.")
        self.batch_size, self.drop_remainder = batch_size, drop_remainder

    def __len__(self) -> int:
        n = len(self.source)
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)

    def __getitem__(self, index: int) -> Any:
        _check(index, len(self))
        start = index * self.batch_size
        rows = [self.source[i] for i in range(start, min(start + self.batch_size,
                                                         len(self.source)))]
        return host(jax.tree_util.tree_map(lambda *xs: np.stack(xs), *rows))

    def _sizes(self) -> list[int]:
        n, b = len(self.source), self.batch_size
        return [min(b, n - i * b) for i in range(len(self))]
