"""Unit tests of kiln.metrics: the stateful shell, the pure trio under jit, and get()."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln.metrics as km


class BinaryTruePositives(km.Metric):
    """A metric written exactly the Keras way (variables in __init__, assign in update)."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                name="true_positives")
        self.seen = self.add_weight(shape=(), initializer="ones", name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = jnp.logical_and(jnp.asarray(y_true) > 0.5, jnp.asarray(y_pred) > 0.5)
        hits = hits.astype(self.dtype)
        if sample_weight is not None:
            hits = hits * jnp.asarray(sample_weight, self.dtype)
        self.true_positives.assign(self.true_positives + jnp.sum(hits))
        self.seen.assign_add(hits.shape[0])

    def result(self):
        return self.true_positives / self.seen


def test_mean_weighted_and_unweighted():
    m = km.Mean()
    m.update_state([1.0, 3.0, 5.0, 7.0])
    assert float(m.result()) == 4.0
    m.reset_state()
    m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    assert float(m.result()) == 2.0
    m.update_state(np.array([[10.0, 20.0]]))  # one sample, averaged over its axis
    assert float(m.result()) == pytest.approx((4.0 + 15.0) / 3.0)


def test_sum_and_empty_mean_is_zero():
    s = km.Sum()
    s.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    assert float(s.result()) == 4.0
    assert float(km.Mean().result()) == 0.0  # divide_no_nan, not NaN
    assert float(km.Precision().result()) == 0.0


def test_mean_metric_wrapper_passes_kwargs_and_names():
    def scaled_error(y_true, y_pred, scale=1.0):
        return scale * jnp.abs(jnp.asarray(y_true) - jnp.asarray(y_pred))

    m = km.MeanMetricWrapper(scaled_error, scale=2.0)
    assert m.name == "mean_metric_wrapper"
    assert m._direction is None
    value = m(np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert float(value) == pytest.approx(1.0)


def test_call_accumulates_and_reset_restores_initializers():
    m = BinaryTruePositives()
    assert float(m([1, 1, 0], [0.9, 0.2, 0.7])) == pytest.approx(1 / 4)
    assert float(m([1], [0.9])) == pytest.approx(2 / 5)
    m.reset_state()
    assert float(m.seen.numpy()) == 1.0 and float(m.true_positives.numpy()) == 0.0
    state = m.stateless_init()
    assert {k: float(v) for k, v in state.items()} == {"true_positives": 0.0, "seen": 1.0}


def test_user_keras_style_metric_runs_under_jit_and_scan():
    m = BinaryTruePositives()
    y_true = np.array([[1, 0, 1, 1], [1, 1, 0, 0]], "float32")
    y_pred = np.array([[0.9, 0.8, 0.7, 0.1], [0.6, 0.9, 0.9, 0.2]], "float32")
    weight = np.array([[1.0, 1.0, 0.5, 1.0], [2.0, 1.0, 1.0, 1.0]], "float32")

    def run(state, batch):
        return m.stateless_update(state, *batch), None

    state, _ = jax.jit(lambda s: jax.lax.scan(run, s, (y_true, y_pred, weight)))(
        m.stateless_init())
    for batch in zip(y_true, y_pred, weight):
        m.update_state(*batch)
    assert float(jax.jit(m.stateless_result)(state)) == pytest.approx(float(m.result()))
    assert float(m.stateless_result(state)) == pytest.approx((1.5 + 3.0) / 9.0)


def test_keras_docs_metric_using_kiln_ops_runs_under_jit():
    from kiln import ops

    class KerasDocsTruePositives(km.Metric):  # the Keras docstring's example, verbatim logic
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                    name="true_positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true, y_pred = ops.cast(y_true, "bool"), ops.cast(y_pred, "bool")
            values = ops.logical_and(ops.equal(y_true, True), ops.equal(y_pred, True))
            values = ops.cast(values, self.dtype)
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, self.dtype)
                values = ops.multiply(values, ops.broadcast_to(sample_weight,
                                                               ops.shape(values)))
            self.true_positives.assign(self.true_positives + ops.sum(values))

        def result(self):
            return self.true_positives

    m = KerasDocsTruePositives()
    update = jax.jit(m.stateless_update)
    state = update(m.stateless_init(), jnp.array([1, 1, 0]), jnp.array([1, 0, 1]),
                   jnp.array([0.5, 1.0, 1.0]))
    state = update(state, jnp.array([1, 1, 0]), jnp.array([1, 1, 1]), jnp.ones(3))
    assert float(jax.jit(m.stateless_result)(state)) == 2.5
    assert float(m.result()) == 0.0


def test_pure_trio_has_no_side_effects():
    m = km.Precision()
    m.update_state([1, 0], [0.9, 0.9])
    before = [v.numpy().copy() for v in m.variables]
    state = m.stateless_update(m.stateless_init(), [1, 1, 1], [0.9, 0.9, 0.1])
    assert float(m.stateless_result(state)) == 1.0
    for var, old in zip(m.variables, before):
        np.testing.assert_array_equal(var.numpy(), old)


@pytest.mark.parametrize("make", [
    km.Mean, lambda: km.BinaryAccuracy(threshold=0.4), km.RootMeanSquaredError,
    lambda: km.Precision(thresholds=[0.3, 0.6]), km.Recall, km.AUC,
    lambda: km.AUC(curve="PR", multi_label=True, num_labels=3),
    lambda: km.SparseTopKCategoricalAccuracy(k=2),
], ids=["mean", "binary_acc", "rmse", "precision", "recall", "auc", "auc_pr_multi",
        "sparse_top_k"])
def test_jitted_trio_equals_shell(make, rng):
    shell, pure = make(), make()
    update, result = jax.jit(pure.stateless_update), jax.jit(pure.stateless_result)
    state = pure.stateless_init()
    for _ in range(3):
        y_true = rng.integers(0, 2, (6, 3)).astype("float32")
        y_pred = rng.uniform(size=(6, 3)).astype("float32")
        weight = rng.uniform(size=(6,)).astype("float32")
        if type(shell) is km.Mean:
            shell.update_state(y_pred, sample_weight=weight)
            state = update(state, y_pred, sample_weight=weight)
            continue
        if isinstance(shell, km.SparseTopKCategoricalAccuracy):
            y_true = rng.integers(0, 3, (6,))
        shell.update_state(y_true, y_pred, sample_weight=weight)
        state = update(state, y_true, y_pred, weight)
    np.testing.assert_allclose(result(state), shell.result(), rtol=1e-6)
    assert set(state) == {v.name for v in shell.variables}


def test_lazily_built_auc_needs_an_example_batch():
    y_true = np.array([[1, 0], [0, 1], [1, 1]])
    y_pred = np.array([[0.8, 0.3], [0.4, 0.6], [0.7, 0.9]], "float32")
    m = km.AUC(multi_label=True)
    assert m.stateless_init() == {}
    with pytest.raises(ValueError, match="stateless_init\\(y_true, y_pred\\)"):
        jax.jit(m.stateless_update)({}, y_true, y_pred)
    m2 = km.AUC(multi_label=True)
    state = m2.stateless_init(jax.ShapeDtypeStruct((3, 2), jnp.int32),
                              jax.ShapeDtypeStruct((3, 2), jnp.float32))
    assert state["true_positives"].shape == (200, 2)
    state = jax.jit(m2.stateless_update)(state, y_true, y_pred)
    assert float(m2.stateless_result(state)) == 1.0
    assert float(m2.result()) == 0.0  # the shell's own state is untouched


def test_state_keys_are_unique_variable_names():
    m = km.Metric()
    names = [m.add_variable((), name="total").name, m.add_variable((), name="total").name,
             m.add_variable(()).name, m.add_variable(()).name]
    assert names == ["total", "total_1", "variable", "variable_1"]
    assert list(m.stateless_init()) == names
    with pytest.raises(ValueError, match="expected"):
        m.stateless_update({"total": jnp.zeros(())})


def test_nested_metric_state_is_keyed_by_attribute():
    class Wrapped(km.Metric):
        def __init__(self):
            super().__init__(name="wrapped")
            self.inner = km.Mean()

        def update_state(self, values, sample_weight=None):
            self.inner.update_state(values, sample_weight)

        def result(self):
            return 2 * self.inner.result()

    m = Wrapped()
    state = m.stateless_init()
    assert sorted(state) == ["inner/count", "inner/total"]
    state = jax.jit(m.stateless_update)(state, jnp.array([1.0, 2.0]))
    assert float(m.stateless_result(state)) == 3.0


def test_add_variable_before_super_init_explains_fix():
    class Broken(km.Metric):
        def __init__(self):
            self.v = self.add_variable(())

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Broken()


def test_sparse_categorical_accuracy_label_shapes():
    y_pred = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]], "float32")
    for labels in ([1, 1], np.array([[1.0], [1.0]], "float32")):
        m = km.SparseCategoricalAccuracy()
        assert float(m(labels, y_pred)) == 0.5
    assert km.sparse_categorical_accuracy(np.array([[1.0], [0.0]]), y_pred).shape == (2,)


def test_binary_accuracy_threshold_is_strict():
    assert float(km.BinaryAccuracy()([1, 0], [0.5, 0.5])) == 0.5
    assert float(km.BinaryAccuracy(threshold=0.0)([1, 0], [0.0, 0.0])) == 0.5


def test_thresholds_give_vector_results_and_are_validated():
    m = km.TruePositives(thresholds=[0.2, 0.6])
    assert m([1, 1, 0], [0.5, 0.9, 0.9]).tolist() == [2.0, 1.0]
    assert km.Precision().result().shape == ()
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        km.Recall(thresholds=[0.5, 1.5])


def test_auc_thresholds_and_errors():
    assert km.AUC(num_thresholds=3).thresholds == pytest.approx([-1e-7, 0.5, 1 + 1e-7])
    assert float(km.AUC(num_thresholds=3)([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])) == 0.75
    with pytest.raises(ValueError, match="curve"):
        km.AUC(curve="roc_auc")
    with pytest.raises(ValueError, match="num_thresholds"):
        km.AUC(num_thresholds=1)


def test_get_strings_instances_functions_and_classes():
    mae = km.get("mae")
    assert isinstance(mae, km.MeanAbsoluteError) and mae.name == "mae"
    assert km.get("mae") is not mae  # a new instance each time
    assert km.get("AUC").name == "AUC" and isinstance(km.get("auc"), km.AUC)
    assert isinstance(km.get("accuracy"), km.Accuracy)
    assert km.get("MSE", name="loss_mse").name == "loss_mse"
    inst = km.Recall()
    assert km.get(inst) is inst
    assert isinstance(km.get(km.Precision), km.Precision)
    assert km.get(None) is None

    def myScore(y_true, y_pred):
        return jnp.asarray(y_pred)

    wrapped = km.get(myScore)
    assert isinstance(wrapped, km.MeanMetricWrapper) and wrapped.name == "my_score"
    assert float(wrapped([0.0, 0.0], [[1.0], [3.0]])) == 2.0


def test_get_unknown_names_suggest_close_ones():
    with pytest.raises(ValueError, match="'precision'"):
        km.get("precison")
    with pytest.raises(ValueError, match="Unknown metric 'acc'"):
        km.get("acc")  # resolved by compile's shape rule, not by get (as in Keras)
    with pytest.raises(ValueError, match="Could not interpret"):
        km.get(3)


def test_names_lists_class_names_snake_case_and_aliases():
    names = km.names()
    for expected in ("auc", "AUC", "precision", "mean_squared_error", "mse", "MSE", "mae",
                     "MAPE", "msle", "sparse_top_k_categorical_accuracy", "accuracy"):
        assert expected in names
    assert "mean_metric_wrapper" not in names
    for name in names:
        assert isinstance(km.get(name), km.Metric)


def test_config_round_trip():
    for metric in (km.Precision(thresholds=[0.3, 0.7], top_k=2, class_id=1),
                   km.AUC(curve="PR", thresholds=[0.2, 0.4], multi_label=True,
                          label_weights=[1.0, 2.0], name="pr"),
                   km.BinaryAccuracy(threshold=0.3),
                   km.MeanMetricWrapper(km.mean_absolute_error, name="l1"),
                   km.SparseTopKCategoricalAccuracy(k=3, from_sorted_ids=True)):
        config = metric.get_config()
        clone = km.deserialize(km.serialize(metric))
        assert type(clone) is type(metric) and clone.get_config() == config
    assert km.MeanMetricWrapper(km.mean_absolute_error).get_config()["fn"] == (
        "mean_absolute_error")


def test_directions():
    assert km.AUC()._direction == "up" and km.Precision()._direction == "up"
    assert km.CategoricalAccuracy()._direction == "up"
    assert km.MeanSquaredError()._direction == "down"
    assert km.RootMeanSquaredError()._direction == "down"
    assert km.TruePositives()._direction is None and km.Mean()._direction is None


def test_wrapped_losses_point_down_like_keras():
    from kiln import losses

    assert km.MeanMetricWrapper(losses.mean_squared_error)._direction == "down"
    wrapped = km.get(losses.MeanSquaredError())
    assert wrapped._direction == "down" and wrapped.name == "mean_squared_error"


def test_dtype_and_repr():
    m = km.Mean(dtype="float16")
    assert m.dtype == "float16" and m.total.dtype == jnp.float16
    assert km.Mean(dtype="mixed_bfloat16").dtype == "bfloat16"
    assert repr(km.AUC()) == "<AUC name=auc>"
