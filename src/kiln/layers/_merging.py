"""Merge layers, called on a list of inputs: Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate, Dot; and the lowercase helpers (`add([a, b])`, ...) Keras exports.
"""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
from jax import lax

from .. import _config
from ._layer import Layer


def _check_list(layer: Layer, input_shape: Any, exactly: int | None = None) -> list[tuple]:
    """The list of input shapes, with a teaching error when the layer got a single input."""
    name = type(layer).__name__
    if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
            isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"A {name} layer must be called on a list of inputs, e.g. "
                         f"{name}()([a, b]); received input shape {input_shape}.")
    if exactly is not None and len(input_shape) != exactly:
        raise ValueError(f"A {name} layer must be called on exactly {exactly} inputs; received "
                         f"{len(input_shape)} (shapes {list(input_shape)}).")
    batches = {s[0] for s in input_shape if s} - {None}
    if len(batches) > 1:
        raise ValueError(f"{name} cannot merge inputs with different batch sizes; received "
                         f"shapes {list(input_shape)}.")
    return [tuple(s) for s in input_shape]


def _broadcast_shape(layer: Layer, shapes: list[tuple]) -> None:
    """Checks that the per-sample shapes broadcast together (Keras's elementwise rule)."""
    out: list = []
    for shape in shapes:
        shape = list(shape[1:])
        if len(shape) > len(out):
            out, shape = shape, out
        offset = len(out) - len(shape)
        for i, d in enumerate(shape):
            o = out[offset + i]
            if o is not None and d is not None and 1 not in (o, d) and o != d:
                raise ValueError(f"{type(layer).__name__} needs inputs whose shapes match (or "
                                 f"broadcast); received shapes {shapes}.")
            out[offset + i] = None if None in (o, d) else max(o, d)


def _align_ranks(inputs: Sequence[jax.Array]) -> list[jax.Array]:
    """Inputs of lower rank get length-1 axes inserted after the batch axis, as in Keras."""
    top = max(x.ndim for x in inputs)
    return [x.reshape(x.shape[:1] + (1,) * (top - x.ndim) + x.shape[1:]) for x in inputs]


class _Merge(Layer):
    """Combines a list of same-shaped (or broadcastable) inputs elementwise.

    Masks: merges are mask-transparent in Keras; here the output mask is the logical OR of
    the input masks when every input has one, else None.
    """

    supports_masking = True
    n_inputs: int | None = None
    op: Callable[[jax.Array, jax.Array], jax.Array] = staticmethod(jnp.add)

    def build(self, input_shape: Any) -> None:
        _broadcast_shape(self, _check_list(self, input_shape, self.n_inputs))

    def call(self, inputs: Sequence[jax.Array]) -> jax.Array:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A {type(self).__name__} layer must be called on a list of inputs; "
                             f"received a single array of shape {getattr(inputs, 'shape', '?')}.")
        return self.merge(_align_ranks(inputs))

    def merge(self, inputs: list[jax.Array]) -> jax.Array:
        return reduce(self.op, inputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not isinstance(mask, (list, tuple)) or any(m is None for m in mask):
            return None
        return reduce(jnp.logical_or, mask)


class Add(_Merge):
    """Sum of the inputs.

    Example:
        >>> Add()([jnp.ones((2, 3)), jnp.ones((2, 3))]).sum()
        Array(12., dtype=float32)
    """

    op = staticmethod(jnp.add)


class Subtract(_Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs)."""

    n_inputs = 2
    op = staticmethod(jnp.subtract)


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    op = staticmethod(jnp.multiply)


class Average(_Merge):
    """Elementwise mean: the sum of the inputs divided by their number."""

    def merge(self, inputs: list[jax.Array]) -> jax.Array:
        return reduce(jnp.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    op = staticmethod(jnp.maximum)


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    op = staticmethod(jnp.minimum)


class Concatenate(_Merge):
    """Joins the inputs along `axis` (default: the last); other axes must match.

    Example:
        >>> Concatenate()([jnp.ones((2, 3)), jnp.ones((2, 4))]).shape
        (2, 7)
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape: Any) -> None:
        shapes = _check_list(self, input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"Concatenate needs inputs of the same rank; received shapes "
                             f"{shapes}.")
        axis = self.axis % ranks.pop()
        for i in range(1, len(shapes[0])):
            dims = {s[i] for s in shapes} - {None}
            if i != axis and len(dims) > 1:
                raise ValueError(f"Concatenate(axis={self.axis}) needs inputs whose shapes match "
                                 f"except on axis {self.axis}; received shapes {shapes}.")

    def call(self, inputs: Sequence[jax.Array]) -> jax.Array:
        return jnp.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def l2_normalize(x: jax.Array, axis: int) -> jax.Array:
    """`x / ||x||` along `axis`, as Keras: `x * min(rsqrt(sum(x^2)), 1 / epsilon)`."""
    inv = lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv, 1.0 / _config.epsilon())


def batch_dot(x: jax.Array, y: jax.Array, axes: tuple[int, int]) -> jax.Array:
    """Per-sample dot product of `x` and `y` over `x` axis `axes[0]` and `y` axis `axes[1]`.

    Returns:
        `(batch, *x_rest, *y_rest)`, with a trailing length-1 axis when nothing else remains,
        as Keras's `batch_dot` gives.
    """
    out = lax.dot_general(x, y, (((axes[0],), (axes[1],)), ((0,), (0,))))
    return out[:, None] if out.ndim == 1 else out


class Dot(_Merge):
    """Per-sample dot product of two inputs along `axes`.

    Args:
        axes: an int (the same axis in both inputs) or a pair `(axis_of_a, axis_of_b)`;
            negative axes count from the end. Axis 0 (the batch) is not allowed.
        normalize: L2-normalize both inputs along those axes first, giving cosine similarity.

    Example:
        >>> Dot(axes=1)([jnp.ones((2, 3)), jnp.ones((2, 3))]).shape
        (2, 1)
    """

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2 or not all(
                    isinstance(a, int) for a in axes):
                raise ValueError(f"Dot(axes=...) must be an int or a pair of ints; received "
                                 f"axes={axes!r}.")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)

    def _resolved_axes(self, ndims: Sequence[int]) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        resolved = tuple(a % n if a < 0 else a for a, n in zip(axes, ndims))
        if 0 in resolved:
            raise ValueError(f"Dot(axes={self.axes}) cannot contract the batch axis 0 of inputs "
                             f"of ranks {tuple(ndims)}.")
        return resolved

    def build(self, input_shape: Any) -> None:
        a, b = _check_list(self, input_shape, exactly=2)
        i, j = self._resolved_axes((len(a), len(b)))
        if a[i] is not None and b[j] is not None and a[i] != b[j]:
            raise ValueError(f"Dot(axes={self.axes}) needs equal lengths on the contracted axes; "
                             f"received shapes {a} (axis {i}: {a[i]}) and {b} "
                             f"(axis {j}: {b[j]}).")

    def call(self, inputs: Sequence[jax.Array]) -> jax.Array:
        x, y = inputs
        i, j = self._resolved_axes((x.ndim, y.ndim))
        if self.normalize:
            x, y = l2_normalize(x, i), l2_normalize(y, j)
        return batch_dot(x, y, (i, j))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# -- functional helpers (keras.layers.add, ...) ------------------------------------------------

def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Add(**kwargs)(inputs)`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Subtract(**kwargs)(inputs)`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Multiply(**kwargs)(inputs)`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Average(**kwargs)(inputs)`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Maximum(**kwargs)(inputs)`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Minimum(**kwargs)(inputs)`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """`Concatenate(axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence[Any], axes: int | Sequence[int] = -1, **kwargs: Any) -> Any:
    """`Dot(axes, **kwargs)(inputs)`."""
    return Dot(axes=axes, **kwargs)(inputs)
