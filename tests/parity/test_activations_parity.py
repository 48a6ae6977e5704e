"""kiln.activations and kiln.ops against Keras 3 (JAX backend)."""

import warnings

import keras
import numpy as np
import pytest
from keras.src.activations import ALL_OBJECTS_DICT as KERAS_ACTIVATIONS

from kiln import activations, ops
from kiln._variables import Variable

# Ordinary values, values near the kinks (0, +-1, +-3, +-6) and large magnitudes.
GRID = np.concatenate([
    np.linspace(-8, 8, 161),
    [-1e4, -500.0, -88.0, -30.0, -20.0, 20.0, 30.0, 88.0, 500.0, 1e4, -0.0, 1e-7, -1e-7],
]).astype(np.float32)

# (name, kwargs) cases; every Keras activation appears at least once.
CASES = [
    ("relu", {}), ("relu", {"negative_slope": 0.1}), ("relu", {"max_value": 6.0}),
    ("relu", {"max_value": 2.5}), ("relu", {"threshold": 1.5}),
    ("relu", {"negative_slope": 0.3, "max_value": 4.0, "threshold": -1.0}),
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.01}), ("relu6", {}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 2.0}),
    ("gelu", {}), ("gelu", {"approximate": True}), ("silu", {}), ("swish", {}), ("mish", {}),
    ("hard_silu", {}), ("hard_swish", {}), ("sigmoid", {}), ("hard_sigmoid", {}),
    ("sparse_sigmoid", {}), ("log_sigmoid", {}), ("tanh", {}), ("hard_tanh", {}),
    ("tanh_shrink", {}), ("softplus", {}), ("softsign", {}), ("sparse_plus", {}),
    ("squareplus", {}), ("squareplus", {"b": 1.0}), ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 1.0}), ("hard_shrink", {}), ("hard_shrink", {"threshold": 2}),
    ("threshold", {"threshold": 0.5, "default_value": -1.0}), ("exponential", {}),
    ("linear", {}), ("softmax", {}), ("softmax", {"axis": 0}), ("log_softmax", {}),
    ("log_softmax", {"axis": 0}), ("glu", {}), ("glu", {"axis": 0}),
]


def _case_id(case):
    name, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_activation_matches_keras(case):
    name, kwargs = case
    x = GRID[:174].reshape(6, 29) if name in ("softmax", "log_softmax", "glu") else GRID
    if name == "glu":
        x = x[:, :28] if kwargs.get("axis", -1) == -1 else x
    want = np.asarray(getattr(keras.activations, name)(x, **kwargs))
    got = np.asarray(activations.get(name)(x, **kwargs))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_every_keras_activation_name_is_registered():
    assert set(KERAS_ACTIVATIONS) == set(activations.ACTIVATIONS)
    tested = {name for name, _ in CASES} | {"sparsemax"}
    assert tested == set(KERAS_ACTIVATIONS)


def test_serialize_gives_keras_names():
    for name, fn in activations.ACTIVATIONS.items():
        assert activations.serialize(fn) == keras.activations.serialize(KERAS_ACTIVATIONS[name])


def test_sparsemax_matches_keras_where_keras_is_right():
    # Keras 3.15's JAX sparsemax sums the cumulative sums over the support when computing the
    # threshold, which is only correct when the support has one element (rows that already
    # sum to 1 elsewhere come out all-zero). kiln computes the true projection
    # (tests/test_activations.py); here we check agreement on single-support rows.
    x = np.array([[0.1, 0.5, 0.3, 2.0], [-3.0, 4.0, 0.0, 1.0]], np.float32)
    np.testing.assert_allclose(activations.sparsemax(x), keras.activations.sparsemax(x),
                               atol=1e-7)


# -- kiln.ops --------------------------------------------------------------------------------
def test_every_op_is_a_keras_op():
    missing = [name for name in ops.__all__ if not hasattr(keras.ops, name)]
    assert missing == []
    required = ("matmul dot add subtract multiply divide mean sum max min abs square sqrt exp "
                "log clip where reshape transpose concatenate stack expand_dims squeeze cast "
                "convert_to_tensor zeros ones zeros_like ones_like argmax argmin equal greater "
                "less maximum minimum sigmoid relu softmax tanh one_hot shape power einsum "
                "log1p logical_and logical_or norm std var").split()
    assert [n for n in required if n not in ops.__all__] == []


A = np.arange(-6, 6, dtype=np.float32).reshape(3, 4) / 3.0
B = np.linspace(-1, 2, 12, dtype=np.float32).reshape(4, 3)
POS = np.abs(A) + 0.5
IDX = np.array([0, 2, 1, 5], np.int32)

OP_CASES = [
    ("matmul", (A, B), {}), ("dot", (A, B), {}), ("add", (A, 1.5), {}),
    ("subtract", (A, A[::-1]), {}), ("multiply", (A, A), {}), ("divide", (A, POS), {}),
    ("power", (POS, 1.7), {}), ("maximum", (A, 0.2), {}), ("minimum", (A, 0.2), {}),
    ("equal", (A, 0.0), {}), ("greater", (A, 0.0), {}), ("less", (A, 0.0), {}),
    ("logical_and", (A > 0, A < 1), {}), ("logical_or", (A > 1, A < -1), {}),
    ("mean", (A,), {}), ("mean", (A,), {"axis": 0}), ("mean", (IDX,), {}),
    ("sum", (A,), {"axis": 1, "keepdims": True}), ("max", (A,), {"axis": -1}),
    ("min", (A,), {}), ("std", (A,), {"axis": 0}), ("var", (A,), {"axis": 1}),
    ("argmax", (A,), {"axis": 1}), ("argmin", (A,), {"axis": 0}), ("abs", (A,), {}),
    ("square", (A,), {}), ("sqrt", (POS,), {}), ("exp", (A,), {}), ("log", (POS,), {}),
    ("log1p", (POS,), {}), ("clip", (A, -0.5, 0.5), {}), ("where", (A > 0, A, -A), {}),
    ("reshape", (A, (4, 3)), {}), ("transpose", (A,), {}), ("transpose", (A, (1, 0)), {}),
    ("concatenate", ([A, A],), {"axis": 1}), ("stack", ([A, A],), {"axis": 0}),
    ("expand_dims", (A, 1), {}), ("squeeze", (A[:1],), {}), ("cast", (A, "int32"), {}),
    ("convert_to_tensor", ([1.0, 2.0],), {}), ("zeros", ((2, 3),), {}), ("ones", ((2,),), {}),
    ("zeros_like", (A,), {}), ("ones_like", (IDX,), {}), ("sigmoid", (A,), {}),
    ("relu", (A,), {}), ("softmax", (A,), {}), ("softmax", (A,), {"axis": 0}),
    ("tanh", (A,), {}), ("one_hot", (IDX, 4), {}), ("einsum", ("ij,jk->ik", A, B), {}),
    ("norm", (A,), {}), ("norm", (A,), {"axis": 1}), ("logsumexp", (A,), {"axis": 1}),
    ("gelu", (A,), {}), ("leaky_relu", (A,), {}), ("full", ((2, 2), 3), {}),
    ("eye", (3,), {}), ("top_k", (A, 2), {}), ("cumsum", (A,), {"axis": 1}),
    ("take", (A, IDX[:3], 1), {}), ("erf", (A,), {}), ("rsqrt", (POS,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", OP_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OP_CASES)])
def test_op_matches_keras(name, args, kwargs):
    want = getattr(keras.ops, name)(*args, **kwargs)
    got = getattr(ops, name)(*args, **kwargs)
    for w, g in zip(*(r if isinstance(r, tuple) else (r,) for r in (want, got))):
        w, g = np.asarray(w), np.asarray(g)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_ops_accept_variables_everywhere():
    a, b = Variable(A, name="a"), Variable(B, name="b")
    np.testing.assert_allclose(ops.matmul(a, b), A @ B, rtol=1e-6)
    np.testing.assert_allclose(ops.concatenate([a, A], axis=0), np.concatenate([A, A]))
    np.testing.assert_allclose(ops.einsum("ij,jk->ik", a, b), A @ B, rtol=1e-6)
    np.testing.assert_allclose(ops.clip(a, x_min=-0.5, x_max=0.5), np.clip(A, -0.5, 0.5))
    assert ops.shape(a) == (3, 4) and isinstance(ops.shape(a), tuple)
    assert ops.cast(a, "int32").dtype == np.int32


def test_softmax_activation_warning_matches_keras():
    with pytest.warns(UserWarning):
        keras.activations.softmax(np.ones((3, 1), np.float32))
    with pytest.warns(UserWarning):
        activations.softmax(np.ones((3, 1), np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        activations.softmax(np.ones((3, 2), np.float32), axis=0)
