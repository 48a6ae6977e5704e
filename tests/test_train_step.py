"""Custom step overrides: kiln refuses them clearly instead of training its default step."""

import numpy as np
import pytest

import kiln


class _Net(kiln.Model):
    def __init__(self):
        super().__init__()
        self.dense = kiln.layers.Dense(1)

    def call(self, x):
        return self.dense(x)


class _CustomTrain(_Net):
    def train_step(self, state, data):
        raise AssertionError("never reached")


class _CustomPredict(_Net):
    def predict_step(self, state, data):
        raise AssertionError("never reached")


def test_plain_model_has_no_override():
    from kiln.training._custom_step import overridden_steps
    assert overridden_steps(_Net()) == []
    assert overridden_steps(_CustomTrain()) == ["train_step"]


@pytest.mark.parametrize("cls, call", [(_CustomTrain, "fit"), (_CustomPredict, "predict")])
def test_override_raises_instead_of_running_default_step(cls, call):
    model = cls()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), np.float32)
    y = np.ones((4, 1), np.float32)
    with pytest.raises(NotImplementedError, match="overrides .*_step.*compute_loss"):
        if call == "fit":
            model.fit(x, y, epochs=1, verbose=0)
        else:
            model.predict(x, verbose=0)
