"""Audio front ends with Keras 3's arguments and numbers: STFTSpectrogram (a short-time
Fourier transform computed by two strided convolutions with trainable DFT kernels) and
MelSpectrogram (an FFT-based STFT, an HTK mel filter bank and a decibel scale).

Both are pure jax.numpy and run inside a jitted model.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config
from .._stft_initializer import STFT, check_window
from .._variables import Variable
from ..ops.math import stft
from ..ops.nn import conv
from ._conv_ops import normalize_data_format
from ._input_spec import InputSpec
from ._layer import Layer

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_MEL_BREAK_HZ = 700.0
_MEL_Q = 1127.0


def _check_stft_args(mode: str, frame_length: int, frame_step: int | None,
                     fft_length: int | None, scaling: Any, padding: str, window: Any) -> None:
    if frame_step is not None and not 1 <= frame_step <= frame_length:
        raise ValueError(f"STFTSpectrogram(frame_step=...) must be an integer in [1, "
                         f"frame_length={frame_length}]; received frame_step={frame_step}.")
    if fft_length is not None and fft_length < frame_length:
        raise ValueError(f"STFTSpectrogram(fft_length=...) must be >= frame_length="
                         f"{frame_length}; received fft_length={fft_length}.")
    if fft_length is not None and (fft_length & -fft_length) != fft_length:
        warnings.warn(f"STFTSpectrogram: fft_length is best a power of two; received "
                      f"fft_length={fft_length}.", stacklevel=3)
    if mode not in _MODES:
        raise ValueError(f"STFTSpectrogram(mode=...) must be one of {list(_MODES)}; received "
                         f"mode={mode!r}.")
    if scaling is not None and scaling not in ("density", "spectrum"):
        raise ValueError(f"STFTSpectrogram(scaling=...) must be None, 'density' or 'spectrum'; "
                         f"received scaling={scaling!r}.")
    if padding not in ("valid", "same"):
        raise ValueError(f"STFTSpectrogram(padding=...) must be 'valid' or 'same'; received "
                         f"padding={padding!r}.")
    check_window(window, "STFTSpectrogram")


class STFTSpectrogram(Layer):
    """Spectrogram of a multi-channel signal by a short-time Fourier transform.

    Each channel is framed (`frame_length` samples every `frame_step`), windowed and
    transformed with two convolutions whose kernels are initialized by the `STFT` initializer
    (`real_kernel`, `imag_kernel`; trainable unless `trainable=False`).

    Args:
        mode: "log" (default; log magnitude), "magnitude", "psd" (one-sided power spectral
            density), "real", "imag", "angle", or "stft" (real bins, then imaginary bins).
        frame_length: the window length in samples (default 256).
        frame_step: the hop in samples (default `frame_length // 2`).
        fft_length: the FFT size, >= frame_length (default: the next power of two).
        window: "hann" (default), another window name, an array of frame_length values,
            or None.
        periodic: whether a named window is periodic (default False).
        scaling: "density" (default), "spectrum" or None: the window normalization.
        padding: "valid" (default) or "same" (ceil(time / frame_step) frames).
        expand_dims: output a separate channels axis, as an image.
        data_format: "channels_last" (default; inputs `(batch, time, channels)`) or
            "channels_first" (`(batch, channels, time)`).

    Output, with `bins = fft_length // 2 + 1` (twice that for "stft"): channels_last gives
    `(batch, frames, channels * bins)`, or `(batch, frames, bins, channels)` with
    expand_dims; channels_first gives `(batch, channels * bins, frames)`, or
    `(batch, channels, frames, bins)` with expand_dims.

    Example:
        >>> layer = STFTSpectrogram(frame_length=16, frame_step=8, fft_length=16)
        >>> layer(jnp.ones((2, 64, 3))).shape
        (2, 7, 27)
    """

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step: int | None = None,
                 fft_length: int | None = None, window: Any = "hann", periodic: bool = False,
                 scaling: str | None = "density", padding: str = "valid",
                 expand_dims: bool = False, data_format: str | None = None, **kwargs: Any):
        _check_stft_args(mode, frame_length, frame_step, fft_length, scaling, padding, window)
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step = mode, frame_length, frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** math.ceil(math.log2(frame_length))
        self.window, self.periodic, self.scaling = window, periodic, scaling
        self.padding, self.expand_dims = padding, expand_dims
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape: Any) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        args = (self.window, self.scaling, self.periodic)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(shape, STFT("real", *args), name="real_kernel")
        if self.mode != "real":
            self.imag_kernel = self.add_weight(shape, STFT("imag", *args), name="imag_kernel")

    def _frames(self, inputs: jax.Array, kernel: Variable) -> jax.Array:
        """`(batch, channels, frames, bins)`: one convolution per channel."""
        signal = inputs if self.data_format == "channels_first" else jnp.swapaxes(inputs, 1, 2)
        batch, channels, time = signal.shape
        out = conv(signal.reshape(batch * channels, time, 1),
                   kernel.value.astype(inputs.dtype), strides=self._frame_step,
                   padding=self.padding)
        return out.reshape(batch, channels, *out.shape[1:])

    def _arrange(self, x: jax.Array) -> jax.Array:
        """From `(batch, channels, frames, bins)` to the documented output layout."""
        batch, channels, frames, bins = x.shape
        if self.data_format == "channels_last":
            x = jnp.transpose(x, (0, 2, 3, 1) if self.expand_dims else (0, 2, 1, 3))
            return x if self.expand_dims else x.reshape(batch, frames, channels * bins)
        if self.expand_dims:
            return x
        return jnp.swapaxes(x, 2, 3).reshape(batch, channels * bins, frames)

    def call(self, inputs: jax.Array) -> jax.Array:
        if inputs.dtype not in (jnp.float16, jnp.float32, jnp.float64):
            raise TypeError(f"STFTSpectrogram expects float16, float32 or float64 inputs; "
                            f"received dtype {inputs.dtype}. Cast the signal first, e.g. "
                            "x.astype('float32').")
        real = self._frames(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._frames(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag"):
            return self._arrange(real if self.mode == "real" else imag)
        if self.mode == "angle":
            return self._arrange(jnp.arctan2(imag, real))
        if self.mode == "stft":
            return self._arrange(jnp.concatenate([real, imag], axis=-1))
        power = jnp.square(real) + jnp.square(imag)
        if self.mode == "psd":  # every bin but DC and Nyquist counts twice (one-sided)
            return self._arrange(power + jnp.pad(power[..., 1:-1], [(0, 0)] * 3 + [(1, 1)]))
        eps = _config.epsilon()
        magnitude = self._arrange(jnp.sqrt(jnp.maximum(power, eps)))
        return magnitude if self.mode == "magnitude" else jnp.log(jnp.maximum(magnitude, eps))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        last = self.data_format == "channels_last"
        batch, time, channels = (input_shape if last else
                                 (input_shape[0], input_shape[2], input_shape[1]))
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if time is None:
            frames = None
        elif self.padding == "same":
            frames = -(-time // self._frame_step)
        else:
            frames = (time - self.frame_length) // self._frame_step + 1
        if self.expand_dims:
            return (batch, frames, bins, channels) if last else (batch, channels, frames, bins)
        flat = None if channels is None else channels * bins
        return (batch, frames, flat) if last else (batch, flat, frames)

    def get_config(self) -> dict[str, Any]:
        window = self.window
        if isinstance(window, (np.ndarray, jax.Array)):
            window = np.asarray(window).tolist()
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}


def hertz_to_mel(frequencies: Any) -> jax.Array:
    """HTK's mel scale: `1127 * ln(1 + f / 700)`.

    Example:
        >>> round(float(hertz_to_mel(700.0)), 3)
        781.177
    """
    return _MEL_Q * jnp.log(1.0 + jnp.asarray(frequencies) / _MEL_BREAK_HZ)


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins: int = 129,
                                sampling_rate: float = 8000, lower_edge_hertz: float = 125.0,
                                upper_edge_hertz: float = 3800.0,
                                dtype: Any = "float32") -> jax.Array:
    """`(num_spectrogram_bins, num_mel_bins)` triangular HTK filters (peaks of 1, DC bin 0).

    Right-multiplying a linear-frequency spectrogram `(..., bins)` by it gives mel bands.

    Example:
        >>> linear_to_mel_weight_matrix(4, 9, 8000, 100.0, 4000.0).shape
        (9, 4)
    """
    sampling_rate = jnp.asarray(sampling_rate, dtype)
    linear = jnp.linspace(jnp.asarray(0.0, dtype), sampling_rate / 2.0,
                          num_spectrogram_bins)[1:]
    bins_mel = hertz_to_mel(linear)[:, None]
    edges = jnp.linspace(hertz_to_mel(jnp.asarray(lower_edge_hertz, dtype)),
                         hertz_to_mel(jnp.asarray(upper_edge_hertz, dtype)), num_mel_bins + 2)
    lower, center, upper = (edges[None, i:i + num_mel_bins] for i in range(3))
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = jnp.maximum(jnp.asarray(0.0, dtype), jnp.minimum(rising, falling))
    return jnp.pad(weights, [(1, 0), (0, 0)])


class MelSpectrogram(Layer):
    """Mel spectrogram of 1-D signals: `(time,)` or `(batch, time)` in, `(..., num_mel_bins,
    frames)` out.

    The signal is reflect-padded by `fft_length // 2` on each side, framed
    (`sequence_length` samples every `sequence_stride`), windowed, transformed by an FFT of
    `fft_length`, raised to `mag_exp` (2: power), mapped to `num_mel_bins` HTK mel bands from
    `min_freq` to `max_freq` and, with `power_to_db`, converted to decibels relative to
    `ref_power`, floored at `min_power` and clipped to `top_db` below the maximum (the maximum
    over the whole call, batch included, as in Keras).

    Args:
        fft_length: FFT size (default 2048).
        sequence_stride: hop in samples (default 512).
        sequence_length: window length (default fft_length).
        window: "hann" (default), "hamming" or None (periodic windows, as `ops.stft`).
        sampling_rate: samples per second (default 16000).
        num_mel_bins: number of mel bands (default 128).
        min_freq / max_freq: band edges in Hz (defaults 20 and sampling_rate / 2).
        power_to_db, top_db, mag_exp, min_power, ref_power: the scaling described above
            (defaults True, 80.0, 2.0, 1e-10, 1.0).

    Example:
        >>> layer = MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8)
        >>> layer(jnp.ones((2, 128))).shape
        (2, 8, 9)
    """

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512,
                 sequence_length: int | None = None, window: str | None = "hann",
                 sampling_rate: int = 16000, num_mel_bins: int = 128, min_freq: float = 20.0,
                 max_freq: float | None = None, power_to_db: bool = True, top_db: float = 80.0,
                 mag_exp: float = 2.0, min_power: float = 1e-10, ref_power: float = 1.0,
                 **kwargs: Any):
        self.fft_length, self.sequence_stride = fft_length, sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(f"MelSpectrogram(fft_length=...) must be >= sequence_length="
                             f"{self.sequence_length}; received fft_length={fft_length}.")
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(f"MelSpectrogram(window=...) must be 'hann', 'hamming', an array or "
                             f"None; received window={window!r}.")
        super().__init__(**kwargs)
        self.window, self.sampling_rate, self.num_mel_bins = window, sampling_rate, num_mel_bins
        self.min_freq, self.max_freq = min_freq, max_freq or int(sampling_rate / 2)
        self.power_to_db, self.top_db, self.mag_exp = power_to_db, top_db, mag_exp
        self.min_power, self.ref_power = min_power, ref_power

    def call(self, inputs: jax.Array) -> jax.Array:
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        # window=None: Keras's JAX stft frames all fft_length samples (a window of ones).
        length = self.fft_length if self.window is None else self.sequence_length
        real, imag = stft(jnp.asarray(inputs, dtype), length, self.sequence_stride,
                          self.fft_length, window=self.window, center=True)
        spec = jnp.power(jnp.sqrt(jnp.square(real) + jnp.square(imag)), self.mag_exp)
        weights = linear_to_mel_weight_matrix(self.num_mel_bins, spec.shape[-1],
                                              self.sampling_rate, self.min_freq, self.max_freq)
        out = jnp.tensordot(spec, weights, axes=1)
        if self.power_to_db:
            out = self._decibels(out)
        return jnp.swapaxes(out, -1, -2).astype(self.compute_dtype)

    def _decibels(self, power: jax.Array) -> jax.Array:
        db = 10.0 * jnp.log10(jnp.maximum(power, self.min_power))
        ref = jnp.abs(jnp.asarray(self.ref_power))
        db = db - 10.0 * jnp.log10(jnp.maximum(ref, self.min_power))
        return jnp.maximum(db, jnp.max(db) - self.top_db)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        # Frames of the centred (reflect-padded) signal. Keras's formula,
        # (time + stride + 1) // stride, is one frame too many when stride divides time + 1.
        time = input_shape[-1]
        pad = 2 * (self.fft_length // 2)
        frames = None if time is None else (time + pad - self.fft_length) // (
            self.sequence_stride) + 1
        return (*input_shape[:-1], self.num_mel_bins, frames)

    def linear_to_mel_weight_matrix(self, num_mel_bins: int = 20, num_spectrogram_bins: int = 129,
                                    sampling_rate: float = 8000, lower_edge_hertz: float = 125.0,
                                    upper_edge_hertz: float = 3800.0,
                                    dtype: Any = "float32") -> jax.Array:
        """Keras's method; see the module function `linear_to_mel_weight_matrix`."""
        return linear_to_mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate,
                                           lower_edge_hertz, upper_edge_hertz, dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride, "sequence_length": self.sequence_length,
                "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq,
                "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                "top_db": self.top_db, "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}
