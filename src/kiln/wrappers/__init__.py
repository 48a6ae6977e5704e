"""`keras.wrappers`: kiln models as scikit-learn estimators (needs `pip install "kiln[sklearn]"`).

`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer` take a compiled model, or a
callable `model(X=..., y=..., **model_kwargs)` that returns one, and fit it inside
scikit-learn's pipelines, grid searches and cross-validation.
"""

from kiln.wrappers._sklearn import SKLearnClassifier as SKLearnClassifier
from kiln.wrappers._sklearn import SKLearnRegressor as SKLearnRegressor
from kiln.wrappers._sklearn import SKLearnTransformer as SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
