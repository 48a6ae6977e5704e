"""The rest of the metric catalog against Keras 3 (JAX backend): results after three updates
(with and without sample weights), the jitted pure trio, names, variables, directions,
`get` strings, and `evaluate()` through a compiled model."""

import jax
import keras
import numpy as np
import pytest

import kiln
import kiln.metrics as km

N = 8


def _data(kind, rng):
    """One batch (y_true, y_pred) of the given kind."""
    if kind == "binary":  # (N, 1) scores, some exactly at 0, 1 and 0.5
        y_pred = rng.uniform(size=(N, 1)).astype("float32")
        y_pred[:3, 0] = [0.0, 1.0, 0.5]
        return rng.integers(0, 2, (N, 1)), y_pred
    if kind == "logits":
        return rng.integers(0, 2, (N, 1)), rng.normal(0, 3, (N, 1)).astype("float32")
    if kind == "onehot":
        y_true = np.eye(5, dtype="float32")[rng.integers(0, 5, N)]
        return y_true, rng.dirichlet(np.ones(5), N).astype("float32")
    if kind == "onehot_logits":
        y_true = np.eye(5, dtype="float32")[rng.integers(0, 5, N)]
        return y_true, rng.normal(0, 2, (N, 5)).astype("float32")
    if kind == "multilabel":
        return rng.integers(0, 2, (N, 4)), rng.uniform(size=(N, 4)).astype("float32")
    if kind == "sparse":
        return rng.integers(0, 5, (N,)), rng.dirichlet(np.ones(5), N).astype("float32")
    if kind == "ids":  # class ids in [0, 4), with an out-of-range id on each side
        y_true, y_pred = rng.integers(0, 4, (N,)), rng.integers(0, 4, (N,))
        y_true[0], y_pred[1] = 4, -1
        return y_true, y_pred
    if kind == "segmentation":
        return rng.integers(0, 3, (N, 3, 3)), rng.integers(0, 3, (N, 3, 3))
    if kind == "positive":
        return (rng.poisson(2.0, (N, 3)).astype("float32"),
                rng.uniform(0.1, 3, (N, 3)).astype("float32"))
    assert kind == "regression"
    return (rng.normal(size=(N, 3)).astype("float32"),
            rng.normal(size=(N, 3)).astype("float32"))


CASES = [
    ("PrecisionAtRecall", {"recall": 0.7}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.5, "class_id": 2}, "multilabel"),
    ("RecallAtPrecision", {"precision": 0.6}, "binary"),
    ("RecallAtPrecision", {"precision": 0.3, "num_thresholds": 1}, "multilabel"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.8, "class_id": 1}, "multilabel"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.9, "class_id": 0}, "multilabel"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.4}, "multilabel"),
    ("F1Score", {"average": "weighted"}, "onehot"),
    ("FBetaScore", {"beta": 0.5, "average": "weighted", "threshold": 0.3}, "multilabel"),
    ("FBetaScore", {"beta": 2.0, "average": "micro"}, "onehot"),
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, "ids"),
    ("IoU", {"num_classes": 5, "target_class_ids": [1], "sparse_y_pred": False}, "sparse"),
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 1, 3], "dtype": "float32"}, "ids"),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 0}, "segmentation"),
    ("BinaryIoU", {}, "binary"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary"),
    ("OneHotIoU", {"num_classes": 5, "target_class_ids": [0, 3]}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": 5}, "onehot"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "positive"),
    ("R2Score", {"num_regressors": 5}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("PearsonCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
     "onehot_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0}, "sparse"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "logits"),
    ("CategoricalHinge", {}, "onehot"),
]


def _batches(name, kwargs, kind, weighted, seed=1):
    rng = np.random.default_rng(seed)
    integer_matrix = "IoU" in name and "dtype" not in kwargs
    out = []
    for _ in range(3):
        y_true, y_pred = _data(kind, rng)
        weight = None
        if weighted:  # an int confusion matrix would truncate fractional weights
            # IoU flattens its inputs, so a weight per pixel (Keras cannot broadcast (N,)).
            shape = np.shape(y_true) if kind == "segmentation" else (N,)
            weight = (rng.integers(0, 3, shape) if integer_matrix
                      else rng.uniform(size=shape)).astype("float32")
        out.append((y_true, y_pred, weight))
    return out


def _both(name, kwargs):
    return getattr(km, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,kwargs,kind", CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_result_matches_keras(name, kwargs, kind):
    for weighted in (False, True):
        ours, theirs = _both(name, kwargs)
        for y_true, y_pred, weight in _batches(name, kwargs, kind, weighted):
            ours.update_state(y_true, y_pred, sample_weight=weight)
            theirs.update_state(y_true, y_pred, sample_weight=weight)
        expected, got = np.asarray(theirs.result()), np.asarray(ours.result())
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6,
                                   err_msg=f"weighted={weighted}")


# The jitted pure trio (what fit/evaluate run) on one case of each family.
TRIO_CASES = [
    ("F1Score", {"average": "weighted"}, "onehot"),
    ("R2Score", {"num_regressors": 5}, "regression"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}, "binary"),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 0}, "segmentation"),
    ("OneHotIoU", {"num_classes": 5, "target_class_ids": [0, 3]}, "onehot"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0}, "sparse"),
]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,kwargs,kind", TRIO_CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(TRIO_CASES)])
def test_jitted_pure_trio_matches_keras(name, kwargs, kind):
    ours, theirs = _both(name, kwargs)
    batches = _batches(name, kwargs, kind, weighted=True, seed=2)
    state = ours.stateless_init(*batches[0])  # builds lazily created state (F1, R2)
    update = jax.jit(ours.stateless_update)
    for y_true, y_pred, weight in batches:
        state = update(state, y_true, y_pred, weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    got = jax.jit(ours.stateless_result)(state)
    np.testing.assert_allclose(np.asarray(got), np.asarray(theirs.result()), rtol=1e-5,
                               atol=1e-6)


def test_reset_matches_keras():
    for name, kwargs, kind in (("F1Score", {}, "onehot"), ("MeanIoU", {"num_classes": 4}, "ids")):
        ours, theirs = _both(name, kwargs)
        first, second = _batches(name, kwargs, kind, False)[:2]
        for metric in (ours, theirs):
            metric.update_state(*first[:2])
            metric.reset_state()
            metric.update_state(*second[:2])
        np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-5, err_msg=name)


# One instance of every class: default names, directions, variable names, dtype, config.
INSTANCES = [
    ("PrecisionAtRecall", {"recall": 0.5}), ("RecallAtPrecision", {"precision": 0.5}),
    ("SensitivityAtSpecificity", {"specificity": 0.5}),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}),
    ("F1Score", {}), ("FBetaScore", {"beta": 2.0, "average": "macro"}),
    ("IoU", {"num_classes": 3, "target_class_ids": [1]}), ("MeanIoU", {"num_classes": 3}),
    ("BinaryIoU", {}), ("OneHotIoU", {"num_classes": 3, "target_class_ids": [0]}),
    ("OneHotMeanIoU", {"num_classes": 3}), ("R2Score", {"num_regressors": 2}),
    ("CosineSimilarity", {}), ("LogCoshError", {}), ("PearsonCorrelation", {}),
    ("ConcordanceCorrelation", {}), ("BinaryCrossentropy", {"label_smoothing": 0.1}),
    ("CategoricalCrossentropy", {}), ("SparseCategoricalCrossentropy", {"ignore_class": 1}),
    ("KLDivergence", {}), ("Poisson", {}), ("Hinge", {}), ("SquaredHinge", {}),
    ("CategoricalHinge", {}),
]


@pytest.mark.parametrize("name,kwargs", INSTANCES, ids=[c[0] for c in INSTANCES])
def test_names_directions_variables_and_config_match_keras(name, kwargs):
    ours, theirs = _both(name, kwargs)
    assert ours.name == theirs.name
    assert ours._direction == theirs._direction
    assert ours.dtype == theirs.dtype
    assert [(v.name, tuple(v.shape)) for v in ours.variables] == [
        (v.name, tuple(v.shape)) for v in theirs.variables]
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    if name == "CosineSimilarity":
        theirs_config["axis"] = -1  # Keras forgets `axis` in this config; kiln keeps it
    assert ours_config == theirs_config
    clone = km.deserialize(km.serialize(ours))
    assert type(clone) is type(ours) and clone.get_config() == ours_config


@pytest.mark.filterwarnings("ignore")
def test_lazily_built_variables_match_keras():
    for name, kind in (("F1Score", "onehot"), ("R2Score", "regression")):
        ours, theirs = _both(name, {})
        y_true, y_pred = _data(kind, np.random.default_rng(0))
        ours.update_state(y_true, y_pred)
        theirs.update_state(y_true, y_pred)
        assert [(v.name, tuple(v.shape)) for v in ours.variables] == [
            (v.name, tuple(v.shape)) for v in theirs.variables]


def test_get_resolves_names_like_keras():
    for name in km.names():
        assert type(km.get(name)).__name__ == type(keras.metrics.get(name)).__name__, name
    for name in ("bce", "BCE", "f1_score", "f_beta_score", "r2_score", "binary_io_u",
                 "log_cosh_error", "kl_divergence", "categorical_hinge", "poisson",
                 "pearson_correlation", "concordance_correlation"):
        assert name in km.names()
    for name in ("mean_io_u", "io_u", "PrecisionAtRecall", "one_hot_mean_io_u"):
        with pytest.raises(TypeError):  # Keras lists them but cannot build them by name
            keras.metrics.get(name)
        with pytest.raises(ValueError, match="needs constructor arguments"):
            km.get(name)
    for name in ("logcosh", "kld"):  # not valid metric names in Keras 3
        with pytest.raises(ValueError):
            keras.metrics.get(name)
        with pytest.raises(ValueError, match="Unknown metric"):
            km.get(name)


def test_exported_functions_match_keras():
    # keras.metrics re-exports keras.losses functions; kiln.metrics re-exports kiln.losses's
    # (whose numbers tests/parity/test_losses_parity.py checks).
    for fn_name in ("binary_crossentropy", "binary_focal_crossentropy",
                    "categorical_crossentropy", "categorical_focal_crossentropy",
                    "sparse_categorical_crossentropy", "hinge", "squared_hinge",
                    "categorical_hinge", "kl_divergence", "poisson", "huber", "log_cosh",
                    "mean_squared_error", "mean_absolute_error",
                    "mean_absolute_percentage_error", "mean_squared_logarithmic_error"):
        assert getattr(keras.metrics, fn_name) is getattr(keras.losses, fn_name)
        assert getattr(km, fn_name) is getattr(kiln.losses, fn_name), fn_name
    regression = _data("regression", np.random.default_rng(4))
    for fn_name in ("pearson_correlation", "concordance_correlation"):
        np.testing.assert_allclose(getattr(km, fn_name)(*regression),
                                   getattr(keras.metrics, fn_name)(*regression), rtol=1e-5,
                                   err_msg=fn_name)


def test_wrapped_loss_functions_point_down_like_keras():
    assert km.MeanMetricWrapper(km.mean_absolute_error)._direction == "down"
    assert keras.metrics.MeanMetricWrapper(keras.metrics.mean_absolute_error)._direction == (
        "down")


# -- evaluate() through a compiled model --------------------------------------------------------

def _model(lib):
    inputs = lib.Input((4,))
    hidden = lib.layers.Dense(6, activation="tanh")(inputs)
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(hidden))


def _metric_list(lib):
    """Strings resolved by `get` and configured instances, across the new families."""
    return ["kl_divergence", "bce", "r2_score", lib.metrics.F1Score(average="macro"),
            lib.metrics.OneHotMeanIoU(num_classes=3),
            lib.metrics.PrecisionAtRecall(recall=0.5, name="p_at_r")]


@pytest.mark.filterwarnings("ignore")
def test_evaluate_names_and_values_match_keras():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[np.digitize(x[:, 0], [-0.4, 0.4])]
    theirs, ours = _model(keras), _model(kiln)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=_metric_list(keras))
    ours.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=_metric_list(kiln))
    expected = theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert list(got) == list(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(expected[key]),
                                   rtol=1e-5, atol=1e-6, err_msg=key)
