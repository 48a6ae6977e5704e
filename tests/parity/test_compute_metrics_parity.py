"""A `compute_metrics` override with the built-in train/test steps, against Keras: the
override runs inside the compiled step (k steps per call too), its metrics' variables are
state of the step, and what it returns is what fit/evaluate log."""

import keras
import numpy as np
import pytest

import kiln


def _net(lib, call_super):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1, kernel_initializer="ones")
            self.mae_tracker = lib.metrics.MeanAbsoluteError(name="my_mae")
            self.seen = lib.metrics.Sum(name="seen")

        def call(self, x):
            return self.dense(x)

        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            logs = super().compute_metrics(x, y, y_pred, sample_weight) if call_super else {}
            self.mae_tracker.update_state(y, y_pred)
            self.seen.update_state(lib.ops.sum(lib.ops.ones_like(y)))
            logs["my_mae"] = self.mae_tracker.result()
            logs["seen"] = self.seen.result()
            return logs
    return Net()


DATA = np.random.default_rng(0).normal(size=(2, 32, 3)).astype("float32")


def _run(lib, call_super, spe):
    model = _net(lib, call_super)
    # Without super(), Keras's unbuilt compile_metrics cannot report: compile none then.
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse",
                  metrics=["mae"] if call_super else None, steps_per_execution=spe)
    x, y = DATA[0], DATA[1][:, :1]
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    evaluated = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    return history.history, evaluated, model.get_weights()


@pytest.mark.parametrize("call_super,spe", [(True, 1), (False, 2)])
def test_compute_metrics_override_logs_as_keras(call_super, spe):
    k_hist, k_eval, k_weights = _run(keras, call_super, spe)
    l_hist, l_eval, l_weights = _run(kiln, call_super, spe)
    assert sorted(l_hist) == sorted(k_hist)
    assert sorted(l_eval) == sorted(k_eval)
    for name in k_hist:
        np.testing.assert_allclose(l_hist[name], k_hist[name], rtol=1e-5, err_msg=name)
    for name in k_eval:
        np.testing.assert_allclose(l_eval[name], k_eval[name], rtol=1e-5, err_msg=name)
    for got, want in zip(l_weights, k_weights):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    assert l_hist["seen"] == [32.0, 32.0]  # every metric of `model.metrics` resets each epoch


def test_default_compute_metrics_and_get_metrics_result():
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(DATA[0], DATA[1][:, :1], epochs=1, verbose=0)
    result = model.get_metrics_result()
    assert sorted(result) == ["loss", "mae"]
    assert float(result["loss"]) > 0
