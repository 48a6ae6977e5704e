"""fit/evaluate parity with Keras 3 (JAX backend) on the same weights and data.

Same architecture, Keras's initial weights copied into kiln with set_weights, shuffle=False:
per-epoch losses agree within 2e-4 relative and final weights within 1e-3, for every optimizer
and loss of the foundation issue; evaluate() metrics agree within 1e-4 with the same names.
"""

import keras
import numpy as np
import pytest

import kiln

N, FEATURES, EPOCHS, BATCH = 70, 6, 3, 16  # 70 = 4 full batches + a partial one


def _data(task: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    if task == "binary":
        y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    elif task == "sparse":
        y = (np.digitize(x[:, 0], [-0.5, 0.5])).astype("int32")
    elif task == "onehot":
        y = np.eye(3, dtype="float32")[np.digitize(x[:, 0], [-0.5, 0.5])]
    else:
        y = (x @ rng.normal(size=FEATURES) + 0.1).astype("float32")[:, None]
    return x, y


def _pair(units: int, activation, hidden_regularizer=None):
    """A Keras model and the same kiln model holding Keras's initial weights."""
    km = keras.Sequential([keras.Input((FEATURES,)),
                           keras.layers.Dense(8, activation="relu",
                                              kernel_regularizer=hidden_regularizer),
                           keras.layers.Dense(units, activation=activation)])
    nm = kiln.Sequential([kiln.Input((FEATURES,)),
                          kiln.layers.Dense(8, activation="relu",
                                            kernel_regularizer=hidden_regularizer),
                          kiln.layers.Dense(units, activation=activation)])
    nm.set_weights(km.get_weights())
    return km, nm


def _fit_both(km, nm, x, y, compile_kwargs, fit_kwargs=None, kiln_compile=None):
    fit_kwargs = {"epochs": EPOCHS, "batch_size": BATCH, "shuffle": False, "verbose": 0,
                  **(fit_kwargs or {})}
    km.compile(**compile_kwargs)
    nm.compile(**(kiln_compile or compile_kwargs))
    kh = km.fit(x, y, **fit_kwargs).history
    nh = nm.fit(x, y, **fit_kwargs).history
    return kh, nh


def _assert_history(kh, nh, rtol=2e-4):
    assert sorted(kh) == sorted(nh)
    for key in kh:
        np.testing.assert_allclose(nh[key], kh[key], rtol=rtol, atol=1e-6, err_msg=key)


def _assert_weights(km, nm, tol=1e-3):
    for kw, nw in zip(km.get_weights(), nm.get_weights()):
        np.testing.assert_allclose(nw, kw, rtol=tol, atol=tol)


OPTIMIZERS = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("Adadelta", {"learning_rate": 1.0}),
    ("Adagrad", {"learning_rate": 0.05}), ("Nadam", {}),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[f"{n}-{k}" for n, k in OPTIMIZERS])
def test_optimizer_trajectories_match_keras(name, kwargs):
    x, y = _data("sparse")
    km, nm = _pair(3, "softmax")
    common = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    kh, nh = _fit_both(km, nm, x, y, {"optimizer": getattr(keras.optimizers, name)(**kwargs),
                                      **common},
                       kiln_compile={"optimizer": getattr(kiln.optimizers, name)(**kwargs),
                                     **common})
    _assert_history(kh, nh)
    _assert_weights(km, nm)


LOSSES = [
    ("binary", 1, "sigmoid", "binary_crossentropy"),
    ("binary", 1, "sigmoid", "bce"),
    ("binary", 1, None, ("BinaryCrossentropy", {"from_logits": True})),
    ("binary", 1, "sigmoid", ("BinaryCrossentropy", {"label_smoothing": 0.1})),
    ("onehot", 3, "softmax", "categorical_crossentropy"),
    ("onehot", 3, None, ("CategoricalCrossentropy", {"from_logits": True,
                                                     "label_smoothing": 0.2})),
    ("sparse", 3, "softmax", "sparse_categorical_crossentropy"),
    ("sparse", 3, None, ("SparseCategoricalCrossentropy", {"from_logits": True})),
    ("regression", 1, None, "mean_squared_error"),
    ("regression", 1, None, "mse"),
    ("regression", 1, None, "mean_absolute_error"),
    ("regression", 1, None, ("MeanAbsoluteError", {})),
]


def _loss(lib, spec):
    if isinstance(spec, str):
        return spec
    name, kwargs = spec
    return getattr(lib.losses, name)(**kwargs)


@pytest.mark.parametrize("task,units,activation,loss", LOSSES, ids=[str(l[3]) for l in LOSSES])
def test_loss_trajectories_match_keras(task, units, activation, loss):
    x, y = _data(task)
    km, nm = _pair(units, activation)
    kh, nh = _fit_both(km, nm, x, y, {"optimizer": keras.optimizers.Adam(0.01),
                                      "loss": _loss(keras, loss)},
                       kiln_compile={"optimizer": kiln.optimizers.Adam(0.01),
                                     "loss": _loss(kiln, loss)})
    _assert_history(kh, nh)
    _assert_weights(km, nm)


def test_validation_sample_weight_and_regularizer_match_keras():
    x, y = _data("binary")
    sw = np.linspace(0.5, 2.0, N).astype("float32")
    km, nm = _pair(1, "sigmoid", hidden_regularizer="l2")
    common = {"loss": "binary_crossentropy", "metrics": ["accuracy"],
              "weighted_metrics": ["accuracy"]}
    kh, nh = _fit_both(km, nm, x, y, {"optimizer": keras.optimizers.RMSprop(), **common},
                       fit_kwargs={"sample_weight": sw, "validation_split": 0.2},
                       kiln_compile={"optimizer": kiln.optimizers.RMSprop(), **common})
    _assert_history(kh, nh)
    _assert_weights(km, nm)


def test_class_weight_matches_keras():
    x, y = _data("sparse")
    km, nm = _pair(3, "softmax")
    common = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    kh, nh = _fit_both(km, nm, x, y, {"optimizer": keras.optimizers.SGD(0.1), **common},
                       fit_kwargs={"class_weight": {0: 1.0, 1: 3.0, 2: 0.5}},
                       kiln_compile={"optimizer": kiln.optimizers.SGD(0.1), **common})
    _assert_history(kh, nh)


@pytest.mark.parametrize("steps_per_execution", [2, 3])
def test_steps_per_execution_gives_the_same_numbers(steps_per_execution):
    x, y = _data("sparse")
    km, nm = _pair(3, "softmax")
    kh, nh = _fit_both(
        km, nm, x, y,
        {"optimizer": keras.optimizers.Adam(), "loss": "sparse_categorical_crossentropy",
         "metrics": ["accuracy"]},
        kiln_compile={"optimizer": kiln.optimizers.Adam(), "metrics": ["accuracy"],
                      "loss": "sparse_categorical_crossentropy",
                      "steps_per_execution": steps_per_execution})
    _assert_history(kh, nh)
    _assert_weights(km, nm)


EVAL_CASES = [
    ("binary", 1, "sigmoid", "binary_crossentropy",
     ["accuracy", "precision", "recall", "auc", "mse"]),
    ("binary", 1, "sigmoid", "binary_crossentropy",
     ["acc", ("AUC", {"curve": "PR"}), ("AUC", {"num_thresholds": 50})]),
    ("sparse", 3, "softmax", "sparse_categorical_crossentropy", ["accuracy", "acc"]),
    ("onehot", 3, "softmax", "categorical_crossentropy", ["accuracy", "mae"]),
    ("regression", 1, None, "mse", ["mae", "mean_squared_error"]),
]


def _metrics(lib, specs):
    return [s if isinstance(s, str) else getattr(lib.metrics, s[0])(**s[1]) for s in specs]


@pytest.mark.parametrize("task,units,activation,loss,metrics", EVAL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(EVAL_CASES)])
def test_evaluate_metrics_match_keras(task, units, activation, loss, metrics):
    x, y = _data(task, seed=1)
    km, nm = _pair(units, activation)
    km.compile(optimizer="adam", loss=loss, metrics=_metrics(keras, metrics))
    nm.compile(optimizer="adam", loss=loss, metrics=_metrics(kiln, metrics))
    kr = km.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    nr = nm.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    assert sorted(nr) == sorted(kr)
    for key in kr:
        np.testing.assert_allclose(nr[key], kr[key], rtol=1e-4, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(nm.predict(x, verbose=0), km.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


OPTION_CASES = [
    ("Adam", {"use_ema": True, "ema_momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "clipnorm": 0.5}),
    ("RMSprop", {"global_clipnorm": 1.0, "weight_decay": 0.01}),
    ("AdamW", {}),
    ("Adam", {"gradient_accumulation_steps": 2}),
]


@pytest.mark.parametrize("name,kwargs", OPTION_CASES, ids=[f"{n}-{k}" for n, k in OPTION_CASES])
def test_optimizer_options_through_fit_match_keras(name, kwargs):
    x, y = _data("sparse")
    km, nm = _pair(3, "softmax")
    common = {"loss": "sparse_categorical_crossentropy"}
    kh, nh = _fit_both(km, nm, x, y, {"optimizer": getattr(keras.optimizers, name)(**kwargs),
                                      **common},
                       kiln_compile={"optimizer": getattr(kiln.optimizers, name)(**kwargs),
                                     **common})
    _assert_history(kh, nh)
    _assert_weights(km, nm)


def test_learning_rate_schedule_through_fit_matches_keras():
    x, y = _data("regression")
    km, nm = _pair(1, None)
    ks = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    ns = kiln.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    kh, nh = _fit_both(km, nm, x, y, {"optimizer": keras.optimizers.SGD(ks), "loss": "mse"},
                       kiln_compile={"optimizer": kiln.optimizers.SGD(ns), "loss": "mse"})
    _assert_history(kh, nh)
    _assert_weights(km, nm)
