"""kiln.losses against keras.losses (JAX backend) on the same NumPy inputs.

Every function and class, each option, every reduction, with and without sample weights.
Probabilities include exact 0/1 and values within 1e-9 of them, to exercise clipping.
"""

import functools

import keras
import numpy as np
import pytest

import kiln.losses as kl

RTOL, ATOL = 1e-5, 1e-6
N, C = 16, 5


def _probs(rng, shape):
    p = rng.uniform(0.01, 0.99, size=shape).astype("float32")
    flat = p.reshape(-1)
    flat[:4] = [0.0, 1.0, 1e-9, 1 - 1e-9]  # clipped to [eps, 1 - eps]
    return p


def _data():
    rng = np.random.default_rng(1234)
    onehot = np.eye(C, dtype="float32")[rng.integers(0, C, N)]
    labels = rng.integers(0, C, N)
    pos = rng.uniform(0.1, 3.0, (N, C)).astype("float32")
    reg_true = rng.normal(size=(N, C)).astype("float32")
    reg_true[0, :2] = 0.0  # MAPE divides by max(|y|, eps)
    dist = rng.uniform(size=(N, C)).astype("float32")
    return {
        "binary": (rng.integers(0, 2, (N, C)).astype("float32"), _probs(rng, (N, C))),
        "binary_int": (rng.integers(0, 2, (N, C)), _probs(rng, (N, C))),
        "binary_logits": (rng.integers(0, 2, (N, C)).astype("float32"),
                          rng.normal(scale=4, size=(N, C)).astype("float32")),
        "binary_column": (rng.integers(0, 2, N).astype("float32"), _probs(rng, (N, 1))),
        "onehot": (onehot, _probs(rng, (N, C))),  # rows not normalised: tests renormalising
        "onehot_logits": (onehot, rng.normal(scale=4, size=(N, C)).astype("float32")),
        "onehot_axis1": (np.moveaxis(np.eye(C, dtype="float32")[rng.integers(0, C, (N, 3))], -1, 1),
                         _probs(rng, (N, C, 3))),
        "sparse": (labels, _probs(rng, (N, C))),
        "sparse_column": (labels[:, None], _probs(rng, (N, C))),
        "sparse_logits": (labels, rng.normal(scale=4, size=(N, C)).astype("float32")),
        "sparse_seq": (rng.integers(0, C, (N, 4)), rng.normal(size=(N, 4, C)).astype("float32")),
        "sparse_out_of_range": (np.where(np.arange(N) % 5 == 0, C + 2, labels) - (np.arange(N) == 1),
                                _probs(rng, (N, C))),
        "regression": (reg_true, rng.normal(size=(N, C)).astype("float32")),
        "regression_column": (rng.normal(size=N).astype("float32"),
                              rng.normal(size=(N, 1)).astype("float32")),
        "positive": (rng.uniform(0, 3, (N, C)).astype("float32"), pos),
        "counts": (rng.poisson(2.0, (N, C)).astype("float32"), pos),
        "dist": (dist / dist.sum(-1, keepdims=True), _probs(rng, (N, C))),
        "hinge_pm1": (np.where(rng.uniform(size=(N, C)) > 0.5, 1.0, -1.0).astype("float32"),
                      rng.normal(size=(N, C)).astype("float32")),
        "masks": (rng.integers(0, 2, (N, 6, 6, 1)).astype("float32"), _probs(rng, (N, 6, 6, 1))),
    }


DATA = _data()

# (function name, class name, keyword arguments, data)
CASES = [
    ("binary_crossentropy", "BinaryCrossentropy", {}, "binary"),
    ("binary_crossentropy", "BinaryCrossentropy", {}, "binary_int"),
    ("binary_crossentropy", "BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    ("binary_crossentropy", "BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("binary_crossentropy", "BinaryCrossentropy",
     {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    ("binary_crossentropy", "BinaryCrossentropy", {"axis": 0}, "binary"),
    ("binary_crossentropy", "BinaryCrossentropy", {}, "binary_column"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {}, "onehot"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
    ("categorical_crossentropy", "CategoricalCrossentropy",
     {"from_logits": True, "label_smoothing": 0.3}, "onehot_logits"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {"axis": 1}, "onehot_axis1"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", {}, "sparse_column"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
     {"from_logits": True}, "sparse_logits"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
     {"from_logits": True}, "sparse_seq"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
     {"ignore_class": 2}, "sparse"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
     {"ignore_class": 2}, "sparse_column"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
     {"ignore_class": 0, "from_logits": True}, "sparse_seq"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
     {}, "sparse_out_of_range"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy", {}, "binary"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy",
     {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "label_smoothing": 0.1},
     "binary"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy",
     {"from_logits": True, "apply_class_balancing": True}, "binary_logits"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", {}, "onehot"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy",
     {"alpha": 0.5, "gamma": 3.0, "label_smoothing": 0.2}, "onehot"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy",
     {"from_logits": True}, "onehot_logits"),
    ("mean_squared_error", "MeanSquaredError", {}, "regression"),
    ("mean_squared_error", "MeanSquaredError", {}, "regression_column"),
    ("mean_absolute_error", "MeanAbsoluteError", {}, "regression"),
    ("mean_absolute_error", "MeanAbsoluteError", {}, "regression_column"),
    ("mean_absolute_percentage_error", "MeanAbsolutePercentageError", {}, "regression"),
    ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", {}, "regression"),
    ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", {}, "positive"),
    ("cosine_similarity", "CosineSimilarity", {}, "regression"),
    ("cosine_similarity", "CosineSimilarity", {"axis": 0}, "regression"),
    ("huber", "Huber", {}, "regression"),
    ("huber", "Huber", {"delta": 0.5}, "regression"),
    ("log_cosh", "LogCosh", {}, "regression"),
    ("hinge", "Hinge", {}, "binary_logits"),
    ("hinge", "Hinge", {}, "hinge_pm1"),
    ("squared_hinge", "SquaredHinge", {}, "binary_logits"),
    ("squared_hinge", "SquaredHinge", {}, "hinge_pm1"),
    ("categorical_hinge", "CategoricalHinge", {}, "onehot_logits"),
    ("kl_divergence", "KLDivergence", {}, "dist"),
    ("poisson", "Poisson", {}, "counts"),
    ("dice", "Dice", {}, "masks"),
    ("dice", "Dice", {"axis": (1, 2, 3)}, "masks"),
    ("tversky", "Tversky", {}, "masks"),
    ("tversky", "Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2, 3)}, "masks"),
]
CASE_IDS = [f"{fn}-{data}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for fn, _, kw, data in CASES]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


@functools.lru_cache(maxsize=None)
def _keras_loss(cls_name, kwargs_items, reduction):
    return getattr(keras.losses, cls_name)(reduction=reduction, **dict(kwargs_items))


@functools.lru_cache(maxsize=None)
def _weights(fn_name, kwargs_items, data, kind):
    """Sample weights shaped like the per-sample losses (some zero); None for kind='none'.

    'column' adds a trailing size-1 axis (Keras squeezes it away, or expands rank-1 losses).
    """
    if kind == "none":
        return None
    y_true, y_pred = DATA[data]
    shape = np.shape(getattr(keras.losses, fn_name)(*_ranked(data, y_true, y_pred),
                                                   **dict(kwargs_items)))
    shape = shape or (N,)  # a scalar loss (Dice over all axes) broadcasts against any weights
    w = np.random.default_rng(7).uniform(0, 2, size=shape).astype("float32")
    w.reshape(-1)[::4] = 0.0
    return w[..., None] if kind == "column" else w


def _ranked(data, y_true, y_pred):
    if data == "binary_column":  # the BCE function does not match ranks (Keras raises)
        y_true = y_true[:, None]
    return y_true, y_pred


def _close(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("fn_name, cls_name, kwargs, data", CASES, ids=CASE_IDS)
def test_function_matches_keras(fn_name, cls_name, kwargs, data):
    y_true, y_pred = _ranked(data, *DATA[data])
    _close(getattr(kl, fn_name)(y_true, y_pred, **kwargs),
           getattr(keras.losses, fn_name)(y_true, y_pred, **kwargs))


# Every reduction with weights; the unweighted and (N, 1)-weighted paths on the main ones.
WEIGHTINGS = [(r, "flat") for r in REDUCTIONS] + [
    (r, w) for w in ("none", "column") for r in ("sum_over_batch_size", "mean_with_sample_weight")]


@pytest.mark.parametrize("reduction, weights", WEIGHTINGS, ids=[f"{r}-{w}" for r, w in WEIGHTINGS])
@pytest.mark.parametrize("fn_name, cls_name, kwargs, data", CASES, ids=CASE_IDS)
def test_class_matches_keras(fn_name, cls_name, kwargs, data, reduction, weights):
    y_true, y_pred = DATA[data]
    sample_weight = _weights(fn_name, tuple(kwargs.items()), data, weights)
    expected = _keras_loss(cls_name, tuple(kwargs.items()), reduction)(
        y_true, y_pred, sample_weight=sample_weight)
    actual = getattr(kl, cls_name)(reduction=reduction, **kwargs)(
        y_true, y_pred, sample_weight=sample_weight)
    _close(actual, expected)


@pytest.mark.parametrize("fn_name, cls_name, kwargs, data", CASES, ids=CASE_IDS)
def test_default_config_and_name_match_keras(fn_name, cls_name, kwargs, data):
    expected = _keras_loss(cls_name, tuple(kwargs.items()), "sum_over_batch_size").get_config()
    actual = getattr(kl, cls_name)(**kwargs).get_config()
    # Keras leaves some arguments out of its configs (Huber's delta, CosineSimilarity's axis,
    # SparseCategoricalCrossentropy's axis); kiln keeps them so configs round-trip.
    assert {k: v for k, v in actual.items() if k in expected} == expected


@pytest.mark.parametrize("name", ["mse", "MAE", "bce", "kld", "mape", "MSLE",
                                  "categorical_crossentropy", "huber", "poisson"])
def test_string_loss_matches_keras(name):
    """A compile string resolves to the same function as in Keras (same values)."""
    fn, kfn = kl.get(name), keras.losses.get(name)
    assert fn.__name__ == kfn.__name__
    y_true, y_pred = DATA["dist"]
    _close(fn(y_true, y_pred), kfn(y_true, y_pred))


def test_float16_loss_dtype_matches_keras():
    y_true, y_pred = DATA["binary"]
    expected = keras.losses.BinaryCrossentropy(dtype="float16")(y_true, y_pred)
    actual = kl.BinaryCrossentropy(dtype="float16")(y_true, y_pred)
    assert str(actual.dtype) == str(expected.dtype) == "float16"
    np.testing.assert_allclose(np.float32(actual), np.float32(expected), rtol=1e-3)
