"""A model that lists its own `metrics` (a tracker updated inside its `compute_loss`, as
Keras's VAE example does) logs exactly those, with Keras's values: its tracker's state lives
in the compiled step."""

import keras
import numpy as np

import kiln

X = np.random.default_rng(0).uniform(size=(32, 4)).astype("float32")


def _model(lib):
    class Reconstruct(lib.Model):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = lib.layers.Dense(2), lib.layers.Dense(4)
            self.total_loss_tracker = lib.metrics.Mean(name="total_loss")

        @property
        def metrics(self):
            return [self.total_loss_tracker]

        def call(self, x):
            return self.dec(self.enc(x))

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = lib.ops.mean(lib.ops.square(x - y_pred))
            self.total_loss_tracker.update_state(loss)
            return loss
    model = Reconstruct()
    model(X[:1])
    return model


def test_own_metrics_property_logs_as_keras():
    km, lm = _model(keras), _model(kiln)
    lm.set_weights(km.get_weights())
    results = {}
    for lib, model in ((keras, km), (kiln, lm)):
        model.compile(optimizer=lib.optimizers.Adam(0.01))
        history = model.fit(X, epochs=2, batch_size=8, verbose=0, shuffle=False)
        results[lib.__name__] = (history.history, model.evaluate(X, verbose=0, return_dict=True))
    (k_hist, k_eval), (l_hist, l_eval) = results["keras"], results["kiln"]
    assert sorted(l_hist) == sorted(k_hist) == ["total_loss"]
    np.testing.assert_allclose(l_hist["total_loss"], k_hist["total_loss"], rtol=1e-5)
    assert sorted(l_eval) == sorted(k_eval)
    for name in k_eval:
        np.testing.assert_allclose(l_eval[name], k_eval[name], rtol=1e-5)
    for got, want in zip(lm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
