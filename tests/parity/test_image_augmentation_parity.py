"""Parity of the geometric augmentation layers with Keras 3 (JAX backend).

Random streams differ, so the comparisons use degenerate factors (one fixed draw) and the
inference path, for every fill_mode and interpolation, in both data formats.
"""

import keras
import numpy as np
import pytest

from kiln.layers._image_affine import RandomCrop, RandomRotation, RandomTranslation, RandomZoom

X = np.random.default_rng(3).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
X_ODD = np.random.default_rng(4).uniform(0, 255, size=(2, 7, 9, 2)).astype("float32")
MODES = ["reflect", "wrap", "constant", "nearest"]

CASES = {
    "rotation": (RandomRotation, keras.layers.RandomRotation, dict(factor=(0.25, 0.25))),
    "rotation_small": (RandomRotation, keras.layers.RandomRotation, dict(factor=(0.1, 0.1))),
    "zoom_in": (RandomZoom, keras.layers.RandomZoom, dict(height_factor=(-0.5, -0.5))),
    "zoom_out": (RandomZoom, keras.layers.RandomZoom,
                 dict(height_factor=(0.3, 0.3), width_factor=(-0.2, -0.2))),
    "translation": (RandomTranslation, keras.layers.RandomTranslation,
                    dict(height_factor=(0.25, 0.25), width_factor=(0.25, 0.25))),
    "translation_frac": (RandomTranslation, keras.layers.RandomTranslation,
                         dict(height_factor=(-0.15, -0.15), width_factor=(0.3, 0.3))),
}


def close(a, b, tol=1e-3):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# The three layers share one affine transform: rotation runs every fill_mode and both
# interpolations, translation (the most out-of-bounds pixels) every fill_mode, zoom two.
DEGENERATE = ([("rotation", m, "bilinear") for m in MODES]
              + [("rotation", "reflect", "nearest"), ("rotation", "constant", "nearest")]
              + [("translation", m, "bilinear") for m in MODES]
              + [("translation", "constant", "nearest"), ("zoom_in", "reflect", "bilinear"),
                 ("zoom_in", "wrap", "nearest")])


@pytest.mark.parametrize("case,fill_mode,interpolation", DEGENERATE)
def test_degenerate_factor_matches_keras(case, fill_mode, interpolation):
    ours, theirs, kwargs = CASES[case]
    kw = dict(kwargs, fill_mode=fill_mode, interpolation=interpolation, fill_value=7.0,
              seed=1)
    close(ours(**kw)(X, training=True), theirs(**kw)(X, training=True))


@pytest.mark.parametrize("case", ["rotation_small", "zoom_out", "translation_frac"])
def test_fractional_factor_on_odd_image_matches_keras(case):
    ours, theirs, kwargs = CASES[case]
    for fill_mode in ("reflect",):
        kw = dict(kwargs, fill_mode=fill_mode, fill_value=7.0, seed=1)
        close(ours(**kw)(X_ODD, training=True), theirs(**kw)(X_ODD, training=True))


@pytest.mark.parametrize("case", ["zoom_out"])
def test_channels_first_and_unbatched_match_keras(case):
    ours, theirs, kwargs = CASES[case]
    kw = dict(kwargs, data_format="channels_first", fill_mode="constant", seed=1)
    xf = np.transpose(X_ODD, (0, 3, 1, 2))
    close(ours(**kw)(xf, training=True), theirs(**kw)(xf, training=True))
    kw = dict(kwargs, seed=1)
    close(ours(**kw)(X_ODD[0], training=True), theirs(**kw)(X_ODD[0], training=True))


def test_rotation_quarter_turn_is_exact():
    y = RandomRotation((0.25, 0.25), interpolation="nearest")(X, training=True)
    close(y, np.rot90(X, k=1, axes=(1, 2)), tol=1e-4)


@pytest.mark.parametrize("case", sorted(CASES))
def test_inference_is_identity_like_keras(case):
    ours, theirs, kwargs = CASES[case]
    close(ours(**kwargs)(X, training=False), theirs(**kwargs)(X, training=False))


def test_crop_inference_is_keras_center_crop():
    # Keras 3.x's RandomCrop returns its input unchanged at inference (so the output shape
    # differs from training's); kiln center-crops instead, exactly as Keras's CenterCrop.
    for size in [(4, 4), (5, 6), (10, 12)]:
        close(RandomCrop(*size)(X_ODD, training=False),
              keras.layers.CenterCrop(*size)(X_ODD))


@pytest.mark.parametrize("size", [(10, 12), (8, 5)])
def test_crop_training_on_small_image_matches_keras(size):
    for x in (X,):
        close(RandomCrop(*size)(x, training=True), keras.layers.RandomCrop(*size)(x, training=True))


@pytest.mark.parametrize("case", sorted(CASES) + ["crop"])
def test_config_keys_match_keras(case):
    if case == "crop":
        ours, theirs = RandomCrop(4, 4, seed=1), keras.layers.RandomCrop(4, 4, seed=1)
    else:
        cls, kcls, kwargs = CASES[case]
        ours, theirs = cls(seed=1, **kwargs), kcls(seed=1, **kwargs)
    assert set(theirs.get_config()) - set(ours.get_config()) <= {"value_range"}
