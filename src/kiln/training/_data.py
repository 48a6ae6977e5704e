"""From what the user passes to fit/evaluate/predict to batches for the compiled step.

Arrays are checked eagerly, converted once (float64 -> float32, int64 -> int32), and put on the
device once per call when the copy fits under `DEVICE_DATA_LIMIT_BYTES` (on the CPU, large
arrays are shared with XLA instead of copied, whatever their size): each compiled call then
receives only the `[k, batch]` indices of its steps. Other arrays are read batch by batch on
the host, on a prefetch thread (generators and iterables: `_stream`).
"""

from __future__ import annotations

import math
import mmap
import os
from typing import Any, Iterator

import jax
import numpy as np

from ..distribution import _placement

# Data sets whose device copy takes up to this many bytes stay on the device for the whole fit.
# Configurable with the KILN_DEVICE_DATA_LIMIT environment variable (bytes) or by setting this
# attribute. Arrays shared on the CPU (SharedRows) cost no copy and do not count.
DEVICE_DATA_LIMIT_BYTES = int(os.environ.get("KILN_DEVICE_DATA_LIMIT", 2 * 1024**3))


def _convert(a: Any, argument: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind in "USO":
        raise TypeError(
            f"`{argument}` has dtype {arr.dtype}; kiln trains on numbers. Encode string or "
            "object labels as integers (e.g. with sklearn's LabelEncoder) or one-hot vectors."
        )
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype == np.int64:
        return arr.astype(np.int32)
    if arr.dtype == np.uint64:
        return arr.astype(np.uint32)
    if arr.dtype == bool:
        return arr.astype(np.float32)
    return arr


def to_arrays(tree: Any, argument: str) -> Any:
    """Converts a structure (array, list of arrays, dict of arrays) to NumPy arrays."""
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {k: to_arrays(v, f"{argument}[{k!r}]") for k, v in tree.items()}
    if isinstance(tree, (list, tuple)) and tree and all(_is_array_or_dict(e) for e in tree):
        # A list of arrays is several inputs (or outputs), as in Keras; nested Python lists
        # of numbers are one array.
        return [to_arrays(e, f"{argument}[{i}]") for i, e in enumerate(tree)]
    return _convert(tree, argument)


def _is_array_or_dict(e: Any) -> bool:
    return isinstance(e, (np.ndarray, jax.Array, dict)) or (
        hasattr(e, "__array__") and not isinstance(e, (list, tuple)))


def num_samples(tree: Any) -> int | None:
    leaves = jax.tree_util.tree_leaves(tree)
    return int(np.shape(leaves[0])[0]) if leaves and np.ndim(leaves[0]) else None


def check_lengths(x: Any, y: Any, sw: Any) -> int:
    """The number of samples; every array of x, y and sample_weight must agree on it."""
    sizes = {}
    for name, tree in (("x", x), ("y", y), ("sample_weight", sw)):
        for leaf in jax.tree_util.tree_leaves(tree):
            if np.ndim(leaf) == 0:
                raise ValueError(f"`{name}` must have a batch dimension; received a scalar.")
            sizes.setdefault(name, set()).add(int(np.shape(leaf)[0]))
    for name, s in sizes.items():
        if len(s) > 1:
            raise ValueError(f"The arrays in `{name}` have different numbers of samples: "
                             f"{sorted(s)}. Every input must have one row per sample.")
    flat = {name: next(iter(s)) for name, s in sizes.items()}
    if len(set(flat.values())) > 1:
        described = ", ".join(f"{k} has {v}" for k, v in flat.items())
        raise ValueError(f"x, y and sample_weight must have the same number of samples; "
                         f"{described}. Check that the labels belong to these inputs.")
    n = next(iter(flat.values()), 0)
    if n == 0:
        raise ValueError("No data: x has 0 samples. Pass at least one sample.")
    return n


def take(tree: Any, idx: Any) -> Any:
    return jax.tree_util.tree_map(lambda a: a[idx], tree)


def split_validation(x: Any, y: Any, sw: Any, fraction: float) -> tuple:
    """Keras's rule: the LAST `fraction` of the samples, before any shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); received {fraction}.")
    n = num_samples(x)
    cut = int(math.floor(n * (1.0 - fraction)))
    if cut == 0 or cut == n:
        raise ValueError(
            f"validation_split={fraction} on {n} samples leaves {cut} for training and "
            f"{n - cut} for validation; both need at least one. Use a larger data set or "
            "another fraction."
        )
    # Slices are views: the two parts share the caller's memory (and, on the CPU, XLA's).
    head, tail = slice(0, cut), slice(cut, n)
    return (take(x, head), take(y, head), take(sw, head)), (take(x, tail), take(y, tail),
                                                             take(sw, tail))


def class_weights_to_sample_weights(y: Any, class_weight: dict, sw: Any) -> np.ndarray:
    """Per-sample weights from `{class: weight}` (argmax for one-hot y, as Keras does)."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}; received "
                        f"{type(class_weight).__name__}.")
    leaves = jax.tree_util.tree_leaves(y)
    if len(leaves) != 1:
        raise ValueError("class_weight is only supported for models with a single output; use "
                         "sample_weight for several outputs.")
    labels = np.asarray(leaves[0])
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0].astype(np.int64)
    for k in class_weight:
        if not isinstance(k, (int, np.integer)):
            raise ValueError(f"class_weight keys must be integer class indices; received {k!r}.")
    weights = np.array([float(class_weight.get(int(c), 1.0)) for c in labels], np.float32)
    return weights if sw is None else weights * np.asarray(sw, np.float32)


# XLA's CPU client shares a NumPy buffer instead of copying it only when the buffer starts on
# a 64-byte boundary; NumPy's large arrays usually start 16 bytes past one.
_XLA_CPU_ALIGNMENT = 64
# Below this size a copy is cheaper than a program specialised to a window's offset.
_SHARE_MIN_BYTES = 1 << 20
# Host batches from this size up get a memory mapping of their own (see _fresh).
_MAPPED_MIN_BYTES = 1 << 20


@jax.tree_util.register_pytree_node_class
class SharedRows:
    """A NumPy array's memory, seen by XLA on the CPU without a copy.

    `flat` is a one-dimensional device array over the array's bytes, starting up to 63 bytes
    earlier, at the 64-byte boundary XLA needs (those bytes lie on the same memory page and
    are never read as data). `offset` is where the array's first element sits in `flat` and
    `shape` its shape. Indexing with row indices gathers whole rows: `view[idx]` equals
    `array[idx]` for a one-dimensional integer `idx`.
    """

    def __init__(self, flat: Any, offset: int, shape: tuple):
        self.flat, self.offset, self.shape = flat, offset, tuple(shape)

    def tree_flatten(self) -> tuple:
        return (self.flat,), (self.offset, self.shape)

    @classmethod
    def tree_unflatten(cls, aux: tuple, children: tuple) -> "SharedRows":
        return cls(children[0], *aux)

    def __getitem__(self, idx: Any) -> Any:
        row = math.prod(self.shape[1:])
        starts = self.offset + jax.numpy.asarray(idx, jax.numpy.int32) * row
        rows = jax.vmap(lambda s: jax.lax.dynamic_slice(self.flat, (s,), (row,)))(starts)
        return rows.reshape(tuple(np.shape(idx)) + self.shape[1:])


class _Window:
    """Exposes `count` elements from address `addr` as an array; keeps `owner` alive."""

    def __init__(self, owner: np.ndarray, addr: int, count: int):
        self.owner = owner
        self.__array_interface__ = {"data": (addr, True), "shape": (count,),
                                    "typestr": owner.dtype.str, "version": 3}


def _share(a: np.ndarray) -> Any:
    """`a` on the CPU device without copying it, or None where XLA would need a copy."""
    if (not isinstance(a, np.ndarray) or not a.flags.c_contiguous or a.ndim == 0
            or a.nbytes < _SHARE_MIN_BYTES or a.size >= 2**31 - _XLA_CPU_ALIGNMENT
            or jax.dtypes.canonicalize_dtype(a.dtype) != a.dtype):  # e.g. float64 -> float32
        return None
    addr = a.ctypes.data
    pad = addr % _XLA_CPU_ALIGNMENT
    if pad % a.itemsize:
        return None
    window = np.asarray(_Window(a, addr - pad, pad // a.itemsize + a.size))
    flat = jax.device_put(window, may_alias=True)
    if flat.unsafe_buffer_pointer() != addr - pad:  # XLA copied after all: plain array
        return None
    return SharedRows(flat, pad // a.itemsize, a.shape)


def to_device(data: Any, limit: float = math.inf) -> Any:
    """Puts a structure of arrays on the default device once, or returns None when that would
    copy more than `limit` bytes. On the CPU, large NumPy arrays are shared rather than copied
    (see SharedRows): they cost no memory and do not count against `limit`."""
    leaves, tree = jax.tree_util.tree_flatten(data)
    if _placement.is_multi_process():  # host batches, each process feeding its own rows
        return None
    if _placement.distribution() is not None:  # one full copy per device of the mesh
        copied = sum(np.asarray(a).nbytes for a in leaves)
        return None if copied > limit else _placement.replicate(data)
    if jax.default_backend() == "cpu":
        placed = [_share(a) for a in leaves]
    else:
        placed = [None] * len(leaves)
    copied = sum(np.asarray(a).nbytes for a, p in zip(leaves, placed) if p is None)
    if copied > limit:
        return None
    placed = [jax.device_put(a) if p is None else p for a, p in zip(leaves, placed)]
    return jax.tree_util.tree_unflatten(tree, placed)


class ArrayPlan:
    """Batches of in-memory arrays: device-resident data plus per-call index blocks.

    The order of epoch `e` is derived from `(seed, e)` alone, so any epoch can be replayed,
    from any step (`epoch(k, e, start)`), without running the epochs before it.

    Example:
        >>> import numpy as np
        >>> plan = ArrayPlan((np.zeros((10, 2), np.float32), None, None), 4, True, None, seed=3)
        >>> [kk for kk, _, _ in plan.epoch(2)], [kk for kk, _, _ in plan.epoch(2, 0, start=1)]
        ([2, 1], [1, 1])
    """

    def __init__(self, data: Any, batch_size: int, shuffle: Any, steps: int | None, seed: int):
        self.n = num_samples(data)
        _placement.check_batch_size(batch_size, self.n)  # kiln.distribution: splits evenly
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.host = data
        self.data = to_device(data, limit=DEVICE_DATA_LIMIT_BYTES)
        self.on_device = self.data is not None
        self.per_pass = math.ceil(self.n / batch_size)
        self.steps = self.per_pass if steps is None else int(steps)
        # The fit's initial_epoch: a `steps` below one pass counts its passes from it (fit sets
        # it), so an epoch's order stays a function of (seed, epoch) and resumes replay it.
        self.first_epoch = 0

    def _order(self, epoch: int, rep: int) -> np.ndarray:
        """The sample order of pass `rep` over the data within epoch `epoch`."""
        if not self.shuffle:
            return np.arange(self.n)
        rng = np.random.default_rng((self.seed, epoch, rep))
        if self.shuffle == "batch":
            blocks = np.arange(self.n)
            starts = rng.permutation(math.ceil(self.n / self.batch_size))
            return np.concatenate([blocks[s * self.batch_size:(s + 1) * self.batch_size]
                                   for s in starts])
        return rng.permutation(self.n)

    def _runs(self, epoch: int) -> Iterator[np.ndarray]:
        """Epoch `epoch`'s batches as runs `[m, batch]` of consecutive full batches of one pass,
        or `[1, rest]` for a pass's last partial batch; `self.steps` batches in all."""
        if self.steps < self.per_pass:
            yield from self._part_of_pass(epoch)
            return
        done, B, rep = 0, self.batch_size, 0
        while done < self.steps:
            order = self._order(epoch, rep).astype(np.int32)
            full = min(self.n // B, self.steps - done)
            if full:
                yield order[:full * B].reshape(full, B)
                done += full
            if done < self.steps and self.n % B:
                yield order[self.n - self.n % B:].reshape(1, -1)
                done += 1
            rep += 1

    def _part_of_pass(self, epoch: int) -> Iterator[np.ndarray]:
        """As Keras's epoch iterator, a `steps` below one pass continues that pass in the next
        epoch (epoch 2 takes the batches after epoch 1's); a new (reshuffled) pass starts once
        the data runs out, the epoch that reaches the end stopping there."""
        B, full = self.batch_size, self.n // self.batch_size
        rep, part = divmod(epoch - self.first_epoch, math.ceil(self.per_pass / self.steps))
        first, last = part * self.steps, min((part + 1) * self.steps, self.per_pass)
        order = self._order(self.first_epoch, rep).astype(np.int32)
        if first < min(last, full):
            yield order[first * B:min(last, full) * B].reshape(-1, B)
        if last > full:  # the pass's last, partial batch
            yield order[full * B:].reshape(1, -1)

    def _steps_from(self, epoch: int, start: int) -> Iterator[np.ndarray]:
        """The runs of epoch `epoch` without their first `start` batches."""
        for run in self._runs(epoch):
            if start >= len(run):
                start -= len(run)
                continue
            yield run[start:]
            start = 0

    def epoch(self, k: int, epoch: int = 0, start: int = 0) -> Iterator[tuple[int, Any, Any]]:
        """Yields `(steps in this call, data, idx)` for epoch `epoch`, from its step `start`.

        Full batches come `k` at a time as `idx` of shape `[k, batch]` (a shorter call is
        padded with repeated rows that the step skips, so every call has one shape); the last
        partial batch comes alone as `[1, rest]`. Started at step `start`, the batches are the
        tail of the uninterrupted epoch's, in the same order.
        """
        for run in self._steps_from(epoch, start):
            for at in range(0, len(run), k):
                idx = run[at:at + k]
                kk = len(idx)
                if kk < k and idx.shape[1] == self.batch_size:
                    idx = np.concatenate([idx, np.repeat(idx[:1], k - kk, axis=0)])
                yield self._call(kk, idx)

    def _call(self, kk: int, idx: np.ndarray) -> tuple[int, Any, Any]:
        if self.on_device:
            return kk, self.data, idx
        if _placement.is_multi_process():  # kiln.distribution: this process's rows only
            return kk, _placement.feed(self.host, idx), None
        return kk, _staged(lambda a, i=idx: np.take(a, i, axis=0, out=_fresh(
            i.shape + a.shape[1:], a.dtype)), self.host), None


def _staged(build: Any, *trees: Any) -> Any:
    """`build` applied leaf-wise to `trees` on the host, then handed to the device."""
    return jax.device_put(jax.tree_util.tree_map(build, *trees), may_alias=True)


def _fresh(shape: tuple, dtype: Any) -> np.ndarray:
    """An empty host array for one call's batches. A large one gets its own memory mapping:
    it goes back to the system when freed (glibc keeps freed blocks of ~10 MB in its heaps,
    and a streamed fit then grew by most of an epoch's data each epoch), and it is page
    aligned, so XLA's CPU client takes it without a copy."""
    count = math.prod(shape)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes < _MAPPED_MIN_BYTES:
        return np.empty(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype, count=count).reshape(shape)
