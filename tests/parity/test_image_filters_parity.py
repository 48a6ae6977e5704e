"""Parity of RandomSharpness, Equalization and RandomColorJitter with Keras 3 (JAX backend).

Equalization is deterministic and compared directly; the random layers are compared with
collapsed factors (one fixed draw) in training, and at inference (the identity). Keras's
serialized configs are rebuilt by kiln and compared key by key.
"""

import keras
import numpy as np
import pytest

import kiln.layers as L
from kiln.layers import Equalization, RandomColorJitter, RandomSharpness

RNG = np.random.default_rng(3)
X = RNG.uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
X_INT = np.round(X)  # many values on bin edges
X_INT[..., 2] = 40.0  # one constant channel: Equalization keeps it
X_UNIT = (X / 255.0).astype("float32")
OURS = {c.__name__: c for c in (Equalization, RandomColorJitter, RandomSharpness)}
COLLAPSED = {"brightness_factor": (0.1, 0.1), "contrast_factor": 0.0,
                 "saturation_factor": (0.7, 0.7), "hue_factor": (1.0, 1.0)}

CASES = [
    ("Equalization", {}, X_INT),
    ("Equalization", {"bins": 16}, X),
    ("Equalization", {"value_range": (0, 1), "bins": 16}, X_UNIT),
    ("RandomSharpness", {"factor": (0.0, 0.0)}, X),
    ("RandomSharpness", {"factor": (0.9, 0.9)}, X),
    ("RandomSharpness", {"factor": (1.0, 1.0), "value_range": (0, 1)}, X_UNIT),
    ("RandomColorJitter", COLLAPSED, X),
    ("RandomColorJitter", {"value_range": (0, 1), "brightness_factor": (-0.2, -0.2),
                           "saturation_factor": (0.3, 0.3)}, X_UNIT),
]


def close(a, b, tol=1e-3):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kwargs,x", CASES)
def test_training_output_matches_keras(name, kwargs, x):
    ours, theirs = OURS[name](**kwargs), getattr(keras.layers, name)(**kwargs)
    scale = 255.0 if x.max() <= 1.0 else 1.0  # compare on the 0..255 scale
    close(np.asarray(ours(x, training=True)) * scale,
          np.asarray(theirs(x, training=True)) * scale)


CONFIGS = [("Equalization", {"value_range": (0, 1), "bins": 64}),
           ("RandomSharpness", {"factor": 0.4, "value_range": (0, 1), "seed": 5}),
           ("RandomSharpness", {"factor": (0.2, 0.8)}),
           ("RandomColorJitter", {"brightness_factor": 0.2, "contrast_factor": (0.3, 0.1),
                                  "saturation_factor": (0.4, 0.6), "hue_factor": 0.1,
                                  "seed": 2})]


@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_inference_and_keras_config(name, kwargs):
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = L.deserialize(keras.layers.serialize(theirs))
    assert type(ours) is OURS[name]
    x = X_UNIT if kwargs.get("value_range") == (0, 1) else X
    close(ours(x, training=False), theirs(x, training=False))
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    for key, value in theirs_config.items():
        if key in ("dtype", "name", "trainable"):
            continue
        if isinstance(value, (int, float, tuple, list)) and value is not None:
            assert np.allclose(np.asarray(ours_config[key], float),
                               np.asarray(value, float)), key
        else:
            assert ours_config[key] == value, key


def test_kiln_config_rebuilds_in_keras():
    ours = RandomColorJitter(value_range=(0, 1), brightness_factor=(0.1, 0.1),
                             saturation_factor=(0.7, 0.7), seed=1)
    theirs = keras.layers.RandomColorJitter.from_config(ours.get_config())
    close(theirs(X_UNIT, training=True), ours(X_UNIT, training=True))
    sharp = RandomSharpness((0.3, 0.3), value_range=(0, 1))
    close(keras.layers.RandomSharpness.from_config(sharp.get_config())(X_UNIT, training=True),
          sharp(X_UNIT, training=True))
    equal = Equalization(bins=8)
    close(keras.layers.Equalization.from_config(equal.get_config())(X), equal(X))
