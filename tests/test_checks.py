"""Misconfigurations and bad inputs are caught before training, with messages that name the fix.

One table row per mistake: what the user does, what kiln raises (or warns), the argument the
message must name, and the fix it must give. Then the other side: legitimate configurations
(from the seeds and the parity tests) train without any warning.
"""

import warnings
from typing import Any, Callable, NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import layers
from kiln.config import ConfigurationWarning
from kiln.training import _checks, _data

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 4)).astype("float32")
LABELS = RNG.integers(0, 3, 16)
ONE_HOT = np.eye(3, dtype="float32")[LABELS]


def seq(units: int = 3, activation: Any = "softmax", features: int = 4) -> Any:
    return kiln.Sequential([kiln.Input((features,)), layers.Dense(units, activation=activation)])


def softmax_on_one_unit() -> Any:
    """Building it already warns (the softmax layer sees its size-1 axis), as Keras does."""
    with pytest.warns(UserWarning, match="that axis has size 1"):
        return seq(1, "softmax")


def compiled(loss: Any, units: int = 3, activation: Any = "softmax", metrics: Any = None,
             features: int = 4) -> Any:
    model = seq(units, activation, features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigurationWarning)  # rows test fit, not compile
        model.compile(optimizer="sgd", loss=loss, metrics=metrics)
    return model


def fit(model: Any, x: Any = X, y: Any = LABELS, **kwargs: Any) -> Any:
    return model.fit(x, y, verbose=0, **kwargs)


def with_nan(a: np.ndarray, index: tuple, value: float = np.nan) -> np.ndarray:
    a = np.array(a, dtype="float32")
    a[index] = value
    return a


def sparse_model() -> Any:
    return compiled("sparse_categorical_crossentropy")


class Join(layers.Layer):
    def call(self, inputs):
        return jnp.concatenate(inputs, axis=-1)


def two_inputs() -> Any:
    a, b = kiln.Input((4,), name="a"), kiln.Input((2,), name="b")
    model = kiln.Model([a, b], layers.Dense(3, activation="softmax")(Join()([a, b])))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def two_outputs() -> Any:
    x = kiln.Input((4,), name="x")
    model = kiln.Model(x, [layers.Dense(1, activation="sigmoid", name="flag")(x),
                           layers.Dense(3, activation="softmax", name="kind")(x)])
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "sparse_categorical_crossentropy"])
    return model


def checked_fit(model: Any, x: Any, y: Any = LABELS) -> Any:
    """The loop's order once wired: features are checked before the model is built on them."""
    _checks.check_inputs(model, _data.to_arrays(x, "x"))
    return fit(model, x, y)


def batches(*items: tuple) -> Any:
    return iter(items)


class Row(NamedTuple):
    name: str
    action: Callable[[], Any]
    expect: type
    argument: str  # the message names the argument (or the thing) at fault ...
    fix: str  # ... and the fix


ROWS = [
    # -- compile(): output activation against the loss -----------------------------------------
    Row("softmax on one unit", lambda: softmax_on_one_unit().compile(loss="binary_crossentropy"),
        ValueError, "softmax over a single unit", "activation='sigmoid'"),
    Row("sparse CE on one unit", lambda: seq(1, "sigmoid").compile(
        loss="sparse_categorical_crossentropy"), ValueError, "(1 unit, activation 'sigmoid')",
        "loss='binary_crossentropy'"),
    Row("categorical CE on one unit", lambda: seq(1, None).compile(
        loss=kiln.losses.CategoricalCrossentropy(from_logits=True)), ValueError,
        "loss='categorical_crossentropy'", "Dense(N, activation='softmax')"),
    Row("misspelt loss", lambda: seq().compile(loss="sparse_categorical_crossentropie"),
        ValueError, "sparse_categorical_crossentropie", "sparse_categorical_crossentropy"),
    Row("missing loss", lambda: seq(1, "sigmoid").compile(optimizer="adam"), ValueError,
        "needs a loss", "loss='binary_crossentropy'"),
    Row("metrics not a list", lambda: seq().compile(loss="mse", metrics="accuracy"), ValueError,
        "compile(metrics=...)", "metrics=['accuracy']"),
    Row("binary CE on a 10-unit softmax (seed 001)", lambda: seq(10, "softmax").compile(
        loss="binary_crossentropy"), ConfigurationWarning, "softmax",
        "for multi-label targets use activation='sigmoid'"),
    Row("from_logits on softmax", lambda: seq().compile(
        loss=kiln.losses.SparseCategoricalCrossentropy(from_logits=True)), ConfigurationWarning,
        "from_logits=True", "drop from_logits=True"),
    Row("from_logits on sigmoid", lambda: seq(1, "sigmoid").compile(
        loss=kiln.losses.BinaryCrossentropy(from_logits=True)), ConfigurationWarning,
        "applies sigmoid", "drop from_logits=True"),
    Row("probability loss on a linear output", lambda: seq(3, None).compile(
        loss="sparse_categorical_crossentropy"), ConfigurationWarning, "unbounded values",
        "kiln.losses.SparseCategoricalCrossentropy(from_logits=True)"),
    Row("categorical CE on sigmoid units", lambda: seq(3, "sigmoid").compile(
        loss="categorical_crossentropy"), ConfigurationWarning, "sigmoid units",
        "activation='softmax'"),
    # -- labels against the loss (first batch) ----------------------------------------------------
    Row("integer labels with categorical CE", lambda: fit(compiled("categorical_crossentropy")),
        ValueError, "`y` holds integer class labels of shape (16,)",
        "loss='sparse_categorical_crossentropy', or one-hot encode them with "
        "kiln.utils.to_categorical(y, 3)"),
    Row("one-hot labels with sparse CE", lambda: fit(sparse_model(), y=ONE_HOT), ValueError,
        "`y` looks one-hot", "loss='categorical_crossentropy', or pass y.argmax(axis=-1)"),
    Row("sparse label >= units", lambda: fit(sparse_model(), y=np.r_[LABELS[:15], 5]),
        ValueError, "from 0 to 5", "give the output layer 6 units"),
    Row("negative sparse label", lambda: fit(sparse_model(), y=np.r_[-1, LABELS[1:]]),
        ValueError, "first bad label -1 at index 0", "ignore_class=-1"),
    Row("one-based sparse labels", lambda: fit(sparse_model(), y=LABELS % 3 + 1), ValueError,
        "only allows 0 to 2", "subtract 1 (y - 1)"),
    Row("continuous targets with sparse CE", lambda: fit(sparse_model(), y=X[:, 0]), ValueError,
        "non-integer values", "loss='mean_squared_error'"),
    Row("binary CE with labels 0..3", lambda: fit(compiled("binary_crossentropy", 1, "sigmoid"),
                                                  y=np.arange(16) % 4),
        ValueError, "`y` holds 0, 1, 2, 3", "loss='sparse_categorical_crossentropy' with Dense(4"),
    Row("binary CE with -1/+1 labels", lambda: fit(compiled("binary_crossentropy", 1, "sigmoid"),
                                                   y=np.where(LABELS > 0, 1, -1)),
        ValueError, "smallest -1, largest 1", "(y + 1) / 2"),
    Row("binary CE, one label per sample, 3 sigmoid units",
        lambda: fit(compiled("binary_crossentropy", 3, "sigmoid"), y=(LABELS > 0) * 1),
        ValueError, "`y` has one label per sample", "loss='sparse_categorical_crossentropy'"),
    Row("mse on softmax with class labels", lambda: fit(compiled("mse")), ValueError,
        "compares every unit with `y`", "loss='sparse_categorical_crossentropy'"),
    Row("one-hot width differs from units", lambda: fit(compiled("categorical_crossentropy"),
                                                        y=np.eye(4)[LABELS]),
        ValueError, "shape (N, 3)", "give the output layer 4 unit(s) per class"),
    Row("accuracy on continuous regression targets",
        lambda: fit(compiled("mse", 1, None, metrics=["accuracy"]), y=X[:, :1]),
        ConfigurationWarning, "metric 'accuracy'", "metrics=['mae']"),
    Row("fit without labels", lambda: sparse_model().fit(X, verbose=0), ValueError,
        "y is None", "model.fit(x, y, ...)"),
    Row("evaluate with out-of-range labels", lambda: sparse_model().evaluate(
        X, np.r_[LABELS[:15], 7], verbose=0), ValueError, "from 0 to 7", "8 units"),
    Row("second output's labels", lambda: fit(two_outputs(), y=[(LABELS > 0) * 1, LABELS + 1]),
        ValueError, "`y for output 'kind'`", "subtract 1 (labels - 1)"),
    Row("generator with out-of-range labels", lambda: sparse_model().fit(
        batches((X, LABELS + 3)), verbose=0), ValueError, "from 3 to 5", "6 units"),
    # -- values of in-memory data --------------------------------------------------------------
    Row("NaN in x", lambda: fit(sparse_model(), x=with_nan(X, (5, 1))), ValueError,
        "`x` contains NaN at index (5, 1)", "kiln.config.set_check_finite(False)"),
    Row("inf in y", lambda: fit(compiled("mse", 1, None), y=with_nan(X[:, 0], 3, np.inf)),
        ValueError, "`y` contains +inf at index 3", "drop or impute those samples"),
    Row("NaN in sample_weight", lambda: fit(sparse_model(), sample_weight=with_nan(
        np.ones(16), 2)), ValueError, "`sample_weight` contains NaN at index 2", "impute"),
    Row("NaN in one input of a list", lambda: two_inputs().fit(
        [X, with_nan(X[:, :2], (0, 0), -np.inf)], LABELS, verbose=0), ValueError,
        "`x[1]` contains -inf at index (0, 0)", "set_check_finite(False)"),
    Row("NaN in the first generator batch", lambda: sparse_model().fit(
        batches((with_nan(X, (2, 0)), LABELS)), verbose=0), ValueError,
        "`x` contains NaN at index (2, 0) of the first batch", "impute"),
    Row("NaN in validation data", lambda: fit(sparse_model(), validation_data=(
        with_nan(X, (1, 1)), LABELS)), ValueError, "contains NaN at index (1, 1)", "impute"),
    Row("empty x", lambda: fit(sparse_model(), x=X[:0], y=LABELS[:0]), ValueError,
        "`x` is empty", "Pass at least one sample"),
    Row("lengths disagree", lambda: fit(sparse_model(), y=LABELS[:15]), ValueError,
        "x has 16, y has 15", "labels belong to these inputs"),
    Row("string labels", lambda: fit(sparse_model(), y=np.array(["a", "b"] * 8)), TypeError,
        "`y` has dtype <U1", "LabelEncoder"),
    # -- fit's arguments -------------------------------------------------------------------------
    Row("batch_size=0", lambda: fit(sparse_model(), batch_size=0), ValueError, "`batch_size`",
        "must be an int >= 1; received 0"),
    Row("epochs=0", lambda: fit(sparse_model(), epochs=0), ValueError, "`epochs`",
        "int >= 1; received 0"),
    Row("epochs as a string", lambda: fit(sparse_model(), epochs="3"), ValueError, "`epochs`",
        "must be an int"),
    Row("negative steps_per_epoch", lambda: fit(sparse_model(), steps_per_epoch=-1), ValueError,
        "`steps_per_epoch`", "int >= 1"),
    Row("validation_freq=0", lambda: fit(sparse_model(), validation_freq=0), ValueError,
        "validation_freq", "positive int"),
    Row("validation_split leaves no training sample", lambda: fit(
        sparse_model(), x=X[:2], y=LABELS[:2], validation_split=0.6), ValueError,
        "validation_split=0.6 on 2 samples", "another fraction"),
    Row("validation_split of 1.5", lambda: fit(sparse_model(), validation_split=1.5),
        ValueError, "validation_split", "received 1.5"),
    Row("fit before compile", lambda: seq().fit(X, LABELS, verbose=0), ValueError,
        "before fit()", "model.compile("),
    Row("evaluate before compile", lambda: seq().evaluate(X, LABELS, verbose=0), ValueError,
        "before evaluate()", "model.compile("),
    # -- features against the model's Input ----------------------------------------------------
    Row("too many features", lambda: checked_fit(sparse_model(), RNG.normal(size=(16, 5))),
        ValueError, "`x` has shape (16, 5): 5 features", "kiln.Input(shape=(5,))"),
    Row("images into a vector Input", lambda: checked_fit(sparse_model(), X.reshape(16, 2, 2)),
        ValueError, "expects rank 2, shape (None, 4)", "x.reshape(-1, 4)"),
    Row("dict input missing a key", lambda: checked_fit(two_inputs(), {"a": X, "bb": X[:, :2]}),
        ValueError, "missing ['b']", "'b' looks like 'bb'"),
    Row("one array for two inputs", lambda: checked_fit(two_inputs(), X), ValueError,
        "2 inputs ['a', 'b']", "pass a list with one array per input"),
    Row("unexpected dict key", lambda: checked_fit(two_inputs(), {"a": X, "b": X[:, :2],
                                                                  "c": X}),
        ConfigurationWarning, "keys ['c']", "drop them from the dict"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_mistake_is_caught_with_the_fix(row):
    if issubclass(row.expect, Warning):
        with pytest.warns(row.expect) as record:
            row.action()
        message = " ".join(str(w.message) for w in record if issubclass(w.category, row.expect))
    else:
        with pytest.raises(row.expect) as info:
            row.action()
        message = str(info.value)
    assert row.argument in message, message
    assert row.fix in message, message


def test_the_table_has_thirty_mistakes():
    assert len(ROWS) >= 30 and len({r.name for r in ROWS}) == len(ROWS)


def test_loop_checks_features_before_building():
    with pytest.raises(ValueError, match="5 features"):
        fit(sparse_model(), x=RNG.normal(size=(16, 5)))


def test_loop_checks_every_in_memory_label():
    with pytest.raises(ValueError, match="from 0 to 9"):
        fit(sparse_model(), y=np.r_[LABELS[:15], 9], batch_size=4)


def test_check_batch_sees_all_labels_when_given_all_data():
    model = sparse_model()
    fit(model, y=LABELS)
    with pytest.raises(ValueError, match="first bad label 9 at index 15"):
        _checks.check_batch(model, (X, np.r_[LABELS[:15], 9], None), first=True, whole_data=True)


def test_ignore_class_labels_are_not_out_of_range():
    model = compiled(kiln.losses.SparseCategoricalCrossentropy(ignore_class=-1))
    fit(model, y=np.r_[-1, LABELS[1:]])
    with pytest.raises(ValueError, match="from -2 to 2"):
        fit(model, y=np.r_[-2, LABELS[1:]])


def test_finite_check_can_be_turned_off():
    kiln.config.set_check_finite(False)
    try:
        assert not kiln.config.check_finite_enabled()
        history = fit(sparse_model(), x=with_nan(X, (0, 0)), batch_size=16)
        assert np.isnan(history.history["loss"][0])
    finally:
        kiln.config.set_check_finite(True)


def test_debug_checks_cover_every_generator_batch():
    model = sparse_model()
    fit(model)
    stream = [(X, LABELS, None), (X, LABELS + 5, None)]
    assert len(list(_checks.checked_stream(model, iter(stream)))) == 2  # off by default
    kiln.config.enable_debug_checks()
    try:
        assert kiln.config.debug_checks_enabled()
        with pytest.raises(ValueError, match="from 5 to 7"):
            list(_checks.checked_stream(model, iter(stream)))
        nan_batch = [(X, LABELS, None), (with_nan(X, (3, 2)), LABELS, None)]
        with pytest.raises(ValueError, match=r"index \(3, 2\) of a batch from the generator"):
            list(_checks.checked_stream(model, iter(nan_batch)))
        wide = [(X, LABELS, None), (np.ones((16, 5), "float32"), LABELS, None)]
        with pytest.raises(ValueError, match="5 features per sample"):
            list(_checks.checked_stream(model, iter(wide)))
    finally:
        kiln.config.disable_debug_checks()


def test_warnings_point_at_the_users_line():
    with pytest.warns(ConfigurationWarning) as record:
        seq(10, "softmax").compile(loss="binary_crossentropy")
    assert record[0].filename == __file__
    model = compiled("mse", 1, None, metrics=["accuracy"])
    with pytest.warns(ConfigurationWarning) as record:
        model.evaluate(X, X[:, :1], verbose=0)
    assert record[0].filename == __file__


def _multi_label() -> tuple:
    y = (LABELS[:, None] == [0, 1, 2]) | (RNG.random((16, 3)) > 0.7)
    return seq(3, "sigmoid"), "binary_crossentropy", y * 1, ["accuracy"]


def _subclassed() -> Any:
    class Net(kiln.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(5, activation="relu")
            self.out = layers.Dense(3, activation="softmax")

        def call(self, x, training=None):
            return self.out(self.hidden(x))

    return Net()


LEGITIMATE = [  # (model, loss, y, metrics) as in the seeds, the parity tests and common use
    lambda: (seq(1, "sigmoid"), "binary_crossentropy", (LABELS > 0) * 1, ["accuracy", "auc"]),
    lambda: (seq(1, "sigmoid"), "bce", (LABELS > 0).astype("float32")[:, None], ["acc"]),
    lambda: (seq(1, None), kiln.losses.BinaryCrossentropy(from_logits=True), LABELS > 0, None),
    lambda: (seq(1, "sigmoid"), kiln.losses.BinaryCrossentropy(label_smoothing=0.1),
             RNG.random(16), ["mse"]),
    lambda: (seq(), "categorical_crossentropy", ONE_HOT, ["accuracy", "mae"]),
    lambda: (seq(3, None), kiln.losses.CategoricalCrossentropy(from_logits=True), ONE_HOT, None),
    lambda: (seq(), "sparse_categorical_crossentropy", LABELS, ["accuracy", "acc"]),
    lambda: (seq(), "sparse_categorical_crossentropy", LABELS[:, None].astype("float32"), None),
    lambda: (seq(3, None), kiln.losses.SparseCategoricalCrossentropy(from_logits=True), LABELS,
             None),
    lambda: (seq(1, None), "mse", X[:, :1], ["mae"]),
    lambda: (seq(1, None), "mean_absolute_error", X[:, 0], None),
    lambda: (seq(1, None), "mean_squared_error", (LABELS > 0)[:, None] * 1, ["mae"]),
    lambda: (seq(), "mse", ONE_HOT, ["accuracy"]),  # Brier score on one-hot labels
    lambda: (seq(), "crossentropy", LABELS, ["accuracy"]),
    lambda: (_subclassed(), "sparse_categorical_crossentropy", LABELS, ["accuracy"]),
    _multi_label,
]


@pytest.mark.parametrize("make", LEGITIMATE, ids=range(len(LEGITIMATE)))
def test_legitimate_configurations_train_without_any_warning(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model, loss, y, metrics = make()
        model.compile(optimizer="adam", loss=loss, metrics=metrics)
        model.fit(X, y, batch_size=16, epochs=1, verbose=0, sample_weight=np.ones(16))


def test_functional_and_dict_inputs_without_any_warning():
    a, b = kiln.Input((4,), name="a"), kiln.Input((2,), name="b")
    model = kiln.Model({"a": a, "b": b}, layers.Dense(1, activation="sigmoid")(a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        data = {"a": X, "b": X[:, :2]}
        _checks.check_inputs(model, data)
        model.fit(data, (LABELS > 0) * 1, epochs=1, verbose=0)
        model.fit(batches((data, (LABELS > 0) * 1)), epochs=1, verbose=0)
        assert np.isfinite(model.evaluate(data, (LABELS > 0) * 1, verbose=0)).all()
