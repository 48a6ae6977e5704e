"""Shared fixtures. Keras (a test-only dependency) is forced onto its JAX backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
# The tests' models are tiny: their time goes to XLA compiling, not running, programs. Two
# XLA CPU settings compile them about twice as fast, and every assertion (Keras parity
# included: Keras runs in the same process, under the same flags) holds: LLVM's optimization
# level 0, and the classic loop emitters instead of the MLIR fusion emitters (measured on a
# fit of Keras and kiln: 2.2 s -> 1.2 s). Benchmarks and users keep XLA's defaults; set before
# JAX starts, each only when the caller has not chosen it.
for _flag, _value in (("xla_backend_optimization_level", "0"),
                      ("xla_cpu_use_fusion_emitters", "false")):
    if _flag not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --{_flag}={_value}").strip()
# Parity is asserted at float32's precision: on GPUs, XLA's default float32 matmul uses
# TF32 (10-bit mantissa), off by ~1e-4 between two different but equivalent programs.
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")

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
