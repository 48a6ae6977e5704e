"""Multi-output compile/fit/evaluate parity with Keras 3 (JAX backend).

A functional model with a sigmoid "flag" head and a linear "amount" head, Keras's initial
weights copied into kiln, shuffle off: History keys are identical (`flag_accuracy`,
`amount_loss`, `val_...`), values agree within 2e-4 relative, and so does
`evaluate(return_dict=True)`, for loss/loss_weights/metrics/weighted_metrics given as lists,
dicts keyed by output name, and a single loss broadcast to every output.
"""

import warnings

import keras
import numpy as np
import pytest

import kiln

N, FEATURES = 48, 5


def _model(lib, dict_outputs=False):
    inputs = lib.Input((FEATURES,), name="features")
    hidden = lib.layers.Dense(8, activation="relu", name="hidden")(inputs)
    flag = lib.layers.Dense(1, activation="sigmoid", name="flag")(hidden)
    amount = lib.layers.Dense(1, name="amount")(hidden)
    outputs = {"flag": flag, "amount": amount} if dict_outputs else [flag, amount]
    return lib.Model(inputs, outputs)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    flag = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")[:, None]
    amount = (x @ rng.normal(size=FEATURES) + 0.3).astype("float32")[:, None]
    weight = rng.uniform(0.2, 1.8, N).astype("float32")
    return x, flag, amount, weight


def _compile_args(lib, case):
    """compile() arguments of each case, built with `lib`'s own metric classes."""
    if case == "lists":
        return {"loss": ["binary_crossentropy", "mse"], "loss_weights": [1.0, 0.3],
                "metrics": [["accuracy"], ["mae"]], "weighted_metrics": [["bce"], ["mse"]]}
    if case == "dicts":
        return {"loss": {"flag": "binary_crossentropy", "amount": "mse"},
                "loss_weights": {"flag": 0.7, "amount": 0.2},
                "metrics": {"flag": ["accuracy"], "amount": ["mae"]},
                "weighted_metrics": {"flag": ["accuracy"], "amount": ["mae"]}}
    if case == "dict_outputs":
        return {"loss": {"flag": lib.losses.BinaryCrossentropy(), "amount": "mae"},
                "metrics": {"flag": [lib.metrics.AUC(name="auc"), "bce"],
                            "amount": ["mse", lib.metrics.R2Score()]},
                "weighted_metrics": {"flag": ["accuracy"]}}
    if case == "dict_outputs_lists":  # lists follow the sorted output keys, as in Keras
        return {"loss": ["mse", "mae"], "metrics": [["mae"], ["mse"]]}
    if case == "one_loss":  # one loss for both outputs; repeated metric names get _1
        return {"loss": "mse", "metrics": [["mae", "mae"], ["mae", "mse"]],
                "weighted_metrics": [[], ["mse"]]}
    assert case == "partial_loss"  # no loss (so no per-output loss tracker) for "amount"
    return {"loss": {"flag": "binary_crossentropy", "amount": None},
            "metrics": {"amount": ["mae"]}}


def _y(case, flag, amount):
    return {"flag": flag, "amount": amount} if "dict_outputs" in case else [flag, amount]


def _pair(case):
    dict_outputs = "dict_outputs" in case
    theirs, ours = _model(keras, dict_outputs), _model(kiln, dict_outputs)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer="sgd", **_compile_args(keras, case))
    ours.compile(optimizer="sgd", **_compile_args(kiln, case))
    return theirs, ours


def test_dict_losses_are_checked_against_their_own_outputs():
    model = _model(kiln, dict_outputs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", kiln.config.ConfigurationWarning)
        model.compile(optimizer="sgd", **_compile_args(kiln, "dict_outputs"))


def _assert_logs(expected, got, rtol=2e-4):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(expected[key]), rtol=rtol,
                                   atol=1e-6, err_msg=key)


FIT_CASES = ["lists", "dicts"]


@pytest.mark.parametrize("case", FIT_CASES)
def test_fit_history_and_evaluate_match_keras(case):
    x, flag, amount, weight = _data()
    theirs, ours = _pair(case)
    y = _y(case, flag, amount)
    fit_kwargs = {"epochs": 2, "batch_size": 16, "shuffle": False, "verbose": 0,
                  "validation_split": 0.25, "sample_weight": weight}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.fit(x, y, **fit_kwargs).history
        got = ours.fit(x, y, **fit_kwargs).history
    assert "val_loss" in expected and "flag_loss" in expected
    _assert_logs(expected, got)
    _assert_logs(theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True),
                 ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True))


@pytest.mark.parametrize("case", ["dict_outputs", "dict_outputs_lists", "one_loss",
                                  "partial_loss"])
def test_evaluate_names_and_values_match_keras(case):
    x, flag, amount, weight = _data()
    theirs, ours = _pair(case)
    y = _y(case, flag, amount)
    expected = theirs.evaluate(x, y, batch_size=16, sample_weight=weight, verbose=0,
                               return_dict=True)
    got = ours.evaluate(x, y, batch_size=16, sample_weight=weight, verbose=0,
                        return_dict=True)
    _assert_logs(expected, got, rtol=1e-5)


def test_single_output_list_and_shapes_match_keras():
    """`Model(i, [y])` returns `y` itself from call and predict; `input_shape` /
    `output_shape` list the flattened tensors' shapes (a dict of outputs gives a list)."""
    x = np.ones((2, 3), "float32")
    for lib in (keras, kiln):
        i = lib.Input((3,))
        a, b = lib.layers.Dense(2)(i), lib.layers.Dense(4)(i)
        single = lib.Model(i, [a])
        assert isinstance(single.predict(x, verbose=0), np.ndarray)
        assert not isinstance(single(x), (list, tuple))
        assert (single.input_shape, single.output_shape) == ((None, 3), (None, 2))
        assert lib.Model([i], a).input_shape == (None, 3)
        assert lib.Model(i, [a, b]).output_shape == [(None, 2), (None, 4)]
        assert lib.Model(i, {"a": a, "b": b}).output_shape == [(None, 2), (None, 4)]
