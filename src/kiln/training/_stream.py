"""Batches from a Python generator or iterable, stacked `k` per compiled call on the host.

Example:
    >>> import numpy as np
    >>> is_iterable_source(iter([])), is_iterable_source(np.zeros(3)), is_iterable_source([1])
    (True, False, False)

An index-based dataset (a `kiln.utils.PyDataset`, or any object with `__len__` and
`__getitem__` yielding batches) is read through `SequenceSource`: `len(dataset)` batches per
epoch, `on_epoch_end()` after each, read ahead by its `workers` threads.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import jax
import numpy as np

from ..utils._py_dataset import PyDataset, iterate_batches
from ._data import _fresh, _staged, to_arrays


def is_iterable_source(x: Any) -> bool:
    """Generators, iterators and batch sequences (not arrays, lists of arrays or dicts)."""
    if isinstance(x, (np.ndarray, jax.Array, list, tuple, dict)) or hasattr(x, "__array__"):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__") or is_sequence_source(x)


def is_sequence_source(x: Any) -> bool:
    """A PyDataset, or any non-array object with `__len__` and `__getitem__` (batch by index)."""
    if isinstance(x, PyDataset):
        return True
    if isinstance(x, (np.ndarray, jax.Array, list, tuple, dict, str, bytes)) or hasattr(
            x, "__array__"):
        return False
    return hasattr(x, "__len__") and hasattr(x, "__getitem__") and not hasattr(x, "keys")


class SequenceSource:
    """An index-based dataset as a re-iterable stream: each pass yields `len(dataset)`
    batches (fewer when `steps` is given) and then calls `on_epoch_end()` (also when the
    pass is closed early, after `steps` batches).

    Example:
        >>> import numpy as np
        >>> source = SequenceSource([(np.ones((2, 1)), np.ones(2))] * 3)
        >>> len(source), sum(1 for _ in source)
        (3, 3)
    """

    def __init__(self, dataset: Any):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[Any]:
        begin = getattr(self.dataset, "on_epoch_begin", None)
        if callable(begin):
            begin()
        try:
            yield from iterate_batches(self.dataset)
        finally:
            end = getattr(self.dataset, "on_epoch_end", None)
            if callable(end):
                end()


class IterablePlan:
    """Batches read from a Python generator or iterable of `(x, y)` / `(x, y, sw)` tuples.

    `first()` reads the first batch ahead (to build the model and check the labels); it is
    not lost: it opens the next epoch. `wrap`, when given, is applied to every epoch's stream
    of unpacked batches (the debug checks of every generator batch).

    Example:
        >>> import numpy as np
        >>> batches = [(np.ones((2, 1)), np.ones((2,)))] * 3
        >>> plan = IterablePlan(batches, steps=None)
        >>> plan.first()[0].shape, [kk for kk, _, _ in plan.epoch(2)]
        ((2, 1), [2, 1])
    """

    def __init__(self, source: Any, steps: int | None, with_targets: bool = True,
                 wrap: Any = None):
        self.source = source
        self.steps = steps
        self.with_targets = with_targets
        self.wrap = wrap
        self._iterator = source if iter(source) is source else None
        self.exhausted = False
        self._stream: Iterator[Any] | None = None
        self._first: Any = None

    def batches(self) -> Iterator[Any]:
        it = self._iterator if self._iterator is not None else iter(self.source)
        count = 0
        try:
            while self.steps is None or count < self.steps:
                try:
                    item = next(it)
                except StopIteration:
                    self.exhausted = True
                    return
                count += 1
                yield unpack(item, self.with_targets)
        finally:
            if self._iterator is None and hasattr(it, "close"):
                it.close()  # a pass of a re-iterable source ends here (SequenceSource: epoch end)

    def _open(self) -> Iterator[Any]:
        stream = self.batches()
        return stream if self.wrap is None else self.wrap(stream)

    def first(self) -> Any:
        """The first batch, read ahead; it stays the first batch of the next epoch."""
        if self._first is None:
            self._stream = self._open()
            try:
                self._first = next(self._stream)
            except StopIteration:
                raise ValueError("The generator or iterable passed as x yielded no batch.") from None
        return self._first

    def _epoch_batches(self) -> Iterator[Any]:
        if self._first is not None:  # the read-ahead batch opens this epoch
            head, stream, self._first, self._stream = self._first, self._stream, None, None
            return itertools.chain([head], stream)
        return self._open()

    def epoch(self, k: int, epoch: int = 0, start: int = 0) -> Iterator[tuple[int, Any, Any]]:
        """Yields `(steps, stacked batches, None)`, up to `k` equal-shaped batches per call;
        from step `start`, the first `start` batches are read and dropped. (A generator's
        order is its own: `epoch` is accepted for the same signature as ArrayPlan's.)"""
        del epoch
        group: list = []
        for batch in itertools.islice(self._epoch_batches(), start, None):
            if group and _shapes(group[0]) != _shapes(batch):
                yield len(group), _stack(group, k), None
                group = []
            group.append(batch)
            if len(group) == k:
                yield len(group), _stack(group, k), None
                group = []
        if group:
            yield len(group), _stack(group, k), None


def unpack(item: Any, with_targets: bool = True) -> Any:
    """Keras's rule: a tuple (or list) of 1, 2 or 3 is (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(item, list) and len(item) in (1, 2, 3):
        item = tuple(item)
    if not with_targets:
        x = item[0] if isinstance(item, tuple) and len(item) in (1, 2, 3) else item
        return to_arrays(x, "x")
    if isinstance(item, tuple) and len(item) in (1, 2, 3):
        x, y, sw = (tuple(item) + (None, None))[:3]
    else:
        x, y, sw = item, None, None
    return (to_arrays(x, "x"), to_arrays(y, "y"), to_arrays(sw, "sample_weight"))


def _shapes(batch: Any) -> Any:
    return jax.tree_util.tree_map(np.shape, batch)


def _stack(group: list, k: int) -> Any:
    """Stacks batches as `[k, ...]`, padding a short group with its last batch (skipped)."""
    group = group + [group[-1]] * (k - len(group))

    def stack(*parts: np.ndarray) -> np.ndarray:
        parts = [np.asarray(p) for p in parts]
        return np.stack(parts, out=_fresh((len(parts),) + parts[0].shape,
                                          np.result_type(*parts)))
    return _staged(stack, *group)
