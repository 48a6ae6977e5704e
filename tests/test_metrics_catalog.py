"""The rest of the metric catalog: hand-computed values, argument checks, names, configs, jit."""

import doctest
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln.metrics as km
from kiln.metrics import (_at_thresholds, _correlation, _fscore, _iou, _probabilistic,
                           _regression_extra)


@pytest.mark.parametrize("module", [_at_thresholds, _correlation, _fscore, _iou,
                                    _probabilistic, _regression_extra])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_rate_at_rate_values_by_hand():
    y_true, y_pred = [0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]
    # Thresholds 0, 0.5, 1. At 0.5: tp=1 fp=1 fn=1 tn=1; at 0: tp=2 fp=2 (recall 1).
    assert float(km.PrecisionAtRecall(0.5, num_thresholds=3)(y_true, y_pred)) == 0.5
    assert float(km.PrecisionAtRecall(0.9, num_thresholds=3)(y_true, y_pred)) == 0.5
    assert float(km.RecallAtPrecision(0.5, num_thresholds=3)(y_true, y_pred)) == 1.0
    assert float(km.SensitivityAtSpecificity(0.5, num_thresholds=3)(y_true, y_pred)) == 0.5
    assert float(km.SpecificityAtSensitivity(1.0, num_thresholds=3)(y_true, y_pred)) == 0.0
    # Nothing reaches precision 1: the result is 0, not the max over an empty set.
    assert float(km.RecallAtPrecision(1.0, num_thresholds=3)(y_true, y_pred)) == 0.0


def test_rate_at_rate_arguments_are_checked():
    with pytest.raises(ValueError, match=r"`recall` must be in \[0, 1\]; received recall=1.5"):
        km.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        km.SpecificityAtSensitivity(0.5, num_thresholds=0)
    m = km.RecallAtPrecision(0.8, num_thresholds=1)
    assert m.thresholds == [0.5] and m.precision == 0.8


def test_fbeta_values_by_hand():
    y_true = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    y_pred = [[0.8, 0.1, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4]]
    # argmax predictions: 0, 0, 2, 2 -> class 0: tp1 fp1 fn1; class 1: fn1; class 2: tp1 fp1.
    per_class = np.asarray(km.F1Score()(y_true, y_pred))
    np.testing.assert_allclose(per_class, [0.5, 0.0, 2 / 3], rtol=1e-5)
    np.testing.assert_allclose(km.F1Score(average="macro")(y_true, y_pred), 7 / 18, rtol=1e-5)
    np.testing.assert_allclose(km.F1Score(average="weighted")(y_true, y_pred),
                               0.5 * 0.5 + 0.25 * 2 / 3, rtol=1e-5)
    # micro: tp=2 fp=2 fn=2 -> 0.5; F2 weights recall: p=r so the score is the same.
    np.testing.assert_allclose(km.FBetaScore(average="micro", beta=2.0)(y_true, y_pred), 0.5,
                               rtol=1e-5)
    # A row of zeros predicts nothing (it does not become all positives).
    np.testing.assert_allclose(km.F1Score(average="micro")([[1, 0]], [[0.0, 0.0]]), 0.0)


def test_fbeta_arguments_and_shapes_are_checked():
    with pytest.raises(ValueError, match="average"):
        km.F1Score(average="samples")
    with pytest.raises(ValueError, match="beta"):
        km.FBetaScore(beta=2)  # an int, as Keras also rejects
    with pytest.raises(ValueError, match="threshold"):
        km.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match=r"2D inputs .* One-hot encode"):
        km.F1Score()([0, 1], [0.2, 0.7])


def test_iou_values_by_hand():
    y_true, y_pred = [0, 0, 1, 1, 2], [0, 1, 0, 1, 2]
    # class 0: 1 / (2 + 2 - 1); class 1 the same; class 2: 1 / 1.
    np.testing.assert_allclose(km.IoU(3, [0, 2])(y_true, y_pred), (1 / 3 + 1) / 2, rtol=1e-5)
    np.testing.assert_allclose(km.MeanIoU(3)(y_true, y_pred), (2 / 3 + 1) / 3, rtol=1e-5)
    # A class that never occurs is left out of the mean; ignore_class drops those labels.
    np.testing.assert_allclose(km.MeanIoU(4)(y_true, y_pred), (2 / 3 + 1) / 3, rtol=1e-5)
    np.testing.assert_allclose(km.MeanIoU(3, ignore_class=0)(y_true, y_pred),
                               (0.5 + 1) / 3, rtol=1e-5)  # class 1: 1/(1+2-1)=0.5
    onehot = np.eye(3)[y_true]
    scores = np.eye(3)[y_pred] * 0.8 + 0.05
    np.testing.assert_allclose(km.OneHotMeanIoU(3)(onehot, scores),
                               km.MeanIoU(3)(y_true, y_pred), rtol=1e-6)
    np.testing.assert_allclose(km.BinaryIoU(threshold=0.5)([0, 1, 1], [0.2, 0.5, 0.3]),
                               (0.5 + 0.5) / 2, rtol=1e-5)


def test_iou_dtype_and_arguments():
    m = km.IoU(3, [0])
    assert m.dtype == "int32" and m.total_cm.dtype == jnp.int32
    with pytest.warns(UserWarning, match="truncated"):
        m.update_state([0, 1], [0, 1], sample_weight=np.array([0.5, 1.5]))
    assert np.asarray(m.total_cm.value).tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    float_m = km.IoU(3, [0], dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        float_m.update_state([0, 1], [0, 1], sample_weight=np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"target_class_ids=\[3\]"):
        km.IoU(3, [3])


def test_r2_score_values_and_checks():
    y_true = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 3.0], [4.0, 7.0]], "float32")
    y_pred = np.array([[1.5, 2.0], [2.0, 5.0], [2.5, 3.0], [4.5, 6.0]], "float32")
    res = ((y_true - y_pred) ** 2).sum(0)
    tot = ((y_true - y_true.mean(0)) ** 2).sum(0)
    each = 1 - res / tot
    np.testing.assert_allclose(km.R2Score(class_aggregation=None)(y_true, y_pred), each,
                               rtol=1e-5)
    np.testing.assert_allclose(km.R2Score()(y_true, y_pred), each.mean(), rtol=1e-5)
    np.testing.assert_allclose(
        km.R2Score(class_aggregation="variance_weighted_average")(y_true, y_pred),
        (each * tot).sum() / tot.sum(), rtol=1e-5)
    n, p = 8, 2  # adjusted R2 counts every value seen (4 rows x 2 columns)
    np.testing.assert_allclose(km.R2Score(num_regressors=p)(y_true, y_pred),
                               1 - (1 - each.mean()) * (n - 1) / (n - p - 1), rtol=1e-5)
    with pytest.warns(UserWarning, match="plain"):
        km.R2Score(num_regressors=7)(y_true, y_pred)
    with pytest.raises(ValueError, match="class_aggregation"):
        km.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match=r"\(N, 1\)"):
        km.R2Score()([1.0, 2.0], [1.0, 2.5])


def test_sparse_crossentropy_ignore_class_counts_like_keras():
    y_true, y_pred = [0, 1, 2], [[0.5, 0.25, 0.25]] * 3
    # Unweighted: the ignored sample contributes 0 but still counts in the mean.
    unweighted = km.SparseCategoricalCrossentropy(ignore_class=2)(y_true, y_pred)
    np.testing.assert_allclose(unweighted, (np.log(2) + np.log(4)) / 3, rtol=1e-5)
    # Weighted: it gets weight 0, so it is left out.
    weighted = km.SparseCategoricalCrossentropy(ignore_class=2)(y_true, y_pred,
                                                                sample_weight=[1.0, 1.0, 1.0])
    np.testing.assert_allclose(weighted, (np.log(2) + np.log(4)) / 2, rtol=1e-5)


def test_probabilistic_metrics_use_the_loss_functions():
    from kiln import losses

    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], "float32")
    y_pred = np.array([[0.3, 0.7], [0.6, 0.4]], "float32")
    pairs = [(km.BinaryCrossentropy(label_smoothing=0.1),
              losses.binary_crossentropy(y_true, y_pred, label_smoothing=0.1)),
             (km.CategoricalCrossentropy(), losses.categorical_crossentropy(y_true, y_pred)),
             (km.KLDivergence(), losses.kl_divergence(y_true, y_pred)),
             (km.Poisson(), losses.poisson(y_true, y_pred)),
             (km.Hinge(), losses.hinge(y_true, y_pred)),
             (km.LogCoshError(), losses.log_cosh(y_true, y_pred)),
             (km.CosineSimilarity(), -losses.cosine_similarity(y_true, y_pred))]
    for metric, per_sample in pairs:
        assert float(metric(y_true, y_pred)) == float(jnp.mean(per_sample)), metric.name
    assert km.LogCoshError().name == "logcosh"


def test_new_names_resolve_and_argument_classes_explain_the_fix():
    assert isinstance(km.get("bce"), km.BinaryCrossentropy) and km.get("bce").name == "bce"
    assert isinstance(km.get("BCE"), km.BinaryCrossentropy)
    assert isinstance(km.get("f1_score"), km.F1Score)
    assert isinstance(km.get("r2_score"), km.R2Score)
    assert isinstance(km.get("binary_io_u"), km.BinaryIoU)
    names = km.names()
    assert "mean_io_u" not in names and "PrecisionAtRecall" not in names
    for name in names:
        assert isinstance(km.get(name), km.Metric), name
    with pytest.raises(ValueError, match=r"MeanIoU\(num_classes=3\)"):
        km.get("mean_io_u")
    with pytest.raises(ValueError, match=r"PrecisionAtRecall\(recall=0.8\)"):
        km.get("precision_at_recall")
    # Built instances are fine in get (and in compile).
    iou = km.MeanIoU(num_classes=2)
    assert km.get(iou) is iou


CONFIGURED = [
    lambda: km.PrecisionAtRecall(0.3, num_thresholds=20, class_id=1, name="par"),
    lambda: km.SpecificityAtSensitivity(0.6),
    lambda: km.FBetaScore(average="weighted", beta=0.5, threshold=0.3),
    lambda: km.F1Score(average="micro"),
    lambda: km.IoU(4, [1, 3], ignore_class=0, sparse_y_pred=False),
    lambda: km.MeanIoU(3, dtype="float32"),
    lambda: km.BinaryIoU([1], threshold=0.2),
    lambda: km.OneHotIoU(3, [2]),
    lambda: km.OneHotMeanIoU(4, ignore_class=1),
    lambda: km.R2Score(class_aggregation=None, num_regressors=3),
    lambda: km.CosineSimilarity(axis=1),
    lambda: km.PearsonCorrelation(axis=0),
    lambda: km.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
    lambda: km.CategoricalCrossentropy(label_smoothing=0.2, axis=-1),
    lambda: km.SquaredHinge(name="sqh"),
]


@pytest.mark.parametrize("make", CONFIGURED)
def test_config_round_trip(make):
    metric = make()
    clone = km.deserialize(km.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()


def test_directions():
    for metric in (km.F1Score(), km.MeanIoU(2), km.R2Score(), km.PrecisionAtRecall(0.5),
                   km.CosineSimilarity(), km.PearsonCorrelation()):
        assert metric._direction == "up", metric.name
    for metric in (km.LogCoshError(), km.BinaryCrossentropy(), km.KLDivergence(), km.Poisson(),
                   km.Hinge(), km.CategoricalHinge()):
        assert metric._direction == "down", metric.name


def test_lazily_built_metrics_run_in_a_jitted_scan():
    rng = np.random.default_rng(0)
    y_true = np.eye(3, dtype="float32")[rng.integers(0, 3, (4, 6))]  # 4 steps of 6 samples
    y_pred = rng.uniform(size=(4, 6, 3)).astype("float32")
    for metric in (km.F1Score(average="macro"), km.R2Score(), km.MeanIoU(3,
                                                                         sparse_y_true=False,
                                                                         sparse_y_pred=False)):
        state = metric.stateless_init(y_true[0], y_pred[0])

        @jax.jit
        def run(state, ys, ps, metric=metric):
            step = lambda s, b: (metric.stateless_update(s, b[0], b[1]), None)  # noqa: E731
            return metric.stateless_result(jax.lax.scan(step, state, (ys, ps))[0])

        eager = type(metric).from_config(metric.get_config())
        for t, p in zip(y_true, y_pred):
            eager.update_state(t, p)
        np.testing.assert_allclose(run(state, y_true, y_pred), eager.result(), rtol=1e-6)
