"""A subclassed model built by `fit` (or an eager call) records its input shape, so its
`.keras` file carries Keras's `build_config` and a loaded copy is built before its weights
load: kiln -> kiln, kiln -> Keras and Keras -> kiln all predict what the saved model did."""

import keras
import numpy as np
import pytest

import kiln


def _model_class(lib):
    @lib.saving.register_keras_serializable(package="subclassed_save_parity")
    class TwoDense(lib.Model):
        def __init__(self, hidden=8, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.d1 = lib.layers.Dense(hidden, activation="relu")
            self.d2 = lib.layers.Dense(1)

        def call(self, x):
            return self.d2(self.d1(x))

        def get_config(self):
            return {**super().get_config(), "hidden": self.hidden}
    return TwoDense


CLASSES = {lib.__name__: _model_class(lib) for lib in (keras, kiln)}
X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
Y = np.random.default_rng(1).normal(size=(16, 1)).astype("float32")


@pytest.mark.parametrize("writer", [keras, kiln], ids=["keras-writes", "kiln-writes"])
def test_subclassed_model_files_load_built(writer, tmp_path):
    model = CLASSES[writer.__name__]()
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    want = np.asarray(model.predict(X, verbose=0))
    for reader in (keras, kiln):
        loaded = reader.saving.load_model(path)
        np.testing.assert_allclose(np.asarray(loaded.predict(X, verbose=0)), want, rtol=1e-5)
    # (Keras records the first batch's size; kiln records the batch as None)
    shape = kiln.saving.load_model(path).get_build_config()["input_shape"]
    assert tuple(shape)[1:] == (4,) and (writer is keras or tuple(shape) == (None, 4))
