"""The scikit-learn estimators over kiln models (Keras's `keras.wrappers` behaviour).

scikit-learn is an optional extra: without it the classes exist, and making one raises an
ImportError naming `pip install "kiln[sklearn]"`.

Example:
    >>> import numpy as np, kiln
    >>> def build(X, y):
    ...     model = kiln.Sequential([kiln.Input((X.shape[1],)), kiln.layers.Dense(1)])
    ...     model.compile("sgd", "mse")
    ...     return model
    >>> X, y = np.ones((8, 3)), np.ones(8)
    >>> SKLearnRegressor(build, fit_kwargs={"verbose": 0}).fit(X, y).predict(X).shape
    (8,)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from kiln.models import Model, clone_model

try:  # the optional extra; the classes fall back to plain bases without it
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - exercised where scikit-learn is absent
    sklearn = None
    BaseEstimator = ClassifierMixin = RegressorMixin = TransformerMixin = object

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def _require_sklearn(name: str) -> None:
    if sklearn is None:
        raise ImportError(f"{name} needs scikit-learn, which is not installed. Fix: "
                          'pip install "kiln[sklearn]" (or pip install scikit-learn).')


class SKLBase(BaseEstimator):
    """What the three estimators share: building, checking and fitting the model.

    Args:
        model: a compiled `Model` (cloned, with its compile configuration, for each fit
            unless `warm_start`), or a callable `model(X=X, y=y, **model_kwargs)` that
            returns a compiled model.
        warm_start: reuse the model (and its weights) of the previous `fit`.
        model_kwargs: keyword arguments for a callable `model`.
        fit_kwargs: keyword arguments for `Model.fit` (those given to `fit` take precedence).
    """

    def __init__(self, model: Any, warm_start: bool = False, model_kwargs: dict | None = None,
                 fit_kwargs: dict | None = None):
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_clone__(self) -> "SKLBase":
        model = self.model if callable(self.model) and not isinstance(self.model, Model) \
            else copy.deepcopy(self.model)
        return type(self)(model=model, warm_start=self.warm_start,
                          model_kwargs=self.model_kwargs, fit_kwargs=self.fit_kwargs)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    @property
    def epoch_(self) -> int:
        """How many epochs the last fit ran."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def _get_model(self, X: np.ndarray, y: np.ndarray) -> Model:
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            return clone_model(self.model)
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X: Any, y: Any, **kwargs: Any) -> "SKLBase":
        """Fits a (new, unless `warm_start`) model on `X`, `y`; `kwargs` go to `Model.fit`."""
        X, y = validate_data(self, X, y, multi_output=True)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        if not getattr(model, "compiled", False) or model.optimizer is None:
            raise RuntimeError("The model must be compiled with a loss and an optimizer. "
                               f"Received an uncompiled {type(model).__name__}. Fix: call "
                               "model.compile(optimizer=..., loss=...) before wrapping it "
                               "(or in the function that builds it).")
        self.history_ = model.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.model_ = model
        return self

    def _predict_raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=0))

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        if reset:
            self._target_ndim = np.ndim(y)
        return y.reshape(-1, 1) if np.ndim(y) == 1 else y

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        if getattr(self, "_target_ndim", 2) == 1 and y.ndim == 2 and y.shape[1] == 1:
            return y[:, 0]
        return y

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions, in the targets' form (1-D for 1-D targets)."""
        return self._reverse_process_target(self._predict_raw(X))


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A classifier: the targets (any labels, binary or multiclass) are one-hot encoded for
    the model, and `predict` gives labels back (the argmax of the model's outputs).
    `classes_` lists the labels; `decision_function` gives the raw outputs."""

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError("Only binary and multiclass target types are supported. "
                             f"Received targets of type {kind!r}.")
        flat = np.ravel(y)
        if reset:
            self._labels = LabelEncoder().fit(flat)
            self.classes_ = self._labels.classes_
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
            self._target_ndim = np.ndim(y)
        codes = self._labels.transform(flat)
        return np.eye(len(self.classes_), dtype="float32")[codes]

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(y, axis=-1)]

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's raw outputs."""
        return self._predict_raw(X)


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A regressor: targets go to the model as they are (1-D targets as a column)."""


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A transformer: `transform(X)` is the fitted model's output (e.g. an embedding)."""

    def transform(self, X: Any) -> np.ndarray:
        """The fitted model's outputs for `X`."""
        return self._predict_raw(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
