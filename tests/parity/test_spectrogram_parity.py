"""Parity of the STFT initializer, STFTSpectrogram and MelSpectrogram with Keras 3 (JAX
backend) on the same inputs: kernels, outputs (every mode, window, layout and padding),
weights and config keys."""

import json

import keras
import numpy as np
import pytest

from kiln._stft_initializer import STFT
from kiln.layers._spectrogram import MelSpectrogram, STFTSpectrogram

RNG = np.random.default_rng(11)
SIGNAL = RNG.normal(size=(2, 90, 2)).astype("float32")
AUDIO = RNG.normal(size=(2, 150)).astype("float32")
MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
LAYOUTS = [("channels_last", False, "valid"), ("channels_first", True, "same"),
           ("channels_last", True, "same"), ("channels_first", False, "valid")]


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("window,scaling,periodic", [
    ("hann", "density", False), ("hamming", "spectrum", True), ("blackman", None, False),
    (None, "density", False), ("bartlett", "density", True)])
def test_stft_initializer_values(window, scaling, periodic):
    for side in ("real", "imag"):
        ours = STFT(side, window, scaling, periodic)((20, 1, 17))
        theirs = keras.initializers.STFT(side, window, scaling, periodic)((20, 1, 17))
        close(ours, theirs, 1e-6)


def test_stft_initializer_array_window_and_config():
    win = RNG.uniform(size=12).astype("float32")
    close(STFT("imag", win)((12, 1, 9)), keras.initializers.STFT("imag", win)((12, 1, 9)), 1e-6)
    assert STFT().get_config() == keras.initializers.STFT().get_config()


# Every mode (each on a different layout), and every layout in "stft" mode.
CASES = sorted({(m, i % len(LAYOUTS)) for i, m in enumerate(MODES)}
               | {("stft", i) for i in range(len(LAYOUTS))})


@pytest.mark.parametrize("mode,layout", CASES)
def test_stft_spectrogram_modes_and_layouts(mode, layout):
    data_format, expand, padding = LAYOUTS[layout]
    x = SIGNAL if data_format == "channels_last" else SIGNAL.transpose(0, 2, 1)
    kwargs = dict(mode=mode, frame_length=20, frame_step=7, fft_length=32, padding=padding,
                  expand_dims=expand, data_format=data_format)
    ours, theirs = STFTSpectrogram(**kwargs)(x), keras.layers.STFTSpectrogram(**kwargs)(x)
    assert ours.shape == theirs.shape
    close(ours, theirs, 2e-4 if mode in ("log", "angle") else 1e-4)


@pytest.mark.parametrize("window,periodic,scaling", [
    ("hamming", True, "spectrum"), ("blackmanharris", False, None), (None, False, "density"),
    ("flattop", True, "density")])
def test_stft_spectrogram_windows(window, periodic, scaling):
    kwargs = dict(mode="magnitude", frame_length=20, frame_step=7, fft_length=32,
                  window=window, periodic=periodic, scaling=scaling)
    close(STFTSpectrogram(**kwargs)(SIGNAL), keras.layers.STFTSpectrogram(**kwargs)(SIGNAL), 1e-4)


def test_stft_spectrogram_weights_shapes_and_config():
    kwargs = dict(mode="log", frame_length=20, frame_step=7, fft_length=32)
    ours, theirs = STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    ours.build(SIGNAL.shape)
    theirs.build(SIGNAL.shape)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        close(a, b, 1e-6)
    for shape in [(None, 90, 2), (3, 64, 1), (None, None, 2)]:
        assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    assert sorted(ours.get_config()) == sorted(theirs.get_config())
    rebuilt = STFTSpectrogram.from_config(json.loads(json.dumps(theirs.get_config())))
    close(rebuilt(SIGNAL), theirs(SIGNAL), 2e-4)


@pytest.mark.parametrize("kwargs", [
    dict(fft_length=32, sequence_stride=8, num_mel_bins=8),
    dict(fft_length=32, sequence_stride=8, sequence_length=24, window="hamming",
         num_mel_bins=8, power_to_db=False, mag_exp=1.0, min_freq=100.0, max_freq=3000.0),
    dict(fft_length=32, sequence_stride=8, sequence_length=24, window=None, sampling_rate=8000,
         num_mel_bins=8, top_db=20.0, ref_power=2.0, min_power=1e-6)])
def test_mel_spectrogram(kwargs):
    ours, theirs = MelSpectrogram(**kwargs)(AUDIO), keras.layers.MelSpectrogram(**kwargs)(AUDIO)
    assert ours.shape == theirs.shape
    tol = 1e-4 if kwargs.get("power_to_db", True) else 1e-5
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=tol, atol=tol)


def test_mel_spectrogram_unbatched():
    kwargs = dict(fft_length=32, sequence_stride=8, num_mel_bins=8)
    ours = MelSpectrogram(**kwargs)(AUDIO[0])
    close(ours, keras.layers.MelSpectrogram(**kwargs)(AUDIO[0]), 1e-4)
    assert ours.shape == (8, 150 // 8 + 1)


def test_mel_matrix_and_config():
    ours, theirs = MelSpectrogram(), keras.layers.MelSpectrogram()
    close(ours.linear_to_mel_weight_matrix(12, 65, 16000, 30.0, 7000.0),
          theirs.linear_to_mel_weight_matrix(12, 65, 16000, 30.0, 7000.0), 1e-6)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert sorted(ours_config) == sorted(theirs_config)
    for key in ours_config.keys() - {"name", "dtype"}:
        assert ours_config[key] == theirs_config[key], key
