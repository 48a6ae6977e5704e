"""Parity of the color augmentation layers with Keras 3 (JAX backend).

Random streams differ, so the training comparisons use collapsed factors (one fixed draw);
inference outputs and Keras's serialized configs are compared for every layer.
"""

import keras
import numpy as np
import pytest

import kiln.layers as L
from kiln.layers import (
    AutoContrast,
    RandomColorDegeneration,
    RandomGrayscale,
    RandomHue,
    RandomPosterization,
    RandomSaturation,
    Solarization,
)

X = np.random.default_rng(3).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
X_UNIT = (X / 255.0).astype("float32")
X_FLAT = X.copy()
X_FLAT[1, :, :, 2] = 40.0  # one constant channel: AutoContrast leaves it as it is
OURS = {c.__name__: c for c in (AutoContrast, RandomColorDegeneration, RandomGrayscale,
                                RandomHue, RandomPosterization, RandomSaturation, Solarization)}

DETERMINISTIC = [
    ("AutoContrast", {}, X_FLAT),
    ("AutoContrast", {"value_range": (0, 1)}, X_UNIT),
    ("RandomGrayscale", {"factor": 1.0}, X),
    ("Solarization", {}, X),
    ("Solarization", {"value_range": (0, 1)}, X_UNIT),
    ("RandomPosterization", {"factor": (3, 3)}, X),
    ("RandomPosterization", {"factor": (5, 5), "value_range": (0, 1)}, X_UNIT),
    ("RandomColorDegeneration", {"factor": (0.4, 0.4)}, X),
    ("RandomColorDegeneration", {"factor": (-0.7, -0.7)}, X),
    ("RandomSaturation", {"factor": (0.8, 0.8)}, X),
    ("RandomSaturation", {"factor": (0.2, 0.2), "value_range": (0, 1)}, X_UNIT),
    ("RandomHue", {"factor": (1.0, 1.0)}, X),  # +-half a turn: the same hue either way
    ("RandomHue", {"factor": (0.0, 0.0), "value_range": (0, 1)}, X_UNIT),
]


def close(a, b, tol=1e-3):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kwargs,x", DETERMINISTIC)
def test_fixed_draw_matches_keras(name, kwargs, x):
    ours = OURS[name](seed=1, **kwargs) if name != "AutoContrast" else OURS[name](**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    close(ours(x, training=True), theirs(x, training=True))


CONFIGS = [("AutoContrast", {"value_range": (0, 1)}),
           ("RandomGrayscale", {"factor": 0.3}),
           ("Solarization", {"addition_factor": 0.2, "threshold_factor": (0.1, 0.6)}),
           ("RandomPosterization", {"factor": 4, "value_range": (0, 1)}),
           ("RandomColorDegeneration", {"factor": 0.5}),
           ("RandomSaturation", {"factor": (0.3, 0.9)}),
           ("RandomHue", {"factor": 0.4, "value_range": (0, 1)})]


@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_inference_and_keras_config(name, kwargs):
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = L.deserialize(keras.layers.serialize(theirs))
    assert type(ours) is OURS[name]
    close(ours(X, training=False), theirs(X, training=False))
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    for key, value in theirs_config.items():
        if key not in ("dtype", "name", "trainable", "seed"):
            assert np.allclose(np.asarray(ours_config[key], float),
                               np.asarray(value, float)) if key != "data_format" else \
                ours_config[key] == value, key
