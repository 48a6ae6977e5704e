"""Unit tests of kiln.losses: reductions, sample weights, options, name resolution, jit."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln.losses as kl

EPS_LOSS = -math.log(1e-7)  # the largest clipped per-element cross-entropy, 16.118...


# Reductions and sample weights ----------------------------------------------------------------

def test_reductions_with_sample_weight():
    # Squared errors 1, 4, 9, 16 with weights 1, 0, 2, 1: weighted 1, 0, 18, 16 (sum 35).
    y_true, y_pred = [[0.0], [0.0], [0.0], [0.0]], [[1.0], [2.0], [3.0], [4.0]]
    w = [1.0, 0.0, 2.0, 1.0]
    expect = {"sum": 35.0, "sum_over_batch_size": 35 / 4, "mean": 35 / 4,
              "mean_with_sample_weight": 35 / 4}
    for reduction, value in expect.items():
        got = kl.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=w)
        assert float(got) == pytest.approx(value, rel=1e-6), reduction
    for reduction in ("none", None):
        got = kl.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=w)
        np.testing.assert_allclose(got, [1.0, 0.0, 18.0, 16.0])


def test_sum_over_batch_size_divides_by_count_not_weight_sum():
    # The default is sum(loss * w) / N, not / sum(w): the two differ whenever sum(w) != N.
    y_true, y_pred, w = [[0.0], [0.0]], [[1.0], [2.0]], [1.0, 0.0]
    default = kl.MeanSquaredError()(y_true, y_pred, sample_weight=w)
    by_weight = kl.MeanSquaredError(reduction="mean_with_sample_weight")(y_true, y_pred,
                                                                         sample_weight=w)
    assert float(default) == pytest.approx(0.5)
    assert float(by_weight) == pytest.approx(1.0)


def test_mean_with_sample_weight_zero_weights_gives_zero():
    loss = kl.MeanAbsoluteError(reduction="mean_with_sample_weight")
    assert float(loss([[1.0]], [[3.0]], sample_weight=[0.0])) == 0.0


def test_sample_weight_column_and_unweighted_mean():
    loss = kl.MeanAbsoluteError()
    y_true, y_pred = np.zeros((3, 2)), np.array([[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]])
    assert float(loss(y_true, y_pred)) == pytest.approx(2.0)  # per-sample losses 2, 2, 2
    weighted = loss(y_true, y_pred, sample_weight=[[1.0], [0.0], [3.0]])  # (N, 1) is squeezed
    assert float(weighted) == pytest.approx(8.0 / 3.0)


def test_invalid_reduction_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="sum_over_batch_size.*mean_with_sample_weight"):
        kl.MeanSquaredError(reduction="average")


# Shapes, options and numerics ------------------------------------------------------------------

def test_rank_one_target_against_column_output():
    y_col, y_flat = np.array([[1.0], [0.0], [1.0]]), np.array([1.0, 0.0, 1.0])
    pred = np.array([[0.8], [0.3], [0.4]])
    for loss in (kl.MeanSquaredError(), kl.BinaryCrossentropy(), kl.MeanAbsoluteError()):
        assert float(loss(y_flat, pred)) == pytest.approx(float(loss(y_col, pred)), rel=1e-6)
        assert float(loss(y_col, pred[:, 0])) == pytest.approx(float(loss(y_col, pred)), rel=1e-6)


def test_bce_function_rejects_mismatched_shapes_with_the_shapes_in_the_message():
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\).*y_pred.shape=\(3, 2\)"):
        kl.binary_crossentropy(np.zeros(3), np.full((3, 2), 0.5))


def test_binary_label_smoothing_moves_targets_towards_half():
    y, p = np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]])
    smoothed = y * 0.8 + 0.1
    expected = -np.mean(smoothed * np.log(p) + (1 - smoothed) * np.log(1 - p))
    got = kl.binary_crossentropy(y, p, label_smoothing=0.2)
    np.testing.assert_allclose(got, [expected], rtol=1e-6)


def test_categorical_label_smoothing_mixes_with_uniform():
    y, p = np.array([[0.0, 1.0, 0.0, 0.0]]), np.array([[0.1, 0.6, 0.2, 0.1]])
    smoothed = y * 0.8 + 0.2 / 4
    np.testing.assert_allclose(kl.categorical_crossentropy(y, p, label_smoothing=0.2),
                               [-np.sum(smoothed * np.log(p))], rtol=1e-6)


def test_categorical_renormalises_probabilities():
    y = np.array([[0.0, 1.0]])
    np.testing.assert_allclose(kl.categorical_crossentropy(y, [[1.0, 3.0]]), [-np.log(0.75)],
                               rtol=1e-6)


def test_from_logits_matches_probability_path_and_avoids_clipping():
    logits = np.array([[2.0, -1.0, 0.5]])
    y = np.array([[0.0, 1.0, 0.0]])
    probs = jax.nn.softmax(logits)
    np.testing.assert_allclose(kl.categorical_crossentropy(y, logits, from_logits=True),
                               kl.categorical_crossentropy(y, probs), rtol=1e-5)
    np.testing.assert_allclose(kl.binary_crossentropy(y, logits, from_logits=True),
                               kl.binary_crossentropy(y, jax.nn.sigmoid(logits)), rtol=1e-5)
    # Far logits: no clipping on the logits path (20), clipped on the probability path (16.118).
    far = np.array([[10.0, -10.0]])
    onehot = np.array([[0.0, 1.0]])
    assert float(kl.categorical_crossentropy(onehot, far, from_logits=True)[0]) == pytest.approx(
        20.0, rel=1e-5)
    assert float(kl.categorical_crossentropy(onehot, jax.nn.softmax(far))[0]) == pytest.approx(
        EPS_LOSS, rel=1e-5)


def test_sparse_squeezes_trailing_one_and_accepts_float_labels():
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    expected = -np.log([0.8, 0.6])
    for labels in ([1, 0], [[1], [0]], np.array([1.0, 0.0])):
        np.testing.assert_allclose(kl.sparse_categorical_crossentropy(labels, p), expected,
                                   rtol=1e-6)


def test_sparse_out_of_range_labels_give_zero_silently():
    p = np.full((3, 4), 0.25)
    got = kl.sparse_categorical_crossentropy([5, -1, 2], p)
    np.testing.assert_allclose(got, [0.0, 0.0, np.log(4)], rtol=1e-6)


def test_sparse_shape_mismatch_suggests_categorical():
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        kl.sparse_categorical_crossentropy(np.eye(3), np.full((3, 3), 1 / 3))


def test_categorical_shape_mismatch_suggests_sparse():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        kl.categorical_crossentropy(np.array([0, 1, 2]), np.full((3, 3), 1 / 3))


def test_categorical_single_class_warns():
    with pytest.warns(SyntaxWarning, match="binary_crossentropy"):
        kl.categorical_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.7))


def test_ignore_class_zeroes_and_leaves_entries_out_of_the_mean():
    p = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    labels = np.array([0, -1, 1])
    per_sample = kl.sparse_categorical_crossentropy(labels, p, ignore_class=-1)
    np.testing.assert_allclose(per_sample, [np.log(2), 0.0, -np.log(0.8)], rtol=1e-6)
    mean = kl.SparseCategoricalCrossentropy(ignore_class=-1)(labels, p)
    assert float(mean) == pytest.approx((np.log(2) - np.log(0.8)) / 2, rel=1e-6)
    total = kl.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")(labels, p)
    assert float(total) == pytest.approx(np.log(2) - np.log(0.8), rel=1e-6)


def test_ignore_class_gradient_is_finite_and_zero_on_ignored_rows():
    labels = jnp.array([0, 2, 1])
    loss = kl.SparseCategoricalCrossentropy(ignore_class=2)
    grad = jax.grad(lambda p: loss(labels, p))(jnp.full((3, 3), 1 / 3))
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[1], 0.0)


def test_hinge_maps_binary_labels_only_when_all_are_binary():
    pred = np.array([[0.3, -0.4]])
    np.testing.assert_allclose(kl.hinge([[1.0, 0.0]], pred), kl.hinge([[1.0, -1.0]], pred))
    np.testing.assert_allclose(kl.hinge([[2.0, 0.0]], pred), [np.mean([0.4, 1.0])], rtol=1e-6)


def test_dice_default_reduces_over_everything():
    y = np.array([[1.0, 0.0], [1.0, 1.0]])
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    value = kl.dice(y, p)
    assert value.shape == ()
    assert float(value) == pytest.approx(1 - 4 / 5, rel=1e-5)
    assert kl.dice(y, p, axis=-1).shape == (2,)


def test_integer_and_numpy_inputs_work():
    assert float(kl.MeanSquaredError()(np.array([[1], [2]]), np.array([[1.0], [4.0]]))) == 2.0
    assert float(kl.mean_squared_error([1, 2], [1, 4])) == 2.0  # int y_pred is made float
    assert float(kl.BinaryCrossentropy()(np.array([1, 0]), np.array([0.5, 0.5]))) == \
        pytest.approx(math.log(2), rel=1e-6)


CLASS_NAMES = [n for n in kl.names() if n[0].isupper() and not n.isupper()]  # not MSE, BCE...


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_every_loss_class_jits_and_matches_eager(name, rng):
    loss = kl.get(name)
    y_true, y_pred = _inputs_for(name, rng)
    eager = loss(y_true, y_pred)
    jitted = jax.jit(loss)(y_true, y_pred)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6)
    assert eager.shape == () and np.isfinite(eager)


def _inputs_for(name, rng):
    """Per-loss inputs of shape (4, 3): integer labels for the sparse loss, probabilities else."""
    y_pred = rng.uniform(0.05, 0.95, (4, 3)).astype("float32")
    if name.startswith("Sparse"):
        return rng.integers(0, 3, 4), y_pred
    return np.eye(3, dtype="float32")[rng.integers(0, 3, 4)], y_pred


# Dtypes and custom losses ---------------------------------------------------------------------

def test_loss_dtype_controls_the_output_dtype():
    assert kl.MeanSquaredError().dtype == "float32"
    assert kl.MeanSquaredError(dtype="mixed_float16").dtype == "float16"
    out = kl.MeanSquaredError(dtype="float16")([[1.0]], [[2.0]])
    assert out.dtype == jnp.float16
    with pytest.raises(ValueError, match="dtype"):
        kl.MeanSquaredError(dtype="not_a_dtype")


def test_custom_loss_subclass_gets_reduction_and_weights():
    class Absolute(kl.Loss):
        def call(self, y_true, y_pred):
            return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)

    loss = Absolute(reduction="sum")
    assert loss.name == "absolute"
    assert float(loss([[0.0], [1.0]], [[1.0], [3.0]], sample_weight=[2.0, 1.0])) == 4.0
    with pytest.raises(NotImplementedError, match="call"):
        kl.Loss()([1.0], [1.0])


def test_wrapper_exposes_fn_and_arguments():
    bce = kl.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert bce.fn is kl.binary_crossentropy
    assert (bce.from_logits, bce.label_smoothing, bce.axis) == (True, 0.1, -1)
    assert bce.fn_kwargs == {"from_logits": True, "label_smoothing": 0.1, "axis": -1}
    plain = kl.LossFunctionWrapper(kl.categorical_crossentropy)
    assert plain.name == "categorical_crossentropy" and plain.from_logits is False
    assert kl.SparseCategoricalCrossentropy().ignore_class is None
    assert kl.Huber().name == "huber_loss" and kl.Huber(2.0).delta == 2.0
    with pytest.raises(AttributeError):
        kl.MeanSquaredError().from_logits
    with pytest.raises(TypeError, match="function"):
        kl.LossFunctionWrapper("mse")


def test_losses_copy_and_pickle():
    import copy
    import pickle

    loss = kl.BinaryCrossentropy(from_logits=True)
    for clone in (copy.deepcopy(loss), pickle.loads(pickle.dumps(loss))):
        assert clone.from_logits is True and clone.fn is kl.binary_crossentropy


def test_wrapper_passes_kwargs_to_fn():
    loss = kl.LossFunctionWrapper(kl.huber, delta=0.5, reduction="none")
    np.testing.assert_allclose(loss([[0.0]], [[2.0]]), [0.5 * 2.0 - 0.5 * 0.25])


# Name resolution and serialisation -------------------------------------------------------------

def test_get_resolves_functions_classes_and_aliases():
    assert kl.get("mse") is kl.get("MSE") is kl.get("mean_squared_error") is kl.mean_squared_error
    assert kl.get("bce") is kl.binary_crossentropy
    assert kl.get("kld") is kl.get("KLD") is kl.kl_divergence
    assert kl.get("mape") is kl.mean_absolute_percentage_error
    assert kl.get("msle") is kl.mean_squared_logarithmic_error
    assert kl.get("mae") is kl.mean_absolute_error
    instance = kl.get("CategoricalCrossentropy")
    assert isinstance(instance, kl.CategoricalCrossentropy) and instance.from_logits is False
    assert isinstance(kl.get(kl.Huber), kl.Huber)
    custom = kl.Huber(delta=3.0)
    assert kl.get(custom) is custom
    assert kl.get(None) is None

    def my_loss(y_true, y_pred):
        return y_pred

    assert kl.get(my_loss) is my_loss


def test_get_dict_config():
    loss = kl.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(loss, kl.CategoricalCrossentropy) and loss.from_logits is True


@pytest.mark.parametrize("name, suggestion", [("msee", "'mse'"), ("Mse", "'mse'"),
                                              ("huber_loss", "'huber'"),
                                              ("categorical_crossentropyy",
                                               "'categorical_crossentropy'")])
def test_get_unknown_name_suggests_close_matches(name, suggestion):
    with pytest.raises(ValueError, match=f"Unknown loss '{name}'.*{suggestion}"):
        kl.get(name)


def test_get_rejects_non_callables():
    with pytest.raises(ValueError, match="Could not interpret loss identifier 3"):
        kl.get(3)


def test_names_lists_every_accepted_string():
    names = kl.names()
    for name in ("mse", "MSE", "bce", "BCE", "kld", "mape", "MAPE", "msle", "mae",
                 "huber", "Huber", "log_cosh", "LogCosh", "dice", "Tversky",
                 "SparseCategoricalCrossentropy", "categorical_focal_crossentropy"):
        assert name in names
    assert "huber_loss" not in names and "logcosh" not in names
    for name in names:
        assert callable(kl.get(name))


@pytest.mark.parametrize("cls_name", CLASS_NAMES)
def test_serialize_round_trip(cls_name):
    loss = getattr(kl, cls_name)(reduction="sum", name="custom_name")
    config = kl.serialize(loss)
    assert config["class_name"] == cls_name and config["module"] == "keras.losses"
    restored = kl.deserialize(config)
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    assert restored.fn_kwargs == loss.fn_kwargs


def test_serialize_functions_and_wrapper():
    config = kl.serialize(kl.mean_squared_error)
    assert config["class_name"] == "function" and config["config"] == "mean_squared_error"
    assert kl.deserialize(config) is kl.mean_squared_error
    wrapper = kl.LossFunctionWrapper(kl.binary_crossentropy, from_logits=True, name="w")
    restored = kl.deserialize(kl.serialize(wrapper))
    assert restored.fn is kl.binary_crossentropy and restored.from_logits is True
    assert restored.name == "w"


def test_deserialize_custom_objects():
    class MyLoss(kl.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    config = kl.serialize(MyLoss(name="mine"))
    assert config["registered_name"] == "MyLoss"
    restored = kl.deserialize(config, custom_objects={"MyLoss": MyLoss})
    assert isinstance(restored, MyLoss) and restored.name == "mine"
    with pytest.raises(ValueError, match="Unknown loss 'MyLoss'"):
        kl.deserialize(config)


def test_repr_is_readable():
    assert repr(kl.Huber()) == ("Huber(name='huber_loss', reduction='sum_over_batch_size', "
                                "delta=1.0)")
    assert "fn=binary_crossentropy" in repr(kl.LossFunctionWrapper(kl.binary_crossentropy))
