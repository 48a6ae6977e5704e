"""Unit tests of the STFT initializer, STFTSpectrogram and MelSpectrogram: windows, kernels,
shapes, errors, registration, config, jit and gradients (Keras parity is in
tests/parity/test_spectrogram_parity.py)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kiln import _registry, _serialization
from kiln._stft_initializer import STFT, WINDOWS, get_window, stft_kernel
from kiln.layers._spectrogram import (MelSpectrogram, STFTSpectrogram, hertz_to_mel,
                                      linear_to_mel_weight_matrix)

SIGNAL = np.random.default_rng(3).normal(size=(2, 96, 2)).astype("float32")


# -- windows and the initializer ---------------------------------------------------------------

def test_windows_match_scipy():
    signal = pytest.importorskip("scipy.signal")
    for name in sorted(WINDOWS):  # every name, SciPy's aliases included
        for length in (1, 2, 5, 8, 31):
            for periodic in (False, True):
                np.testing.assert_allclose(get_window(name, length, periodic),
                                           signal.get_window(name, length, fftbins=periodic),
                                           atol=1e-12, err_msg=f"{name} {length} {periodic}")


def test_window_suffixes_and_known_values():
    np.testing.assert_allclose(get_window("hann", 4), [0.0, 0.75, 0.75, 0.0])
    np.testing.assert_allclose(get_window("hann", 4, periodic=True), [0.0, 0.5, 1.0, 0.5])
    np.testing.assert_allclose(get_window("hann_periodic", 4), get_window("hann", 4, True))
    np.testing.assert_allclose(get_window("hann_symmetric", 4, True), get_window("hann", 4))
    np.testing.assert_allclose(get_window("boxcar", 3), [1.0, 1.0, 1.0])


def test_unknown_window_names_the_choices_and_the_fix():
    with pytest.raises(ValueError, match="hann.*scipy.signal.get_window"):
        STFT("real", "kaiser")
    with pytest.raises(ValueError, match="unknown window"):
        STFTSpectrogram(window="nope")


def test_kernel_is_the_dft_of_each_frame():
    # Unwindowed, unscaled: conv with the kernel equals numpy's rfft of the frame.
    frame = np.random.default_rng(0).normal(size=8)
    real = np.asarray(stft_kernel((8, 1, 5), window=None, side="real"))[:, 0, :]
    imag = np.asarray(stft_kernel((8, 1, 5), window=None, side="imag"))[:, 0, :]
    spectrum = np.fft.rfft(frame)
    np.testing.assert_allclose(frame @ real, spectrum.real, atol=1e-5)
    np.testing.assert_allclose(frame @ imag, spectrum.imag, atol=1e-5)


def test_window_scaling():
    win = get_window("hamming", 16)
    base = np.asarray(stft_kernel((16, 1, 9), window=None))
    for scaling, norm in (("density", np.sqrt(np.sum(win ** 2))), ("spectrum", win.sum()),
                          (None, 1.0)):
        kernel = np.asarray(STFT("real", "hamming", scaling)((16, 1, 9)))
        np.testing.assert_allclose(kernel, base * win[:, None, None] / norm, atol=1e-6)


def test_initializer_arguments_are_checked():
    with pytest.raises(ValueError, match="'real' or 'imag'"):
        STFT("imaginary")
    with pytest.raises(ValueError, match="density"):
        STFT("real", scaling="l2")
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        STFT("real", np.ones(5))((8, 1, 5))


@pytest.mark.parametrize("name", ["STFT", "stft", "STFTInitializer"])
def test_initializer_is_registered_under_keras_names(name):
    assert _registry.lookup(name, "initializers") is STFT
    built = _serialization.build(name, "initializers")
    assert isinstance(built, STFT) and built.side == "real"


def test_initializer_serialization_round_trip():
    init = STFT("imag", np.hanning(6), None, True)
    config = json.loads(json.dumps(_serialization.serialize(init)))
    assert config["class_name"] == "STFT" and config["module"] == "keras.initializers"
    back = _serialization.deserialize(config, "initializers")
    np.testing.assert_allclose(back((6, 1, 4)), init((6, 1, 4)))
    assert back.get_config() == init.clone().get_config()
    np.testing.assert_allclose(init.sample(jax.random.key(0), (6, 1, 4)), init((6, 1, 4)))


# -- STFTSpectrogram ---------------------------------------------------------------------------

@pytest.mark.parametrize("data_format,expand,expected", [
    ("channels_last", False, (2, 11, 2 * 9)), ("channels_last", True, (2, 11, 9, 2)),
    ("channels_first", False, (2, 2 * 9, 11)), ("channels_first", True, (2, 2, 11, 9))])
def test_stft_output_layouts(data_format, expand, expected):
    x = SIGNAL if data_format == "channels_last" else SIGNAL.transpose(0, 2, 1)
    layer = STFTSpectrogram(frame_length=16, frame_step=8, data_format=data_format,
                            expand_dims=expand)
    out = layer(x)
    assert out.shape == expected
    assert layer.compute_output_shape(x.shape) == expected


def test_stft_layouts_hold_the_same_values():
    args = dict(mode="magnitude", frame_length=16, frame_step=8)
    last = np.asarray(STFTSpectrogram(expand_dims=True, **args)(SIGNAL))  # (b, t, f, c)
    flat = np.asarray(STFTSpectrogram(**args)(SIGNAL))  # (b, t, c * f)
    np.testing.assert_allclose(flat, last.transpose(0, 1, 3, 2).reshape(flat.shape))
    first = np.asarray(STFTSpectrogram(data_format="channels_first", expand_dims=True,
                                       **args)(SIGNAL.transpose(0, 2, 1)))  # (b, c, t, f)
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2), rtol=1e-6)


def test_stft_modes_are_consistent():
    args = dict(frame_length=16, frame_step=4, fft_length=32)
    real, imag, stft, mag, log, psd, angle = (
        np.asarray(STFTSpectrogram(mode=m, **args)(SIGNAL[..., :1]))
        for m in ("real", "imag", "stft", "magnitude", "log", "psd", "angle"))
    np.testing.assert_allclose(stft, np.concatenate([real, imag], -1))
    np.testing.assert_allclose(mag, np.sqrt(real ** 2 + imag ** 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log, np.log(mag), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(angle, np.arctan2(imag, real), atol=1e-6)
    power = mag ** 2
    np.testing.assert_allclose(psd[..., 1:-1], 2 * power[..., 1:-1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(psd[..., [0, -1]], power[..., [0, -1]], rtol=1e-4, atol=1e-6)


def test_stft_matches_numpy_rfft_of_windowed_frames():
    x = SIGNAL[:1, :, :1]
    layer = STFTSpectrogram(mode="stft", frame_length=16, frame_step=8, fft_length=16,
                            window="hann", scaling=None)
    out = np.asarray(layer(x))[0]
    win = get_window("hann", 16)
    frames = np.stack([x[0, i:i + 16, 0] * win for i in range(0, 96 - 16 + 1, 8)])
    spectrum = np.fft.rfft(frames, axis=-1)
    np.testing.assert_allclose(out, np.concatenate([spectrum.real, spectrum.imag], -1),
                               atol=1e-4)


def test_stft_weights_follow_the_mode():
    for mode, names in (("real", ["real_kernel"]), ("imag", ["imag_kernel"]),
                        ("log", ["real_kernel", "imag_kernel"])):
        layer = STFTSpectrogram(mode=mode, frame_length=8)
        layer.build((None, 32, 1))
        assert [w.name for w in layer.weights] == names
        assert all(w.shape == (8, 1, 5) for w in layer.weights)


def test_stft_defaults_and_argument_errors():
    layer = STFTSpectrogram(frame_length=20)
    assert (layer._frame_step, layer._fft_length) == (10, 32)
    for kwargs, match in ((dict(mode="db"), "mode"), (dict(frame_step=0), "frame_step"),
                          (dict(frame_length=8, fft_length=4), "fft_length"),
                          (dict(padding="causal"), "padding"), (dict(scaling="l1"), "scaling")):
        with pytest.raises(ValueError, match=match):
            STFTSpectrogram(**kwargs)
    with pytest.warns(UserWarning, match="power of two"):
        STFTSpectrogram(frame_length=8, fft_length=12)
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        STFTSpectrogram(frame_length=8)(jnp.ones((1, 32, 1), jnp.int32))
    with pytest.raises(ValueError):
        STFTSpectrogram(frame_length=8)(jnp.ones((32, 1)))  # needs (batch, time, channels)


def test_stft_jit_and_trainable_kernels():
    layer = STFTSpectrogram(mode="magnitude", frame_length=16, frame_step=8)
    layer.build(SIGNAL.shape)
    out = jax.jit(lambda x: layer(x))(SIGNAL)
    np.testing.assert_allclose(out, layer(SIGNAL), rtol=1e-6)
    assert len(layer.trainable_weights) == 2
    frozen = STFTSpectrogram(frame_length=16, trainable=False)
    frozen.build(SIGNAL.shape)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2

    def loss(values, x):
        out, _ = layer.stateless_call(values, [], x)
        return jnp.sum(out)
    grads = jax.grad(loss)([w.value for w in layer.trainable_weights], SIGNAL)
    assert all(float(jnp.abs(g).max()) > 0 for g in grads)


def test_stft_config_round_trip():
    layer = STFTSpectrogram(mode="psd", frame_length=16, frame_step=4, fft_length=32,
                            window=np.hamming(16), periodic=True, scaling="spectrum",
                            padding="same", expand_dims=True, data_format="channels_first")
    config = json.loads(json.dumps(layer.get_config()))
    back = STFTSpectrogram.from_config(config)
    assert back.get_config() == config
    x = SIGNAL.transpose(0, 2, 1)
    np.testing.assert_allclose(back(x), layer(x), rtol=1e-6)


# -- MelSpectrogram ----------------------------------------------------------------------------

def test_mel_matrix_is_triangular_filters():
    weights = np.asarray(linear_to_mel_weight_matrix(6, 33, 8000, 100.0, 3500.0))
    assert weights.shape == (33, 6)
    assert np.all(weights[0] == 0)  # the DC bin is excluded (HTK)
    assert np.all((weights >= 0) & (weights <= 1))
    peaks = weights.argmax(axis=0)
    assert np.all(np.diff(peaks) > 0)  # band centres ascend
    assert float(hertz_to_mel(0.0)) == 0.0
    np.testing.assert_allclose(float(hertz_to_mel(1000.0)), 1127 * np.log(1 + 1000 / 700),
                               rtol=1e-6)


def test_mel_shapes_jit_and_db_clipping():
    x = SIGNAL[..., 0]
    layer = MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=10, top_db=30.0)
    out = layer(x)
    assert out.shape == (2, 10, 96 // 8 + 1)
    assert layer(x[0]).shape == (10, 13)
    assert layer.compute_output_shape((2, 96)) == out.shape
    # 95: Keras's formula, (95 + 8 + 1) // 8 = 13, says one frame more than there is.
    assert layer.compute_output_shape((2, 95)) == layer(x[:, :95]).shape == (2, 10, 12)
    assert layer.compute_output_shape((None, None)) == (None, 10, None)
    np.testing.assert_allclose(jax.jit(layer.__call__)(x[:1]), layer(x[:1]), rtol=1e-5,
                               atol=1e-4)
    assert float(out.max() - out.min()) <= 30.0 + 1e-4
    power = MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=10,
                           power_to_db=False)(x)
    np.testing.assert_allclose(out, np.maximum(10 * np.log10(np.maximum(power, 1e-10)),
                                               10 * np.log10(power.max()) - 30.0),
                               rtol=1e-4, atol=1e-3)


def test_mel_arguments_and_config():
    with pytest.raises(ValueError, match="sequence_length"):
        MelSpectrogram(fft_length=16, sequence_length=32)
    with pytest.raises(ValueError, match="window"):
        MelSpectrogram(window="blackman")
    layer = MelSpectrogram(fft_length=64, sampling_rate=8000)
    assert (layer.sequence_length, layer.max_freq) == (64, 4000)
    config = json.loads(json.dumps(layer.get_config()))
    assert MelSpectrogram.from_config(config).get_config() == config
