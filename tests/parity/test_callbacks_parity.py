"""Callback parity with Keras 3: the same hand-made sequence of epoch logs drives Keras's and
kiln's EarlyStopping, ReduceLROnPlateau and LearningRateScheduler (no training); the stop
epoch, best value, waits and learning-rate sequences agree. (NaN-free sequences only: kiln
never takes a NaN as an improvement, where Keras may.)"""

import keras
import numpy as np
import pytest

from kiln import callbacks as kcb

SEQUENCES = {
    "plateau": [1.0, 0.9, 0.9, 0.95, 0.89, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8],
    "noisy": [float(v) for v in 1 + 0.1 * np.sin(np.arange(14) * 1.7) - 0.02 * np.arange(14)],
}


class _Opt:
    def __init__(self):
        self.learning_rate = 1.0


class _Model:
    """Enough of a model for both libraries' callbacks (Keras's reads metrics, optimizer)."""

    def __init__(self):
        self.stop_training = False
        self.optimizer = _Opt()
        self.metrics = []
        self._w = [np.zeros(1)]

    def get_weights(self):
        return list(self._w)

    def set_weights(self, weights):
        self._w = list(weights)


def _run(cb, values, key="val_loss"):
    model = _Model()
    cb.set_model(model)
    cb.on_train_begin()
    trace = []
    for epoch, value in enumerate(values):
        cb.on_epoch_begin(epoch)
        logs = {key: value}
        cb.on_epoch_end(epoch, logs)
        trace.append((float(np.asarray(model.optimizer.learning_rate)),
                      logs.get("learning_rate"), getattr(cb, "wait", None)))
        if model.stop_training:
            break
    cb.on_train_end()
    return trace, getattr(cb, "stopped_epoch", None), getattr(cb, "best", None)


@pytest.mark.parametrize("name", sorted(SEQUENCES))
@pytest.mark.parametrize("kwargs", [dict(patience=2), dict(patience=1, min_delta=0.05),
                                    dict(patience=3, baseline=0.92),
                                    dict(patience=0, start_from_epoch=3),
                                    dict(patience=2, mode="max")])
def test_early_stopping_matches_keras(name, kwargs):
    ours = _run(kcb.EarlyStopping(**kwargs), SEQUENCES[name])
    theirs = _run(keras.callbacks.EarlyStopping(**kwargs), SEQUENCES[name])
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(SEQUENCES))
@pytest.mark.parametrize("kwargs", [dict(patience=1, factor=0.5),
                                    dict(patience=2, factor=0.1, cooldown=2, min_lr=0.005),
                                    dict(patience=0, factor=0.5, min_delta=0.05, mode="min")])
def test_reduce_lr_on_plateau_matches_keras(name, kwargs):
    ours = _run(kcb.ReduceLROnPlateau(**kwargs), SEQUENCES[name])
    theirs = _run(keras.callbacks.ReduceLROnPlateau(**kwargs), SEQUENCES[name])
    np.testing.assert_allclose([t[:2] for t in ours[0]], [t[:2] for t in theirs[0]], rtol=1e-6)
    assert [t[2] for t in ours[0]] == [t[2] for t in theirs[0]]


@pytest.mark.parametrize("schedule", [lambda epoch: 0.1 / (epoch + 1),
                                      lambda epoch, lr: lr * 0.9 if epoch > 2 else lr])
def test_learning_rate_scheduler_matches_keras(schedule):
    ours = _run(kcb.LearningRateScheduler(schedule), SEQUENCES["plateau"])
    theirs = _run(keras.callbacks.LearningRateScheduler(schedule), SEQUENCES["plateau"])
    np.testing.assert_allclose([t[:2] for t in ours[0]], [t[:2] for t in theirs[0]], rtol=1e-6)
