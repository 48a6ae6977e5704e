"""Shared fixtures. Keras (a test-only dependency) is forced onto its JAX backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
# The tests' models are tiny: their time goes to XLA compiling, not running, programs. LLVM's
# optimization level 0 compiles about a quarter faster and every assertion (Keras parity
# included: Keras runs in the same process, under the same flags) holds. Benchmarks and users
# keep XLA's defaults; set before JAX starts, and only when the caller has not chosen a level.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_backend_optimization_level=0").strip()

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
