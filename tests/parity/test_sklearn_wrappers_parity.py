"""`kiln.wrappers` (scikit-learn estimators over kiln models) against `keras.wrappers`: the
same parameters, labels and shapes; inside sklearn's clone, pipelines and cross-validation;
and `clone_model` compiling the clone of a compiled model, as Keras's does."""

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kiln
from kiln.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 4)).astype("float32")
LABELS = np.where(X[:, 0] > 0, "pos", "neg")


def _builder(lib, activation=None):
    def build(X, y, units=4):
        inputs = lib.Input((X.shape[1],))
        hidden = lib.layers.Dense(units, activation="relu")(inputs)
        outputs = lib.layers.Dense(y.shape[1] if y.ndim > 1 else 1, activation=activation)(hidden)
        model = lib.Model(inputs, outputs)
        model.compile("adam", "categorical_crossentropy" if activation else "mse")
        return model
    return build


def test_classifier_matches_keras_wrapper_surface():
    kw = dict(model_kwargs={"units": 3}, fit_kwargs={"epochs": 2, "verbose": 0})
    ours = SKLearnClassifier(_builder(kiln, "softmax"), **kw).fit(X, LABELS)
    theirs = keras.wrappers.SKLearnClassifier(_builder(keras, "softmax"), **kw).fit(X, LABELS)
    assert list(ours.classes_) == list(theirs.classes_) == ["neg", "pos"]
    assert sorted(ours.get_params()) == sorted(theirs.get_params())
    assert set(ours.predict(X)) <= {"neg", "pos"} and ours.predict(X).shape == (30,)
    assert ours.decision_function(X[:5]).shape == theirs.decision_function(X[:5]).shape
    assert 0.0 <= ours.score(X, LABELS) <= 1.0
    assert ours.epoch_ == 2 and len(ours.history_.history["loss"]) == 2
    with pytest.raises(ValueError, match="one class"):
        SKLearnClassifier(_builder(kiln, "softmax")).fit(X, np.array(["a"] * 30), verbose=0)


def test_regressor_and_transformer_shapes_and_warm_start():
    y = X @ np.arange(4, dtype="float32")
    reg = SKLearnRegressor(_builder(kiln), fit_kwargs={"verbose": 0, "epochs": 3}).fit(X, y)
    theirs = keras.wrappers.SKLearnRegressor(_builder(keras),
                                             fit_kwargs={"verbose": 0}).fit(X, y)
    assert reg.predict(X).shape == theirs.predict(X).shape == (30,)
    assert np.isfinite(reg.score(X, y))
    warm = SKLearnRegressor(_builder(kiln), warm_start=True, fit_kwargs={"verbose": 0})
    first = warm.fit(X, y).model_
    assert warm.fit(X, y).model_ is first  # warm start keeps training the same model
    trs = SKLearnTransformer(_builder(kiln), fit_kwargs={"verbose": 0}).fit(X, y)
    assert trs.transform(X).shape == (30, 1)


def test_inside_sklearn_pipelines_clone_and_cross_validation():
    est = SKLearnClassifier(_builder(kiln, "softmax"), fit_kwargs={"epochs": 1, "verbose": 0})
    copy = clone(est)
    assert copy is not est and copy.get_params()["fit_kwargs"] == {"epochs": 1, "verbose": 0}
    pipe = make_pipeline(StandardScaler(), est).fit(X, LABELS)
    assert pipe.predict(X).shape == (30,)
    scores = cross_val_score(est, X, LABELS, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


def test_a_compiled_model_instance_is_cloned_with_its_compile_config():
    model = kiln.Sequential([kiln.Input((4,)), kiln.layers.Dense(1)])
    model.compile(kiln.optimizers.SGD(0.01), "mse", metrics=["mae"])
    twin = kiln.models.clone_model(model)
    assert twin.compiled and twin.optimizer is not model.optimizer
    assert twin.get_compile_config() == model.get_compile_config()
    reg = SKLearnRegressor(model, fit_kwargs={"verbose": 0}).fit(X, X[:, 0])
    assert reg.model_ is not model and reg.predict(X).shape == (30,)
    uncompiled = kiln.Sequential([kiln.Input((4,)), kiln.layers.Dense(1)])
    with pytest.raises(RuntimeError, match="compiled"):
        SKLearnRegressor(uncompiled).fit(X, X[:, 0])
