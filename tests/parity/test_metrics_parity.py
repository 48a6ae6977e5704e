"""kiln.metrics against Keras 3 (JAX backend): same results after several updates, same names."""

import jax
import keras
import numpy as np
import pytest

import kiln.metrics as km

N = 8


def _data(kind, rng):
    """One batch (y_true, y_pred) of the given kind."""
    if kind == "binary":  # (N, 1), with scores exactly at 0, 1 and the 0.5 threshold
        y_pred = rng.uniform(size=(N, 1)).astype("float32")
        y_pred[:3, 0] = [0.0, 1.0, 0.5]
        return rng.integers(0, 2, (N, 1)), y_pred
    if kind == "binary_flat":
        return rng.integers(0, 2, (N,)), rng.uniform(size=(N,)).astype("float32")
    if kind == "logits":
        return rng.integers(0, 2, (N, 1)), rng.normal(0, 3, (N, 1)).astype("float32")
    if kind == "onehot":
        y_true = np.eye(5, dtype="float32")[rng.integers(0, 5, N)]
        return y_true, rng.dirichlet(np.ones(5), N).astype("float32")
    if kind == "sparse":
        return rng.integers(0, 5, (N,)), rng.dirichlet(np.ones(5), N).astype("float32")
    if kind == "sparse_col_float":
        y_true = rng.integers(0, 5, (N, 1)).astype("float32")
        return y_true, rng.dirichlet(np.ones(5), N).astype("float32")
    if kind == "regression":
        return (rng.uniform(0.1, 2, (N, 3)).astype("float32"),
                rng.uniform(-0.5, 2, (N, 3)).astype("float32"))
    if kind == "regression_col":
        return (rng.uniform(0.1, 2, (N, 1)).astype("float32"),
                rng.uniform(0, 2, (N,)).astype("float32"))
    assert kind == "multilabel"
    return rng.integers(0, 2, (N, 4)), rng.uniform(size=(N, 4)).astype("float32")


CASES = [
    ("Accuracy", {}, "binary"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary_flat"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col_float"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("TopKCategoricalAccuracy", {}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse_col_float"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanSquaredError", {}, "regression_col"),
    ("MeanAbsoluteError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression_col"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "regression"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.2, 0.5, 0.9]}, "binary"),
    ("TrueNegatives", {"thresholds": [0.0, 0.5, 1.0]}, "binary_flat"),
    ("FalseNegatives", {}, "multilabel"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    ("Precision", {"top_k": 2}, "multilabel"),
    ("Precision", {"top_k": 1, "class_id": 1}, "multilabel"),
    ("Recall", {}, "binary_flat"),
    ("Recall", {"thresholds": [0.3, 0.7]}, "binary"),
    ("Recall", {"class_id": 2}, "multilabel"),
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary"),
    ("AUC", {"summation_method": "majoring"}, "binary_flat"),
    ("AUC", {"num_thresholds": 7}, "binary"),
    ("AUC", {"thresholds": [0.1, 0.5, 0.8]}, "binary"),
    ("AUC", {"curve": "PR", "thresholds": [0.8, 0.1, 0.5]}, "binary"),
    ("AUC", {"from_logits": True}, "logits"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("AUC", {"label_weights": [1.0, 2.0, 0.5, 1.0]}, "multilabel"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"multi_label": True, "curve": "PR"}, "multilabel"),
    ("AUC", {"multi_label": True, "num_labels": 4, "label_weights": [1, 2, 0.5, 1]},
     "multilabel"),
]


def _batches(kind, weighted, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        y_true, y_pred = _data(kind, rng)
        weight = rng.uniform(size=(N,)).astype("float32") if weighted else None
        out.append((y_true, y_pred, weight))
    return out


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{c[0]}-{c[2]}-{i}"
                                                        for i, c in enumerate(CASES)])
def test_result_matches_keras(name, kwargs, kind, weighted):
    ours, theirs = getattr(km, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y_true, y_pred, weight in _batches(kind, weighted):
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    expected = np.asarray(theirs.result())
    np.testing.assert_allclose(np.asarray(ours.result()), expected, rtol=1e-5, atol=1e-6)


TRIO_CASES = CASES[::6] + CASES[-2:]


@pytest.mark.parametrize("name,kwargs,kind", TRIO_CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(TRIO_CASES)])
def test_jitted_pure_trio_matches_keras(name, kwargs, kind):
    ours, theirs = getattr(km, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    batches = _batches(kind, weighted=True, seed=2)
    y0, p0, w0 = batches[0]
    state = ours.stateless_init(y0, p0, w0)
    update = jax.jit(ours.stateless_update)
    for y_true, y_pred, weight in batches:
        state = update(state, y_true, y_pred, weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    got = jax.jit(ours.stateless_result)(state)
    np.testing.assert_allclose(np.asarray(got), np.asarray(theirs.result()), rtol=1e-5,
                               atol=1e-6)


def test_auc_result_before_any_update_matches_keras():
    for kwargs in ({}, {"curve": "PR"}):
        np.testing.assert_allclose(km.AUC(**kwargs).result(),
                                   keras.metrics.AUC(**kwargs).result(), atol=1e-7)


def test_mean_and_sum_match_keras_with_rank_2_weights():
    rng = np.random.default_rng(3)
    for cls in ("Mean", "Sum"):
        ours, theirs = getattr(km, cls)(), getattr(keras.metrics, cls)()
        for _ in range(3):
            values = rng.normal(size=(4, 3, 2)).astype("float32")
            weight = rng.uniform(size=(4, 3)).astype("float32")
            ours.update_state(values, sample_weight=weight)
            theirs.update_state(values, sample_weight=weight)
        np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-5)


def test_reset_matches_keras():
    ours, theirs = km.AUC(), keras.metrics.AUC()
    y_true, y_pred, _ = _batches("binary", False)[0]
    for metric in (ours, theirs):
        metric.update_state(y_true, y_pred)
        metric.reset_state()
        metric.update_state(y_pred > 0.3, y_pred)
    np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-6)


ALL_CLASSES = sorted(set(c[0] for c in CASES) | {"Mean", "Sum"})


@pytest.mark.parametrize("name", ALL_CLASSES)
def test_default_names_and_directions_match_keras(name):
    keras.backend.clear_session()  # Keras appends _1, _2 to repeated auto names
    theirs = getattr(keras.metrics, name)()
    ours = getattr(km, name)()
    assert ours.name == theirs.name
    assert ours._direction == getattr(theirs, "_direction", None)
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]


def test_get_resolves_every_name_to_keras_class():
    for name in km.names():
        assert type(km.get(name)).__name__ == type(keras.metrics.get(name)).__name__, name


def test_metric_function_exports_match_keras():
    rng = np.random.default_rng(4)
    y_true, y_pred = _data("onehot", rng)
    labels = np.argmax(y_true, -1)
    pairs = {
        "categorical_accuracy": (y_true, y_pred), "top_k_categorical_accuracy": (y_true, y_pred),
        "sparse_categorical_accuracy": (labels, y_pred),
        "sparse_top_k_categorical_accuracy": (labels, y_pred),
        "binary_accuracy": (y_true, y_pred), "mean_squared_error": (y_true, y_pred),
        "mean_absolute_error": (y_true, y_pred),
        "mean_absolute_percentage_error": (y_true + 0.5, y_pred),
        "mean_squared_logarithmic_error": (y_true, y_pred),
    }
    for fn_name, (a, b) in pairs.items():
        np.testing.assert_allclose(getattr(km, fn_name)(a, b),
                                   getattr(keras.metrics, fn_name)(a, b), rtol=1e-6,
                                   err_msg=fn_name)


def test_keras_list_based_stateless_api_matches_keras():
    ours, theirs = km.Precision(thresholds=[0.3, 0.6]), keras.metrics.Precision(
        thresholds=[0.3, 0.6])
    our_vars, their_vars = ours.stateless_reset_state(), theirs.stateless_reset_state()
    for y_true, y_pred, weight in _batches("binary", weighted=True):
        our_vars = ours.stateless_update_state(our_vars, y_true, y_pred, sample_weight=weight)
        their_vars = theirs.stateless_update_state(their_vars, y_true, y_pred,
                                                   sample_weight=weight)
    for a, b in zip(our_vars, their_vars):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(ours.stateless_result(our_vars),
                               theirs.stateless_result(their_vars), rtol=1e-6)
