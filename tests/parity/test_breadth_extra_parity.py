"""Parity with Keras for the extra losses (CTC, Circle, CategoricalGeneralizedCrossEntropy)."""

import keras
import numpy as np
import pytest

import kiln

RNG = np.random.default_rng(0)
LABELS = np.array([[1, 2, 2, 0], [3, 1, 0, 0]], dtype="int32")
LOGITS = RNG.normal(size=(2, 6, 4)).astype("float32")
EMB = RNG.normal(size=(6, 5)).astype("float32")
EMB /= np.linalg.norm(EMB, axis=1, keepdims=True)
EMB_LABELS = np.array([0, 1, 0, 2, 1, 0], dtype="int32")
PROBS = RNG.dirichlet(np.ones(3), size=5).astype("float32")
INT_LABELS = np.array([0, 2, 1, 1, 0], dtype="int32")


def test_ctc_matches_keras():
    want = keras.losses.ctc(LABELS, LOGITS)
    np.testing.assert_allclose(kiln.losses.ctc(LABELS, LOGITS), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(float(kiln.losses.CTC()(LABELS, LOGITS)),
                               float(keras.losses.CTC()(LABELS, LOGITS)), rtol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}])
def test_circle_matches_keras(kwargs):
    np.testing.assert_allclose(kiln.losses.circle(EMB_LABELS, EMB, **kwargs),
                               keras.losses.circle(EMB_LABELS, EMB, **kwargs), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(float(kiln.losses.Circle(**kwargs)(EMB_LABELS, EMB)),
                               float(keras.losses.Circle(**kwargs)(EMB_LABELS, EMB)), rtol=1e-4)


def test_generalized_cross_entropy_matches_keras():
    want = keras.losses.categorical_generalized_cross_entropy(INT_LABELS, PROBS, 0.3)
    got = kiln.losses.categorical_generalized_cross_entropy(INT_LABELS, PROBS, 0.3)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    k = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.7)(INT_LABELS, PROBS)
    np.testing.assert_allclose(
        float(kiln.losses.CategoricalGeneralizedCrossEntropy(q=0.7)(INT_LABELS, PROBS)),
        float(k), rtol=1e-6)


@pytest.mark.parametrize("name", ["CTC", "Circle", "CategoricalGeneralizedCrossEntropy"])
def test_configs_match_keras(name):
    k_config = getattr(keras.losses, name)().get_config()
    assert getattr(kiln.losses, name)().get_config() == k_config


def test_initializer_aliases_match_keras():
    k_cfg = keras.initializers.OrthogonalInitializer(gain=1.5, seed=3).get_config()
    assert kiln.initializers.OrthogonalInitializer(gain=1.5, seed=3).get_config() == k_cfg
    k = keras.initializers.IdentityInitializer(gain=2.0)((3, 4))
    np.testing.assert_allclose(kiln.initializers.IdentityInitializer(gain=2.0)((3, 4)), k)
