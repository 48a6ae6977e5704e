"""`PyDataset` (alias `Sequence`), as `keras.utils.PyDataset`: batches by index.

A subclass defines `__len__` (the number of batches) and `__getitem__(i)` (batch `i`, as
`x`, `(x, y)` or `(x, y, sample_weight)`), and may define `on_epoch_end`. `fit`, `evaluate`
and `predict` read it `len(dataset)` batches per epoch, calling `on_epoch_end` after each
epoch; with `workers > 1` the next batches are read ahead by a pool of threads.

Example:
    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         return np.full((2, 1), i * i), np.zeros(2)
    >>> [int(x[0, 0]) for x, _ in iterate_batches(Squares(workers=2))]
    [0, 1, 4]
"""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
from typing import Any, Iterator


class PyDataset:
    """Base class of index-based batch datasets (Keras's `PyDataset`).

    Args:
        workers: how many threads read batches ahead (1: read in the training thread).
        use_multiprocessing: accepted for Keras compatibility; batches are always read by
            threads (processes would need picklable datasets), so it only sets the attribute.
        max_queue_size: how many batches may be read ahead when `workers > 1`.

    Example:
        >>> import numpy as np
        >>> class Ones(PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, i):
        ...         return np.ones((4, 3)), np.ones(4)
        >>> ds = Ones()
        >>> ds.num_batches, ds.workers, ds.max_queue_size
        (2, 1, 10)
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _settings(self) -> tuple[int, bool, int]:
        """(workers, use_multiprocessing, max_queue_size), also when __init__ was not called."""
        return (getattr(self, "_workers", 1), getattr(self, "_use_multiprocessing", False),
                getattr(self, "_max_queue_size", 10))

    @property
    def workers(self) -> int:
        return self._settings()[0]

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        return self._settings()[1]

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        return self._settings()[2]

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """Batch `index`: `x`, `(x, y)` or `(x, y, sample_weight)`."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  "returning batch `index`.")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (`len(self)`), or None when `__len__` is not defined."""
        if type(self).__len__ is not PyDataset.__len__:
            return len(self)
        return None

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of "
                                  "batches per epoch).")

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch (does nothing unless overridden)."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (e.g. to reshuffle; does nothing unless overridden)."""


Sequence = PyDataset


def iterate_batches(dataset: Any, count: int | None = None) -> Iterator[Any]:
    """Batches `0 .. count-1` (default `len(dataset)`) of an index-based dataset, in order;
    read ahead by `dataset.workers` threads (up to `max_queue_size` batches) when it has
    more than one worker.

    Example:
        >>> list(iterate_batches(["a", "b", "c"], 2))
        ['a', 'b']
    """
    if count is None:  # a PyDataset whose num_batches is None is infinite, as in Keras
        count = dataset.num_batches if isinstance(dataset, PyDataset) else len(dataset)
    indices = itertools.count() if count is None else range(count)
    workers = int(getattr(dataset, "workers", 1) or 1)
    if workers <= 1:
        for i in indices:
            yield dataset[i]
        return
    depth = max(1, int(getattr(dataset, "max_queue_size", 10) or 1))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="kiln-pydataset") \
            as pool:
        pending: collections.deque = collections.deque()
        try:
            for i in indices:
                pending.append(pool.submit(dataset.__getitem__, i))
                if len(pending) >= depth:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
