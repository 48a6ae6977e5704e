"""Keras's `ops.stft` / `ops.istft` (short-time Fourier transforms) and `ops.rearrange`.

>>> import jax.numpy as jnp
>>> real, imag = stft(jnp.ones(16), 8, 4, 8)
>>> real.shape
(5, 5)
"""

from __future__ import annotations

import math
import re
from typing import Any

import jax
import jax.numpy as jnp


def _window(window: Any, sequence_length: int, fft_length: int, dtype: Any) -> jax.Array:
    """The analysis window (periodic Hann/Hamming, an array, or ones) centred in fft_length."""
    n = jnp.arange(sequence_length, dtype=dtype)
    if window is None:
        win = jnp.ones(sequence_length, dtype)
    elif isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"stft: expected window 'hann', 'hamming', an array or None; "
                             f"received window={window!r}.")
        alpha = 0.5 if window == "hann" else 0.54
        win = alpha - (1 - alpha) * jnp.cos(2 * jnp.pi * n / sequence_length)
    else:
        win = jnp.asarray(window, dtype)
        if win.shape != (sequence_length,):
            raise ValueError(f"stft: expected a window of shape ({sequence_length},); "
                             f"received shape {win.shape}.")
    left = (fft_length - sequence_length) // 2
    return jnp.pad(win, (left, fft_length - sequence_length - left))


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int,
         window: Any = "hann", center: bool = True) -> tuple[jax.Array, jax.Array]:
    """`(real, imag)` of the short-time Fourier transform over the last axis of `x`.

    Frames of `fft_length` samples every `sequence_stride`, windowed, through `rfft`; with
    `center`, `x` is first reflect-padded by `fft_length // 2` on both sides.
    `window=None` is a window of ones over `sequence_length` (zero-padded to `fft_length`);
    Keras 3.15's JAX backend then frames all `fft_length` samples instead.

    >>> stft(jnp.ones(16), 8, 4, 8, window=None)[0][0, 0].item()
    8.0
    """
    x = jnp.asarray(x)
    if x.dtype not in (jnp.float32, jnp.float64):
        raise TypeError(f"stft: expected float32 or float64 input; received {x.dtype}.")
    if fft_length < sequence_length:
        raise ValueError(f"stft: expected fft_length >= sequence_length; received "
                         f"fft_length={fft_length}, sequence_length={sequence_length}.")
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = jnp.pad(x, pad, mode="reflect")
    frames = 1 + (x.shape[-1] - fft_length) // sequence_stride
    index = (jnp.arange(frames)[:, None] * sequence_stride + jnp.arange(fft_length)[None])
    windowed = x[..., index] * _window(window, sequence_length, fft_length, x.dtype)
    spectrum = jnp.fft.rfft(windowed, n=fft_length, axis=-1)
    return jnp.real(spectrum), jnp.imag(spectrum)


def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int,
          length: int | None = None, window: Any = "hann", center: bool = True) -> jax.Array:
    """The signal whose `stft` is `x = (real, imag)` (windowed overlap-add).

    >>> sig = jnp.sin(jnp.arange(32.0))
    >>> bool(jnp.allclose(istft(stft(sig, 8, 4, 8), 8, 4, 8, length=32), sig, atol=1e-5))
    True
    """
    real, imag = (jnp.asarray(part) for part in x)
    if real.ndim < 2:
        raise ValueError(f"istft: expected (..., frames, fft_length // 2 + 1) parts; "
                         f"received shape {real.shape}.")
    frames = jnp.fft.irfft(real + 1j * imag, n=fft_length, axis=-1)
    win = _window(window, sequence_length, fft_length, real.dtype)
    count = real.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    index = (jnp.arange(count)[:, None] * sequence_stride + jnp.arange(fft_length)[None])
    signal = jnp.zeros((*real.shape[:-2], total), real.dtype).at[..., index].add(frames * win)
    norm = jnp.zeros(total, real.dtype).at[index].add(jnp.broadcast_to(win**2, index.shape))
    signal = signal / jnp.where(norm > 1e-10, norm, 1.0)
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (
        total - fft_length // 2 if center else total)
    return signal[..., start:end]


def _groups(side: str) -> list[list[str]]:
    groups = []
    for token in re.findall(r"\([^)]*\)|\S+", side):
        names = token.strip("()").split()
        groups.append(names)
    return groups


def _sizes(shape: tuple, groups: list[list[str]], known: dict[str, int]) -> dict[str, int]:
    sizes = dict(known)
    if len(groups) != len(shape):
        raise ValueError(f"rearrange: the pattern names {len(groups)} axes; received a tensor "
                         f"of rank {len(shape)} (shape {shape}).")
    for group, dim in zip(groups, shape):
        unknown = [n for n in group if n not in sizes]
        product = math.prod(sizes[n] for n in group if n in sizes)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown}; fix: pass "
                             f"them as keyword arguments, e.g. {unknown[0]}=2.")
        if unknown:
            sizes[unknown[0]] = dim // product
    return sizes


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> jax.Array:
    """`tensor` reshaped and transposed by an einops pattern, e.g. `"b h w c -> b (h w) c"`.

    >>> rearrange(jnp.zeros((2, 3, 4)), "a b c -> c (a b)").shape
    (4, 6)
    """
    x = jnp.asarray(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: expected a pattern 'left -> right'; received "
                         f"{pattern!r}.")
    left, right = (_groups(side) for side in pattern.split("->"))
    sizes = _sizes(x.shape, left, axes_lengths)
    names = [n for group in left for n in group]
    out_names = [n for group in right for n in group]
    if sorted(names) != sorted(out_names):
        raise ValueError(f"rearrange: both sides must name the same axes; received "
                         f"{names} and {out_names}.")
    x = x.reshape([sizes[n] for n in names])
    x = jnp.transpose(x, [names.index(n) for n in out_names])
    return x.reshape([math.prod(sizes[n] for n in group) for group in right])
