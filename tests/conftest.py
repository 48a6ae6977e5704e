"""Shared fixtures. Keras (a test-only dependency) is forced onto its JAX backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import sys

import numpy as np
import pytest

import kiln


@pytest.fixture
def rng():
    """A seeded NumPy generator, fresh for each test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_session():
    """Automatic names (`dense`, `auc_1`, ...) start over in every test, in kiln and in Keras."""
    kiln.backend.clear_session()
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=False)
    yield
