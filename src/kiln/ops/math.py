"""Keras's math ops (`keras.src.ops.math`): segment reductions, top-k, FFTs, special functions.

Complex values travel as Keras does, as `(real, imag)` pairs of float arrays.

>>> from kiln.ops import math as kmath
>>> kmath.segment_sum([1.0, 2.0, 3.0], [0, 0, 1]).tolist()
[3.0, 3.0]
"""

from __future__ import annotations

import math as _pymath
from typing import Any, Callable

import jax
import jax.numpy as jnp

from ._signal import istft, stft
from ._wrap import as_float, export

_SAME_SIGNATURE: dict[str, Callable] = {
    "erf": jax.scipy.special.erf, "erfc": jax.scipy.special.erfc,
    "erfinv": jax.scipy.special.erfinv, "rsqrt": jax.lax.rsqrt,
}


def _segment(fn: Callable, name: str) -> Callable:
    def segment(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> jax.Array:
        ids = jnp.asarray(segment_ids)
        count = int(jnp.max(ids)) + 1 if num_segments is None else num_segments
        return fn(jnp.asarray(data), ids, num_segments=count, indices_are_sorted=sorted)

    segment.__name__ = name
    segment.__doc__ = (f"Keras `ops.{name}(data, segment_ids, num_segments=None, sorted=False)`:"
                       f" `jax.ops.{name}`; `num_segments` defaults to `max(ids) + 1`.")
    return segment


_SEGMENTS = tuple(_segment(getattr(jax.ops, n), n)
                  for n in ("segment_sum", "segment_max", "segment_min", "segment_prod"))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[jax.Array, jax.Array]:
    """`(values, indices)` of the `k` largest entries along the last axis (always sorted).

    >>> top_k(jnp.array([1.0, 3.0, 2.0]), 2)[1].tolist()
    [1, 2]
    """
    return jax.lax.top_k(x, k)


def in_top_k(targets: Any, predictions: Any, k: int) -> jax.Array:
    """Whether each target class is among the `k` largest predictions (NaN never is).

    >>> in_top_k(jnp.array([1]), jnp.array([[0.1, 0.9, 0.5]]), 1).tolist()
    [True]
    """
    predictions = jnp.asarray(predictions)
    at_label = jnp.take_along_axis(predictions, jnp.asarray(targets)[..., None], axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    return 1 + jnp.sum(predictions > at_label, axis=-1) <= k


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> jax.Array:
    """Frames of the last axis: `(..., num_frames, sequence_length)`.

    >>> extract_sequences(jnp.arange(4.0), 2, 2).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    x = jnp.asarray(x)
    *batch, length = x.shape
    flat = jnp.reshape(x, (_pymath.prod(batch), length, 1))
    frames = jax.lax.conv_general_dilated_patches(
        flat, (sequence_length,), (sequence_stride,), "VALID",
        dimension_numbers=("NTC", "OIT", "NTC"))
    return jnp.reshape(frames, (*batch, *frames.shape[-2:]))


def _complex(x: Any, name: str) -> jax.Array:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: expected a (real, imag) pair of arrays; received "
                         f"{type(x).__name__}. Pass `(real, imag)`.")
    real, imag = as_float(x[0]), as_float(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"{name}: expected real and imag of the same shape; received "
                         f"{real.shape} and {imag.shape}.")
    return jax.lax.complex(real, imag)


def _pair(z: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jnp.real(z), jnp.imag(z)


def fft(x: Any) -> tuple[jax.Array, jax.Array]:
    """FFT over the last axis of a `(real, imag)` pair, returned as a pair.

    >>> fft((jnp.ones(2), jnp.zeros(2)))[0].tolist()
    [2.0, 0.0]
    """
    return _pair(jnp.fft.fft(_complex(x, "fft")))


def fft2(x: Any) -> tuple[jax.Array, jax.Array]:
    """2-D FFT over the last two axes of a `(real, imag)` pair.

    >>> fft2((jnp.ones((2, 2)), jnp.zeros((2, 2))))[0][0, 0].item()
    4.0
    """
    return _pair(jnp.fft.fft2(_complex(x, "fft2")))


def ifft2(x: Any) -> tuple[jax.Array, jax.Array]:
    """Inverse 2-D FFT over the last two axes of a `(real, imag)` pair.

    >>> ifft2((jnp.ones((2, 2)), jnp.zeros((2, 2))))[0][0, 0].item()
    1.0
    """
    return _pair(jnp.fft.ifft2(_complex(x, "ifft2")))


def rfft(x: Any, fft_length: int | None = None) -> tuple[jax.Array, jax.Array]:
    """FFT of a real signal over its last axis, as a `(real, imag)` pair.

    >>> rfft(jnp.ones(4))[0].tolist()
    [4.0, 0.0, 0.0]
    """
    return _pair(jnp.fft.rfft(jnp.asarray(x), n=fft_length, axis=-1))


def irfft(x: Any, fft_length: int | None = None) -> jax.Array:
    """Inverse of `rfft`: a real signal from a `(real, imag)` pair.

    >>> irfft((jnp.array([4.0, 0.0, 0.0]), jnp.zeros(3))).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    return jnp.fft.irfft(_complex(x, "irfft"), n=fft_length, axis=-1)


def view_as_complex(x: Any) -> jax.Array:
    """A complex array from `x` whose last axis (size 2) holds real and imaginary parts.

    >>> view_as_complex(jnp.array([1.0, 2.0])).item()
    (1+2j)
    """
    x = jnp.asarray(x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"view_as_complex: expected a last axis of size 2; received shape "
                         f"{x.shape}.")
    return jax.lax.complex(x[..., 0], x[..., 1])


def view_as_real(x: Any) -> jax.Array:
    """A float array with a new last axis (size 2) of the real and imaginary parts of `x`.

    >>> view_as_real(jnp.array(1 + 2j)).tolist()
    [1.0, 2.0]
    """
    x = jnp.asarray(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
    """`log(sum(exp(x)))` over `axis`, computed stably.

    >>> round(logsumexp(jnp.zeros(2)).item(), 4)
    0.6931
    """
    return jax.nn.logsumexp(jnp.asarray(x), axis=axis, keepdims=keepdims)


def cdist(x: Any, y: Any) -> jax.Array:
    """Pairwise Euclidean distances between the rows of `x` `(..., m, d)` and `y` `(..., n, d)`.

    >>> cdist(jnp.zeros((1, 2)), jnp.array([[3.0, 4.0]])).tolist()
    [[5.0]]
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist: expected inputs of rank >= 2 with the same last axis; "
                         f"received shapes {x.shape} and {y.shape}.")
    diff = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


def logdet(x: Any) -> jax.Array:
    """`log(det(x))` of a positive-definite `x`, via slogdet.

    >>> round(logdet(jnp.array([[2.0, 0.0], [0.0, 1.0]])).item(), 4)
    0.6931
    """
    return jnp.linalg.slogdet(as_float(x))[1]


_CUSTOM = (*_SEGMENTS, cdist, logdet, top_k, in_top_k, extract_sequences, fft, fft2, ifft2, rfft, irfft,
           view_as_complex, view_as_real, logsumexp, stft, istft)

__all__ = export(globals(), _SAME_SIGNATURE, _CUSTOM, "kiln.ops.math")
