"""The `STFT` initializer (Keras's `keras.initializers.STFT`, alias `STFTInitializer`) and the
NumPy windows behind it.

The kernel of shape `(frame_length, 1, fft_length // 2 + 1)` holds, for each frame sample `t`
and frequency bin `f`, `cos(-2 pi t f / fft_length)` ("real" side) or its `sin` ("imag"),
times an optional window, divided by the window's L2 norm ("density") or L1 norm
("spectrum"). A 1-D convolution with it is the DFT of each windowed frame, so the
`STFTSpectrogram` layer is a pair of strided convolutions (and the kernels may be trained).

Keras draws the windows from `scipy.signal.get_window(name, length, fftbins=periodic)`. kiln
does not depend on SciPy: the windows SciPy accepts without parameters are computed here with
the same formulas (hann, hamming, blackman, ...; see `WINDOWS`), with SciPy's aliases and the
`_periodic` / `_symmetric` suffixes. For any other window pass its values as an array.

This ground module does not import `kiln.initializers` (a higher rank), so `STFT` implements the
initializer protocol itself: `STFT(...)(shape, dtype)`, `sample(key, shape, dtype)`,
`get_config` / `from_config`; it is registered under Keras's names.

Example:
    >>> kernel = STFT("real", "hann")((8, 1, 5))
    >>> kernel.shape, kernel.dtype
    ((8, 1, 5), dtype('float32'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _registry
from ._initializer_samplers import standardize_dtype, standardize_shape

__all__ = ["STFT", "WINDOWS", "STFTInitializer", "check_window", "get_window", "stft",
           "stft_kernel"]

# General-cosine coefficients of SciPy's cosine-sum windows.
_COSINE_SUMS = {
    "hann": (0.5, 0.5), "hamming": (0.54, 0.46), "blackman": (0.42, 0.50, 0.08),
    "blackmanharris": (0.35875, 0.48829, 0.14128, 0.01168),
    "nuttall": (0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}


def _cosine_sum(coefficients: Sequence[float]) -> Callable[[int], np.ndarray]:
    def window(m: int) -> np.ndarray:
        phase = np.linspace(-np.pi, np.pi, m)
        return sum(a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return window


def _boxcar(m: int) -> np.ndarray:
    return np.ones(m)


def _triang(m: int) -> np.ndarray:
    n = np.arange(1, (m + 1) // 2 + 1)
    if m % 2 == 0:
        half = (2 * n - 1.0) / m
        return np.concatenate([half, half[::-1]])
    half = 2 * n / (m + 1.0)
    return np.concatenate([half, half[-2::-1]])


def _bartlett(m: int) -> np.ndarray:
    n = np.arange(m)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


def _bohman(m: int) -> np.ndarray:
    x = np.abs(np.linspace(-1, 1, m)[1:-1])
    inner = (1 - x) * np.cos(np.pi * x) + np.sin(np.pi * x) / np.pi
    return np.concatenate([[0.0], inner, [0.0]])


def _parzen(m: int) -> np.ndarray:
    n = np.arange(-(m - 1) / 2.0, (m - 1) / 2.0 + 0.5, 1.0)
    outer = n[n < -(m - 1) / 4.0]
    inner = n[np.abs(n) <= (m - 1) / 4.0]
    w_out = 2 * (1 - np.abs(outer) / (m / 2.0)) ** 3.0
    r = np.abs(inner) / (m / 2.0)
    w_in = 1 - 6 * r ** 2.0 + 6 * r ** 3.0
    return np.concatenate([w_out, w_in, w_out[::-1]])


def _cosine(m: int) -> np.ndarray:
    return np.sin(np.pi / m * (np.arange(m) + 0.5))


def _barthann(m: int) -> np.ndarray:
    x = np.abs(np.arange(m) / (m - 1.0) - 0.5)
    return 0.62 - 0.48 * x + 0.38 * np.cos(2 * np.pi * x)


def _tukey(m: int, alpha: float = 0.5) -> np.ndarray:
    n = np.arange(m)
    width = int(np.floor(alpha * (m - 1) / 2.0))
    rise = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n[:width + 1] / alpha / (m - 1))))
    flat = np.ones(len(n[width + 1:m - width - 1]))
    fall = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n[m - width - 1:] / alpha
                                      / (m - 1))))
    return np.concatenate([rise, flat, fall])


#: Window name (SciPy's, aliases included) -> symmetric window of length m >= 2.
WINDOWS: dict[str, Callable[[int], np.ndarray]] = {}
for _names, _fn in [
        (("hann", "han"), _cosine_sum(_COSINE_SUMS["hann"])),
        (("hamming", "hamm", "ham"), _cosine_sum(_COSINE_SUMS["hamming"])),
        (("blackman", "black", "blk"), _cosine_sum(_COSINE_SUMS["blackman"])),
        (("blackmanharris", "blackharr", "bkh"), _cosine_sum(_COSINE_SUMS["blackmanharris"])),
        (("nuttall", "nutl", "nut"), _cosine_sum(_COSINE_SUMS["nuttall"])),
        (("flattop", "flat", "flt"), _cosine_sum(_COSINE_SUMS["flattop"])),
        (("boxcar", "box", "ones", "rect", "rectangular"), _boxcar),
        (("triangle", "triang", "tri"), _triang), (("bartlett", "bart", "brt"), _bartlett),
        (("bohman", "bman", "bmn"), _bohman), (("parzen", "parz", "par"), _parzen),
        (("cosine", "halfcosine"), _cosine), (("barthann", "brthan", "bth"), _barthann),
        (("tukey", "tuk"), _tukey)]:
    WINDOWS.update(dict.fromkeys(_names, _fn))


def _window_name(window: str) -> tuple[str, bool | None]:
    """`(name, forced periodic or None)` from SciPy's `_periodic` / `_symmetric` suffixes."""
    for suffix, periodic in (("_symmetric", False), ("_periodic", True)):
        if window.endswith(suffix):
            return window[:-len(suffix)], periodic
    return window, None


def check_window(window: Any, where: str = "STFT") -> None:
    """Raises a ValueError for a window name kiln cannot compute (strings only are checked)."""
    if isinstance(window, str) and _window_name(window)[0] not in WINDOWS:
        raise ValueError(
            f"{where}(window={window!r}): unknown window name. Expected one of "
            f"{sorted(set(WINDOWS))} (SciPy's names without parameters), an array of "
            "frame_length values, or None. For another SciPy window, pass its values: "
            "window=scipy.signal.get_window(name, frame_length, fftbins=periodic).")


def get_window(window: str, length: int, periodic: bool = False) -> np.ndarray:
    """`scipy.signal.get_window(window, length, fftbins=periodic)` for the names in `WINDOWS`.

    A periodic window of length m is the symmetric one of length m + 1 without its last
    value (SciPy's rule); a window of length 1 is `[1.0]`.

    Example:
        >>> get_window("hann", 4).round(2).tolist(), get_window("hann", 4, True).tolist()
        ([0.0, 0.75, 0.75, 0.0], [0.0, 0.5, 1.0, 0.5])
    """
    check_window(window, "get_window")
    name, forced = _window_name(window)
    periodic = periodic if forced is None else forced
    if length <= 1:
        return np.ones(max(int(length), 0))
    values = WINDOWS[name](int(length) + (1 if periodic else 0))
    return np.asarray(values[:int(length)], dtype=np.float64)


def stft_kernel(shape: Any, dtype: Any = None, side: str = "real", window: Any = "hann",
                scaling: str | None = "density", periodic: bool = False) -> jax.Array:
    """The `(frame_length, channels, bins)` DFT kernel, computed with Keras's float ops order.

    Example:
        >>> stft_kernel((4, 1, 3), window=None)[:, 0, 0].tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    dtype = standardize_dtype(dtype)
    frame_length, _, bins = standardize_shape(shape)
    win, scale = None, 1
    if window is not None:
        values = get_window(window, frame_length, periodic) if isinstance(window, str) else window
        win = jnp.asarray(np.asarray(values), dtype)
        if win.ndim != 1 or win.shape[-1] != frame_length:
            raise ValueError(f"STFT: the window must have shape ({frame_length},) (one value per "
                             f"frame sample); received shape {tuple(win.shape)}.")
        win = win.reshape(frame_length, 1, 1)
        if scaling == "density":
            scale = jnp.sqrt(jnp.sum(jnp.square(win)))
        elif scaling == "spectrum":
            scale = jnp.sum(jnp.abs(win))
    freq = jnp.arange(bins, dtype=dtype).reshape(1, 1, bins) / ((bins - 1) * 2)
    time = jnp.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
    angle = (-2 * time * freq) * jnp.arccos(jnp.asarray(-1, dtype))
    kernel = (jnp.cos(angle) if side == "real" else jnp.sin(angle)).astype(dtype)
    return kernel if win is None else kernel * win / scale


class STFT:
    """Initializer of the convolution kernels of a short-time Fourier transform.

    Args:
        side: "real" (cosines) or "imag" (sines).
        window: a window name (see `WINDOWS`), an array of `frame_length` values, or None.
        scaling: "density" (divide by the window's L2 norm), "spectrum" (L1 norm) or None.
        periodic: whether a named window is periodic (SciPy's `fftbins`); default False.

    The shape asked for is `(frame_length, 1, fft_length // 2 + 1)`.

    Example:
        >>> init = STFT("imag", "hamming", "spectrum", periodic=True)
        >>> init((16, 1, 9)).shape, STFT.from_config(init.get_config()).side
        ((16, 1, 9), 'imag')
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT(side=...) must be 'real' or 'imag'; received side={side!r}.")
        check_window(window)
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"STFT(scaling=...) must be None, 'density' or 'spectrum'; received "
                             f"scaling={scaling!r}.")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape: Any, dtype: Any = None) -> jax.Array:
        return stft_kernel(shape, dtype, self.side, self.window, self.scaling, self.periodic)

    def sample(self, key: jax.Array | None, shape: Any, dtype: Any = None) -> jax.Array:
        """The kernel (deterministic: `key` is ignored), as `kiln.initializers` samplers."""
        return self(shape, dtype)

    def get_config(self) -> dict[str, Any]:
        window = self.window
        if isinstance(window, (np.ndarray, jax.Array)):
            window = np.asarray(window).tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> STFT:
        return cls(**config)

    def clone(self) -> STFT:
        return type(self).from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"STFT({args})"


# Keras's names: keras.initializers.STFT, .stft and .STFTInitializer.
STFTInitializer = stft = STFT
_registry.register(STFT, "initializers")
_registry.register_alias("initializers", "stft", STFT)
_registry.register_alias("initializers", "STFTInitializer", STFT)
